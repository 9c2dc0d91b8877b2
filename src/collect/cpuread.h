/* cpuread.h - reads a cgroup's CPU limit and throttling counters.
 *
 * From the v2 cgroup when the cpu controller is on there (cpu.max,
 * cpu.stat); otherwise, on hybrid hosts, from the v1 cpu cgroup of the
 * cgroup's tasks (cpu.cfs_quota_us, cpu.cfs_period_us, cpu.stat), found as
 * for the v1 memory cgroup (v1dir.h). */
#ifndef KPULSE_CPUREAD_H
#define KPULSE_CPUREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "collect/cpufiles.h"

struct kp_cpuread;

/* @v2_root: the cgroup2 mount point. NULL only when out of memory. */
struct kp_cpuread *kp_cpuread__new(const char *v2_root);
void kp_cpuread__free(struct kp_cpuread *c);

/* The limit files are read again this often (`docker update --cpus` shows
 * within it); cpu.stat at every call while there is a limit. */
#define KP_CPU_LIMIT_EVERY_NS (10ull * 1000000000ull)

/* @relpath relative to the v2 root ("/" for the root, which has no limit).
 * @out holds what the last call found for this cgroup (all zero for a new
 * one) and is updated; all zero when nothing can be read. */
void kp_cpuread__cgroup(struct kp_cpuread *c, const char *relpath, uint64_t now_ns,
			struct kp_cpu_files *out);

/* "v2", "v1" (the v1 cpu controller of a hybrid host) or "none": where
 * the figures came from so far (for /health and `kpulse check`). */
const char *kp_cpuread__source(const struct kp_cpuread *c);

#endif
