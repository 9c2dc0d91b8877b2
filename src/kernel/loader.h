/* loader.h - opens, loads and attaches kpulse's BPF objects in visible steps
 * (open -> size maps -> pick attach types -> load -> attach), keeping each
 * program's fate so the daemon can run degraded and say why. */
#ifndef KPULSE_LOADER_H
#define KPULSE_LOADER_H

#include <stdbool.h>
#include <stdint.h>

struct kp_loader;

/* The kernel's per-program run-time stats (BPF_ENABLE_STATS) cost two
 * clock reads on every run of every BPF program on the host. */
enum kp_bpf_stats {
	KP_BPF_STATS_SAMPLED,	/* on for one window in every few: estimated */
	KP_BPF_STATS_ALWAYS,	/* on while kpulse runs: exact */
	KP_BPF_STATS_OFF,
};

struct kp_loader_opts {
	bool force_raw_tp;	  /* skip tp_btf even where it works */
	unsigned int max_cgroups; /* cg_stats map size; 0 = default */
	/* `kpulse slow` thresholds, set in the kernel (rodata); 0 = none, and
	 * the verifier drops that path. Any of them sizes slow_events. */
	uint64_t slow_runq_ns;	  /* --runq */
	uint64_t slow_reclaim_ns; /* --reclaim */
	uint64_t slow_request_ns; /* --request */
	enum kp_bpf_stats stats;  /* KP_BPF_STATS_SAMPLED by default */
	/* tcp_probe records one received segment in this many (a power of
	 * two), each counted that many times; 0 or 1 = every segment */
	unsigned int rtt_sample;
};

struct kp_prog_info {
	char tracepoint[48];	/* "sched_switch": the program label */
	char attach[16];	/* "tp_btf", "raw_tp" or "tracepoint" */
	char bpf_name[32];
	bool loaded;
	bool attached;
	char reason[256];	/* one line when !attached */
	char *verifier_log;	/* tail of libbpf's log when the load failed */
};

/* Returns 0 with *out set, even when some programs failed (see
 * kp_loader__degraded); -EPERM without the privileges; other negative
 * errno when nothing could be loaded at all (*out is still set, so the
 * caller can report per program, and must be closed). */
int kp_loader__open(struct kp_loader **out, const struct kp_loader_opts *opts);
void kp_loader__close(struct kp_loader *l);

int kp_loader__map_fd(const struct kp_loader *l, const char *map_name);
unsigned int kp_loader__prog_count(const struct kp_loader *l);
const struct kp_prog_info *kp_loader__prog(const struct kp_loader *l,
					   unsigned int i);
/* Cumulative run time and run count from the kernel's bpf stats: exact
 * while stats are always on; when sampled, the counts of the windows with
 * stats on scaled to the whole time (steps at each window's end). */
int kp_loader__prog_stats(const struct kp_loader *l, unsigned int i,
			  uint64_t *run_ns, uint64_t *runs, uint64_t *misses);
/* Sampled stats: called at every collection; turns stats on for one
 * interval in every KP_STATS_SAMPLE_EVERY and folds each window in. */
void kp_loader__stats_tick(struct kp_loader *l, uint64_t now_ns);
#define KP_STATS_SAMPLE_EVERY 30
/* Share of the time stats have been on so far (1 always, 0 off). */
double kp_loader__stats_duty(const struct kp_loader *l);
const char *kp_loader__stats_mode(const struct kp_loader *l);
bool kp_loader__degraded(const struct kp_loader *l);
/* Whether the program for @tracepoint is attached. */
bool kp_loader__running(const struct kp_loader *l, const char *tracepoint);
unsigned int kp_loader__attached(const struct kp_loader *l);
bool kp_loader__tp_btf(const struct kp_loader *l);
/* Whether run-time stats can be had (BPF_ENABLE_STATS works, not off). */
bool kp_loader__stats_enabled(const struct kp_loader *l);
/* Run-queue waits from the kernel's sched_info (no wakeup programs). */
bool kp_loader__sched_info(const struct kp_loader *l);

/* Privilege check: 0 when BPF can be used, -EPERM with a reason otherwise. */
int kp_check_privileges(char *why, size_t len);

/* What this kernel offers, as probed while loading (NULL @l: only what
 * files tell, for `kpulse check` without privileges). */
struct kp_features;
void kp_loader__features(const struct kp_loader *l, struct kp_features *f);

#endif
