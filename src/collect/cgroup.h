/* cgroup.h - the cgroup v2 hierarchy as kpulse sees it: where it is mounted
 * (read from mountinfo, never assumed) and which path a cgroup id names
 * (the id is the inode number of the cgroup's directory). */
#ifndef KPULSE_CGROUP_H
#define KPULSE_CGROUP_H

#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

/* Find the cgroup2 mount point in a mountinfo stream. Returns 0 and fills
 * @out, -ENOENT when there is none. Octal escapes (\040) are decoded. */
int kp_cgroup_find_v2(FILE *mountinfo, char *out, size_t outlen);
/* Undo mountinfo's octal escapes (\040 for a space...) in place. */
void kp_mountinfo_unescape(char *s);
/* Same, from /proc/self/mountinfo. */
int kp_cgroup_v2_root(char *out, size_t outlen);

/* Resolves cgroup ids to paths relative to the v2 root ("/a/b", "/" for the
 * root). Keeps an index of the tree built by walking it, refreshed on a miss
 * at most once per @min_rescan_ns. */
struct kp_cgroups;

struct kp_cgroups *kp_cgroups__new(const char *v2_root);
void kp_cgroups__free(struct kp_cgroups *cg);
const char *kp_cgroups__root(const struct kp_cgroups *cg);
/* Path of @id (owned by @cg, valid until the next call), or NULL when no
 * cgroup with that id exists. May walk the tree once per @now_ns window. */
const char *kp_cgroups__path(struct kp_cgroups *cg, uint64_t id, uint64_t now_ns);
/* The same from the index as it stands: no walk. */
const char *kp_cgroups__lookup(const struct kp_cgroups *cg, uint64_t id);
/* Walk the tree when the last walk is old enough (the same window);
 * true when it walked. */
bool kp_cgroups__walk_due(struct kp_cgroups *cg, uint64_t now_ns);
/* True when a whole walk of the tree began after @walks_before walks had
 * been made (the count kp_cgroups__walks gave when @id was first seen) and
 * did not find @id: the cgroup is gone, as ids are never reused. */
bool kp_cgroups__missing(const struct kp_cgroups *cg, uint64_t id, uint64_t walks_before);
/* Whether cgroup @id exists, wherever it is now (by its file handle): 1
 * yes, 0 no, -errno when this cannot be told here (no privilege, old
 * kernel; then asks nothing more). */
int kp_cgroups__id_alive(struct kp_cgroups *cg, uint64_t id);
/* false once opening a cgroup by id failed for want of privilege or
 * support (id_alive then always answers "cannot tell") */
bool kp_cgroups__opens_by_id(const struct kp_cgroups *cg);
/* True while the directory at @relpath still has inode @id. */
bool kp_cgroups__alive(const struct kp_cgroups *cg, const char *relpath,
		       uint64_t id);
/* Number of tree walks so far (exported as a metric). */
uint64_t kp_cgroups__walks(const struct kp_cgroups *cg);

/* Walk the tree now (the index is rebuilt); 0 or -errno. */
int kp_cgroups__rescan(struct kp_cgroups *cg, uint64_t now_ns);

/* Every cgroup of the index as of the last walk: id and path. */
typedef void (*kp_cgroups_fn)(void *ctx, uint64_t id, const char *relpath);
void kp_cgroups__foreach(const struct kp_cgroups *cg, kp_cgroups_fn fn, void *ctx);

#endif
