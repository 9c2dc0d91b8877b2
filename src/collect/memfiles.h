/* memfiles.h - parsers for the kernel files behind the memory figures:
 * PSI (the cgroup and /proc/pressure files), cgroup memory usage and limit (v2
 * memory.current/memory.max, v1 memory.usage_in_bytes/limit_in_bytes),
 * /proc/<pid>/cgroup, cgroup.procs, and the v1 memory mount in mountinfo.
 * Pure: each takes the file's bytes (or a FILE for mountinfo), never a
 * path. Errors are negative errno: -ENODATA for an empty file, -EINVAL for
 * garbage or a truncated line, -ERANGE for a number out of range. */
#ifndef KPULSE_MEMFILES_H
#define KPULSE_MEMFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/cgfiles.h"

/* A PSI file. The "some" line is required; unknown keys are ignored (a
 * future kernel may add some), a line missing one of avg10/avg60/avg300/
 * total is -EINVAL. */
int kp_psi_parse(const char *buf, size_t len, struct kp_psi *out);

/* One unsigned decimal number with optional surrounding whitespace
 * (memory.current, memory.usage_in_bytes). */
int kp_memfile_parse_u64(const char *buf, size_t len, uint64_t *out);

/* A memory limit: a number, or "max" (v2). Sets *unlimited for "max" and
 * for the kernel's "no limit" figure (v1 prints PAGE_COUNTER_MAX pages in
 * bytes, 9223372036854771712 with 4 KiB pages), anything from
 * KP_MEM_UNLIMITED_MIN up. */
#define KP_MEM_UNLIMITED_MIN (UINT64_C(0x7fffffffffffffff) - (UINT64_C(1) << 20) + 1)
int kp_memfile_parse_limit(const char *buf, size_t len, uint64_t *out,
			   bool *unlimited);

/* In /proc/<pid>/cgroup text, the path of the v1 hierarchy that has
 * @controller ("memory"). -ENOENT when no such hierarchy is listed. */
int kp_proc_cgroup_find(const char *buf, size_t len, const char *controller,
			char *out, size_t outlen);

/* The first pid in cgroup.procs text; -ENOENT when the cgroup has none. */
int kp_cgroup_procs_first(const char *buf, size_t len, int *pid);

/* Whether two cgroup.procs texts list the same tasks, in any order: 1
 * yes (and at least one), 0 no, -EINVAL for garbage, -E2BIG past
 * KP_PROCS_SET_MAX pids (too many to compare; callers treat it as no). */
#define KP_PROCS_SET_MAX 4096
int kp_procs_same_set(const char *a, size_t alen, const char *b, size_t blen);

/* The v1 mount of @controller in a mountinfo stream: its mount point and
 * its root inside the hierarchy (what /proc/<pid>/cgroup paths start
 * with, "/" unless mounted from a sub-tree). -ENOENT when none. */
int kp_cgroup_find_v1(FILE *mountinfo, const char *controller, char *mnt,
		      size_t mntlen, char *root, size_t rootlen);

#endif
