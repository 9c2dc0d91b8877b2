/* cpufiles.h - parsers for a cgroup's CPU bandwidth files: the limit
 * (v2 cpu.max; v1 cpu.cfs_quota_us and cpu.cfs_period_us) and throttling
 * (cpu.stat of either version). Pure: each takes the file's bytes. Errors
 * are negative errno: -ENODATA for an empty file or a cpu.stat without
 * throttling figures (v2 without the cpu controller), -EINVAL for garbage
 * or a truncated line, -ERANGE for a number out of range. */
#ifndef KPULSE_CPUFILES_H
#define KPULSE_CPUFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/cgfiles.h"

/* v2 cpu.max: "max 100000" or "50000 100000". */
int kp_cpu_max_parse(const char *buf, size_t len, struct kp_cpu_limit *out);

/* v1 cpu.cfs_quota_us ("-1" when unlimited, else > 0) and
 * cpu.cfs_period_us, each as read. */
int kp_cpu_cfs_parse(const char *quota, size_t qlen, const char *period,
		     size_t plen, struct kp_cpu_limit *out);

/* v2 cpu.stat (nr_periods, nr_throttled, throttled_usec) or v1 cpu.stat
 * (nr_periods, nr_throttled, throttled_time in ns). Other keys are skipped
 * (usage_usec, nr_bursts, and whatever a later kernel adds). -ENODATA when
 * the throttling keys are absent: v2 cpu.stat of a cgroup without the cpu
 * controller has only the usage lines. */
int kp_cpu_stat_parse(const char *buf, size_t len, struct kp_cpu_throttle *out);

#endif
