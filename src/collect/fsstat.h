/* fsstat.h - statfs of the real mounts, off the daemon's thread, so that a
 * mount that hangs (an NFS server gone, a FUSE daemon stopped) never
 * blocks the poll loop.
 *
 * At each tick the mount list goes to a pass thread that calls statfs on
 * each mount in turn; the tick waits a few milliseconds for it and shows
 * the last pass that finished. A statfs still running after the deadline
 * marks its mount stuck, as node_exporter does: that thread is left to
 * the kernel, a new pass measures the other mounts, and later passes skip
 * the stuck mount (state KP_FS_STUCK) until its statfs returns. Threads
 * are bounded: with KP_FS_MAX_STUCK mounts stuck at once no pass starts
 * and the figures stay as they were (counted as stale ticks). */
#ifndef KPULSE_FSSTAT_H
#define KPULSE_FSSTAT_H

#include <stdint.h>
#include <sys/vfs.h>
#include "model/nodefigs.h"

#define KP_FS_MAX_STUCK KP_NODE_MAX_STUCK

/* statfs(2), or a stand-in for tests. */
typedef int (*kp_statfs_fn)(const char *path, struct statfs *st);

struct kp_fsstat;

/* @deadline_ns: a statfs running this long marks its mount stuck (checked
 * at ticks); @wait_ns: how long a tick waits for its pass. @fn NULL means
 * statfs. NULL when out of memory. */
struct kp_fsstat *kp_fsstat__new(uint64_t deadline_ns, uint64_t wait_ns, kp_statfs_fn fn);
/* Does not wait for a pass stuck in the kernel: it frees what is left
 * when it returns. Accepts NULL. */
void kp_fsstat__free(struct kp_fsstat *s);

/* Measure @want (copied) and fill @out with the latest finished pass:
 * returns 1 when that is this tick's pass, 0 when an older one (or none
 * yet: @out empty), -ENOMEM/-EAGAIN when no pass could start. */
int kp_fsstat__tick(struct kp_fsstat *s, const struct kp_node_fslist *want,
		    struct kp_node_fslist *out);

/* Mounts whose statfs has not returned yet. */
unsigned int kp_fsstat__stuck(const struct kp_fsstat *s);

/* Copy a list: its used entries and pool bytes only. */
void kp_node_fslist_copy(struct kp_node_fslist *dst, const struct kp_node_fslist *src);

#endif
