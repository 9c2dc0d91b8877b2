/* kpulse_abi.h - structs and constants shared by the BPF programs and the
 * userspace collector. Only __u* types and size constants live here.
 *
 * Latency histogram layout (log-linear, values in nanoseconds):
 *   v < 16              -> bucket v (exact)
 *   v >= 16, msb = floor(log2 v), sub = (v >> (msb - 4)) - 16
 *                       -> bucket (msb - 3) * 16 + sub
 * Each power of two is split into KP_HIST_SUB equal sub-buckets, so a bucket
 * is at most 1/16 as wide as its lower edge: reporting a bucket's upper edge
 * overstates a value by at most 6.25%, its midpoint is off by at most 3.125%.
 * The top bucket starts at 2^36 - 2^32 ns (~64 s) and also holds everything
 * larger (~68.7 s and up).
 */
#ifndef KPULSE_ABI_H
#define KPULSE_ABI_H

#define KP_HIST_SUB_BITS 4
#define KP_HIST_SUB (1 << KP_HIST_SUB_BITS)
#define KP_HIST_MAX_MSB 35
#define KP_HIST_BUCKETS ((KP_HIST_MAX_MSB - KP_HIST_SUB_BITS + 2) * KP_HIST_SUB)

/* Default bound on cgroups tracked in the kernel; userspace may resize. */
#define KP_MAX_CGROUPS 4096
/* Bound on the pid-keyed fallback used only by raw_tp programs. */
#define KP_MAX_PIDS 32768

enum kp_drop_reason {
	KP_DROP_CGROUP_MAP_FULL = 0,	/* no room for a new cgroup */
	KP_DROP_TASK_STORAGE,		/* task storage could not be created */
	KP_DROP_PID_MAP_FULL,		/* raw_tp fallback: pid map update failed */
	KP_DROP_MAX,
};

/* Per cgroup, per CPU (BPF_MAP_TYPE_PERCPU_HASH keyed by cgroup v2 id). */
struct kp_cg_stats {
	__u64 cpu_ns;		/* on-CPU time of tasks in this cgroup */
	__u64 nvcsw;		/* voluntary switches out */
	__u64 nivcsw;		/* involuntary switches out (still runnable) */
	__u64 runq_sum_ns;	/* sum of run-queue latencies */
	__u64 runq_hist[KP_HIST_BUCKETS];
};

/* Per CPU: what runs now and since when, so on-CPU time is charged with one
 * clock read per switch and userspace can add the in-progress slice. */
struct kp_cpu_slot {
	__u64 ts;	/* when the current task got the CPU */
	__u64 cgid;	/* its cgroup v2 id; 0 for the idle task */
};

#endif
