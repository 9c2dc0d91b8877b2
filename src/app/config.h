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
#include "analysis/health.h"

#define KP_CFG_MAX_WINDOWS 4	/* = KP_MAX_WINDOWS of the analysis */
#define KP_CFG_MAX_RULES 64
#define KP_CFG_MAX_RECEIVERS 8
#define KP_CFG_MAX_LABELS 8
#define KP_CFG_URL_MAX 512
#define KP_CFG_NAME_MAX 64
#define KP_CFG_TEXT_MAX 256

enum kp_log_format { KP_LOG_TEXT = 0, KP_LOG_JSON };
enum kp_scope { KP_SCOPE_CONTAINER = 0, KP_SCOPE_NODE };
enum kp_severity { KP_SEV_INFO = 0, KP_SEV_WARNING, KP_SEV_CRITICAL };
enum kp_op { KP_OP_ABOVE = 0, KP_OP_BELOW };

/* What an alert rule can watch. The daemon computes the values; units are
 * those of the JSON API. */
enum kp_metric {
	KP_M_RUNQ_P99 = 0,	/* s: p99 run-queue latency over the rule's window */
	KP_M_CPU_PRESSURE,	/* %: PSI cpu some avg10 */
	KP_M_MEMORY_PRESSURE,	/* %: PSI memory some avg10 */
	KP_M_IO_PRESSURE,	/* %: PSI io some avg10 */
	KP_M_OOM_KILLS,		/* kills within the rule's window */
	KP_M_CPU_CORES,		/* cores busy over the last interval */
	KP_M_HEALTH_SCORE,	/* 0..100 */
	KP_M_MAX,
};

struct kp_metric_info {
	const char *name;
	const char *unit;	/* "s" accepts durations ("50ms") */
	bool windowed;		/* the rule's `window` applies */
};
extern const struct kp_metric_info kp_metric_infos[KP_M_MAX];

const char *kp_severity_name(enum kp_severity s);
const char *kp_scope_name(enum kp_scope s);

struct kp_rule {
	char name[KP_CFG_NAME_MAX];	/* the alertname */
	enum kp_metric metric;
	enum kp_scope scope;
	char match[KP_CFG_TEXT_MAX];	/* containers: fnmatch glob */
	enum kp_op op;
	double threshold;		/* fires past this (in the metric's unit) */
	double clear;			/* resolves only back past this */
	uint64_t for_ns;		/* past threshold this long before firing */
	uint64_t window_ns;		/* windowed metrics; never 0 after load */
	enum kp_severity severity;
	char summary[KP_CFG_TEXT_MAX];
};

struct kp_receivers {
	char alertmanager[KP_CFG_MAX_RECEIVERS][KP_CFG_URL_MAX];
	unsigned int n_alertmanager;
	char webhook[KP_CFG_MAX_RECEIVERS][KP_CFG_URL_MAX];
	unsigned int n_webhook;
	uint64_t timeout_ns;		/* per HTTP request */
	unsigned int queue_size;	/* per receiver; full = oldest dropped */
	unsigned int retries;		/* after the first attempt */
	uint64_t backoff_ns;		/* first retry delay, doubling */
	uint64_t resend_ns;		/* firing alerts are re-sent this often */
};

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
	char admin_token[KP_CFG_TEXT_MAX];	/* "" = acks need no token */
	enum kp_log_format log_format;
	int bpf_stats;		/* enum kp_bpf_stats (loader.h) */
	struct kp_cfg_label labels[KP_CFG_MAX_LABELS];
	unsigned int n_labels;
	struct kp_factor_cfg factors[KP_F_MAX];
	struct kp_rule rules[KP_CFG_MAX_RULES];
	unsigned int n_rules;
	struct kp_receivers receivers;
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

/* Nothing is allocated today; kept so callers need not change if that
 * does. Accepts NULL. */
void kp_config_free(struct kp_config *cfg);

#endif
