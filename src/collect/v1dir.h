/* v1dir.h - on hybrid hosts, the cgroup v1 directory of one controller
 * (cpu, memory) that holds the tasks of a v2 cgroup.
 *
 * A v2 cgroup has no v1 twin by name: runtimes create both trees, but the
 * two need not match (systemd slices, a sandbox's own v1 memory cgroup).
 * The tasks say where they are: the first task in the v2 cgroup's
 * cgroup.procs names its v1 cgroup in /proc/<pid>/cgroup, under the v1
 * mount of the controller found in mountinfo. That v1 cgroup counts only
 * when it is the container's own, by memread.c's rule: the same relative
 * path, or exactly the same tasks. Answers are cached for
 * KP_V1DIR_CACHE_NS and dropped when the caller could not read them. */
#ifndef KPULSE_V1DIR_H
#define KPULSE_V1DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_V1DIR_CACHE_NS (30ull * 1000000000ull)
#define KP_V1DIR_CACHE_MAX 8192
/* A v1 cgroup's task list is read again after this long (kp_v1dir_is_own):
 * no longer than the shortest interval, longer than a collection of
 * 1,000 containers. */
#define KP_V1DIR_PROCS_FRESH_NS (100ull * 1000000ull)

struct kp_v1dir;

/* @controller: "cpu", "memory"... Finds its v1 mount in
 * /proc/self/mountinfo; NULL only when out of memory. */
struct kp_v1dir *kp_v1dir__new(const char *controller);
void kp_v1dir__free(struct kp_v1dir *v);

/* Is the controller mounted as v1 at all? */
bool kp_v1dir__present(const struct kp_v1dir *v);

/* The v1 directory for the v2 cgroup @relpath, whose directory is @v2dir,
 * into @out. -ENOENT when it has no task (nothing names a v1 cgroup), its
 * task sits in the v1 hierarchy's root (the host's cgroup) or in a v1
 * cgroup shared with other tasks (someone else's figures), or the
 * controller has no v1 mount; -ERANGE when @out is too small. */
int kp_v1dir__get(struct kp_v1dir *v, const char *relpath, const char *v2dir,
		  uint64_t now_ns, char *out, size_t len);

/* Drop @relpath's cached answer (reading it failed: look again). */
void kp_v1dir__forget(struct kp_v1dir *v, const char *relpath);

/* Whether the v1 cgroup @v1dir (under the hierarchy mounted at @mnt) is
 * the v2 cgroup @v2dir's own (@relpath in the v2 tree): the same relative
 * path, or exactly the same tasks. @v1dir's task list read within
 * KP_V1DIR_PROCS_FRESH_NS before @now_ns is not read again. Not reentrant
 * (static buffers). */
bool kp_v1dir_is_own(const char *mnt, const char *relpath, const char *v2dir,
		     const char *v1dir, uint64_t now_ns);

#endif
