/* cgwalk.h - every directory under a cgroup v2 root, with its inode number
 * (the cgroup id), without a stat per file (see cgwalk.c). */
#ifndef KPULSE_CGWALK_H
#define KPULSE_CGWALK_H

#include <stdint.h>

/* @rel: the directory's path relative to the root, "/" for the root
 * itself. A non-zero return stops the walk and is returned. */
typedef int (*kp_cgwalk_fn)(void *ctx, uint64_t ino, const char *rel);

/* Pre-order walk of the directories under @root on the root's filesystem,
 * symlinks not followed; directories that cannot be opened are left out,
 * with what is under them. Returns 0, -errno when @root cannot be opened,
 * or the callback's non-zero value. */
int kp_cgwalk(const char *root, kp_cgwalk_fn fn, void *ctx);

#endif
