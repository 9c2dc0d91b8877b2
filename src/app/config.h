/* config.h - the daemon's configuration file (YAML, read with libyaml).
 *
 * Every setting has one row in a table in config.c: name, type, default,
 * bounds and validator. A bad file is reported as `file:line:column: what is
 * wrong` (1-based, from libyaml's marks), unknown keys and wrong types
 * included. No file at all means the defaults, alert rules included; a file
 * without an `alerts` key keeps the built-in rules, `alerts: []` has none.
 *
 *   listen: 0.0.0.0:9477
 *   interval: 2s
 *   windows: [1m, 5m]
 *   history: 15m
 *   max_cgroups: 4096
 *   max_ports: 16
 *   max_alerts: 1000
 *   admin_token: s3cret
 *   log_format: text            # or json
 *   labels: {cluster: prod}     # added to every alert sent
 *   health:
 *     runq_p99: {good: 2ms, bad: 50ms, weight: 30}
 *   alerts:
 *     - name: ContainerRunqueueLatencyHigh
 *       metric: runq_p99         # see kp_metric_info
 *       scope: container         # or node
 *       match: "web*"            # glob on container name, id or cgroup
 *       op: above                # or below
 *       threshold: 50ms
 *       clear: 25ms              # hysteresis: resolves only below this
 *       for: 1m
 *       window: 1m               # for windowed metrics
 *       severity: warning        # info, warning, critical
 *       summary: "..."
 *   runtimes:                   # where container names come from
 *     host_root: /host           # prefix for every path below
 *     docker: [/var/lib/docker]  # (the defaults; lists of up to 4)
 *     containers_storage: [/var/lib/containers/storage]
 *     containerd: [/run/containerd]
 *     kubelet_logs: /var/log
 *     refresh: 1s
 *   receivers:
 *     alertmanager: [http://127.0.0.1:9093]
 *     webhook: [http://127.0.0.1:8080/hook]
 *     timeout: 5s
 *     queue_size: 256
 *     retries: 5
 *     backoff: 1s
 *     resend_interval: 1m
 */
#ifndef KPULSE_CONFIG_H
#define KPULSE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "analysis/alert_rules.h"
#include "analysis/health.h"
#include "collect/rtpaths.h"
#include "outputs/notify.h"

#define KP_CFG_MAX_WINDOWS 4	/* = KP_MAX_WINDOWS of the analysis */
#define KP_CFG_MAX_RULES 64
#define KP_CFG_MAX_LABELS 8

enum kp_log_format { KP_LOG_TEXT = 0, KP_LOG_JSON };

struct kp_cfg_label {
	char name[KP_CFG_NAME_MAX];
	char value[KP_CFG_TEXT_MAX];
};

struct kp_config {
	char listen[KP_CFG_TEXT_MAX];
	uint64_t interval_ns;
	uint64_t windows_ns[KP_CFG_MAX_WINDOWS];	/* ascending */
	unsigned int n_windows;
	uint64_t history_ns;
	unsigned int max_cgroups;
	unsigned int max_ports;
	unsigned int rtt_sample;	/* tcp_probe: one segment in this many */
	unsigned int max_alerts;	/* active alerts kept; more are dropped */
	char admin_token[KP_CFG_TEXT_MAX];	/* "" = acks are off (403) ... */
	int acks_open;		/* ... unless this is 1: then they need no token */
	enum kp_log_format log_format;
	int bpf_stats;		/* enum kp_bpf_stats (loader.h) */
	char user[KP_CFG_NAME_MAX];	/* run as this user once attached; "" stay */
	int seccomp;		/* 1: filter the running daemon's system calls */
	char web_config[KP_CFG_TEXT_MAX];	/* TLS and basic auth; "" plain HTTP */
	struct kp_cfg_label labels[KP_CFG_MAX_LABELS];
	unsigned int n_labels;
	struct kp_factor_cfg factors[KP_F_MAX];
	struct kp_rule rules[KP_CFG_MAX_RULES];
	unsigned int n_rules;
	struct kp_receivers receivers;
	/* empty lists and "" take runtimes.h's defaults (kp_config_runtimes) */
	struct kp_runtimes_paths runtimes;
	uint32_t pinned;	/* top-level keys set on the command line */
};

/* Every setting at its default, the built-in alert rules included. */
void kp_config_defaults(struct kp_config *cfg);

/* Read @path over the defaults. Returns 0, or a negative errno with one
 * line in @err: "path:line:col: what is wrong" for a bad file, "path: why"
 * when it cannot be read. @cfg is left untouched on error. */
int kp_config_load(const char *path, struct kp_config *cfg, char *err, size_t errlen);
/* The same from a buffer; @name is used in messages. */
int kp_config_parse(const char *name, const char *buf, size_t len,
		    struct kp_config *cfg, char *err, size_t errlen);

/* Pin top-level @key (as named in the file): set on the command line, it
 * keeps its value across reloads. 0, or -ENOENT for an unknown key. */
int kp_config_pin(struct kp_config *cfg, const char *key);

/* Merge a re-read file @next with the running @run, as each key's row in
 * the table says: keys that apply only at start, and pinned keys, keep
 * their running value. @note is called with one line per change (a
 * restart-only key that changed, a key the reload empties, a key that
 * changed). */
typedef void (*kp_config_note_fn)(void *ctx, const char *msg);
void kp_config_reload(const struct kp_config *run, struct kp_config *next,
		      kp_config_note_fn note, void *ctx);

/* The runtimes section with its defaults filled in, and host_root from
 * the environment's KPULSE_HOST_ROOT when the file gives none. */
void kp_config_runtimes(const struct kp_config *cfg, struct kp_runtimes_paths *out);

/* Nothing is allocated today; kept so callers need not change if that
 * does. Accepts NULL. */
void kp_config_free(struct kp_config *cfg);

#endif
