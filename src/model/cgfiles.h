/* cgfiles.h - what a cgroup's own files (or the host's /proc/pressure)
 * said at the last read: PSI, memory usage and limit. Filled by the
 * collect layer's parsers (src/collect/memfiles.h), read by outputs. */
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
};

#endif
