/* cgfiles.h - what a cgroup's own files (or the host's /proc/pressure)
 * said at the last read: PSI, memory usage, limit and memory.stat, CPU
 * limit and throttling. Filled by the collect layer's parsers
 * (src/collect/memfiles.h, memstat.h, cpufiles.h), read by outputs. */
#ifndef KPULSE_MODEL_CGFILES_H
#define KPULSE_MODEL_CGFILES_H

#include <stdbool.h>
#include <stdint.h>

/* One line of a PSI file: "some avg10=0.12 avg60=0.05 avg300=0.01 total=123" */
struct kp_psi_line {
	bool present;
	double avg10, avg60, avg300;	/* percent of wall time */
	uint64_t total_us;		/* cumulative stall time */
};

struct kp_psi {
	struct kp_psi_line some;
	struct kp_psi_line full;	/* absent for cpu on kernels before 5.13 */
};

enum kp_psi_res { KP_PSI_CPU, KP_PSI_MEMORY, KP_PSI_IO, KP_PSI_NRES };

/* "cpu", "memory", "io": the file names and metric name parts. */
const char *kp_psi_res_name(enum kp_psi_res r);

/* What a cgroup's (or the host's) files said at the last read. */
struct kp_mem_files {
	bool has_psi[KP_PSI_NRES];
	struct kp_psi psi[KP_PSI_NRES];
	bool has_usage;
	bool has_limit;			/* false also when unlimited */
	uint64_t usage_bytes;
	uint64_t limit_bytes;
	/* memory.stat as cAdvisor reads it (src/collect/memstat.h) */
	bool has_stat;
	uint64_t working_set_bytes;	/* usage - inactive file */
	uint64_t rss_bytes;		/* anon (v1 total_rss) */
	uint64_t cache_bytes;		/* file (v1 total_cache) */
	bool has_swap;			/* v2 memory.swap.current; v1 total_swap */
	uint64_t swap_bytes;
};

/* CFS bandwidth: the cgroup may run @quota_us of CPU time per @period_us,
 * over all CPUs; unlimited when !limited. */
struct kp_cpu_limit {
	bool limited;
	uint64_t quota_us;
	uint64_t period_us;
};

/* Cores the limit allows (quota / period); 0 when unlimited. */
static inline double kp_cpu_limit_cores(const struct kp_cpu_limit *l)
{
	if (!l->limited || !l->period_us)
		return 0;
	return (double)l->quota_us / (double)l->period_us;
}

/* Throttling counters of cpu.stat, cumulative. */
struct kp_cpu_throttle {
	uint64_t periods;		/* nr_periods: enforcement periods with runnable tasks */
	uint64_t throttled_periods;	/* nr_throttled: of those, out of quota */
	uint64_t throttled_ns;		/* time throttled */
};

/* A cgroup's CPU limit and throttling at the last read (v2 cpu.max and
 * cpu.stat, or the v1 cpu controller's files on hybrid hosts); an
 * unlimited cgroup is never throttled and has no throttling figures. */
struct kp_cpu_files {
	bool has_limit;			/* false also when unlimited */
	struct kp_cpu_limit limit;
	bool has_throttle;		/* only while there is a limit */
	struct kp_cpu_throttle throttle;
	uint64_t limit_read_ns;		/* when the limit files were read */
};

#endif
