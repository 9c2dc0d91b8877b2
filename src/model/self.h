/* self.h - kpulse's own state as the outputs show it: what this kernel
 * offers (one probe result, read by the loader, `kpulse check` and
 * /health alike), each program's fate and cost, map fill, events the BPF
 * side could not record, and the collector's own counters. The collect
 * layer copies it from the loader at each collection. */
#ifndef KPULSE_MODEL_SELF_H
#define KPULSE_MODEL_SELF_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "kpulse_abi.h"

/* What the kernel offers, found by probing (never by version number). */
struct kp_features {
	bool btf;		/* /sys/kernel/btf/vmlinux */
	bool tp_btf;		/* BTF-typed tracepoints load and attach */
	bool sched_info;	/* run-queue waits from the kernel's sched_info */
	/* sched_switch's prev_state: "argument" (5.18+), "__state" or
	 * "state" (the task's field, older kernels; kernel/corefix.h) */
	const char *switch_state;
	bool bpf_stats;		/* BPF_ENABLE_STATS could be turned on */
	bool sock_len;		/* sock_send_length + sock_recv_length (6.3+) */
	bool data_ready;	/* sock:sk_data_ready: received bytes timed on arrival */
	bool psi;		/* /proc/pressure */
};

#define KP_MAX_PROGS 40

/* One tracepoint program: whether it runs, why not, and what it costs. */
struct kp_prog_state {
	char tracepoint[48];	/* "sched_switch": the program label */
	char attach[16];	/* "tp_btf", "raw_tp" or "tracepoint" */
	bool loaded;
	bool attached;
	char reason[256];	/* one line when !attached */
	bool has_stats;		/* the kernel's run-time stats could be read */
	uint64_t run_ns, runs, misses;
};

/* The kernel maps whose fill is shown. */
enum kp_map_id {
	KP_MAP_CG_STATS = 0,
	KP_MAP_MEM_STATS,
	KP_MAP_TCP_STATS,
	KP_MAP_TCP_HIST,
	KP_MAP_REQ_STATS,
	KP_MAP_HOT_OWNER,
	KP_MAP_MAX,
};
extern const char *const kp_map_names[KP_MAP_MAX];

/* Events dropped in the kernel, by reason (kpulse_abi.h's KP_DROP_*). */
extern const char *const kp_drop_names[KP_DROP_MAX];

/* The daemon's own process (Prometheus process_*), read at each
 * collection and scrape. */
struct kp_procstat {
	double cpu_seconds;
	double rss_bytes;
	double vsize_bytes;
	double open_fds;
	double max_fds;
	double start_time_seconds;	/* since the epoch; 0: not read */
};

/* Container names from the runtimes' files (src/collect/runtimes.h). */
struct kp_names_self {
	uint64_t lookups;	/* containers looked up */
	uint64_t found;		/* of those, named */
	uint64_t file_reads;	/* runtime files tried */
	uint64_t errors;	/* files unreadable or not what a runtime writes */
	uint64_t dropped;	/* index entries past the bound */
	unsigned int entries;	/* indexed now */
};

struct kp_self {
	struct kp_features feat;
	unsigned int n_progs;
	struct kp_prog_state progs[KP_MAX_PROGS];
	bool degraded;			/* some program is not running */
	unsigned int attached;		/* programs running */
	const char *stats_mode;		/* "sampled", "always", "off" */
	double stats_duty;		/* share of time bpf stats were on */
	uint64_t map_entries[KP_MAP_MAX];	/* at the last read */
	uint64_t map_max_entries[KP_MAP_MAX];
	uint64_t drops[KP_DROP_MAX];
	uint64_t drops_last_ns[KP_DROP_MAX];	/* when each last grew; 0 never */
	uint64_t misses_last_ns;		/* recursion misses, the same */
	uint64_t memcg_shared;		/* containers whose v1 memcg is shared */
	uint64_t collections;
	uint64_t removed;		/* cgroups gone and dropped */
	uint64_t tree_walks;		/* walks of the cgroup tree */
	/* how gone cgroups are found: "announced" (cgroup_rmdir), else
	 * "open_by_id" (open_by_handle_at) or "tree_walk" */
	const char *gone_source;
	double last_duration_s;
	uint64_t last_mono_ns;		/* CLOCK_MONOTONIC of the last read */
	struct kp_procstat proc;
	struct kp_names_self names;
	const char *cpu_source;		/* "v2", "v1" or "none": CPU limit files */
};

/* Whether the program for @tracepoint runs. */
bool kp_self_running(const struct kp_self *s, const char *tracepoint);
/* Recursion misses summed over the programs. */
uint64_t kp_self_misses(const struct kp_self *s);

#endif
