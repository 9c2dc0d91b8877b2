/* memread.h - reads a cgroup's pressure and memory files, and the host's
 * /proc/pressure, into struct kp_mem_files.
 *
 * PSI comes from the v2 cgroup. Usage and limit come from the v2 cgroup
 * when the memory controller is on there (memory.current, memory.max);
 * otherwise, on hybrid hosts, from the v1 memory cgroup of one of the
 * cgroup's tasks (its /proc/<pid>/cgroup line, under the v1 memory mount
 * found in mountinfo). A file missing because the host lacks the feature
 * (PSI off, no memory controller) is reported once, not per read. */
#ifndef KPULSE_MEMREAD_H
#define KPULSE_MEMREAD_H

#include "collect/memfiles.h"

struct kp_memread;

/* @v2_root: the cgroup2 mount point. Finds the v1 memory mount itself. */
struct kp_memread *kp_memread__new(const char *v2_root);
void kp_memread__free(struct kp_memread *m);

/* @relpath is relative to the v2 root ("/" for the root). Fields whose
 * file could not be read are left unset (has_* false). */
void kp_memread__cgroup(struct kp_memread *m, const char *relpath,
			struct kp_mem_files *out);
/* Host-wide PSI from /proc/pressure (usage and limit are not set). */
void kp_memread__node(struct kp_memread *m, struct kp_mem_files *out);

/* Containers known (in the last 30 s) to have their tasks in a v1 memory
 * cgroup shared with other tasks: no usage is reported for them. */
uint64_t kp_memread__shared(const struct kp_memread *m);

/* "v2", "v1" (hybrid host: the v1 memory hierarchy) or "none". */
const char *kp_memread__usage_source(const struct kp_memread *m);

#endif
