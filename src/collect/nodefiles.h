/* nodefiles.h - parsers for the host files behind the node_exporter-style
 * series: /proc/meminfo, /proc/loadavg, /proc/stat, /proc/net/dev,
 * /proc/diskstats (every field) and /proc/self/mountinfo (which mounts are
 * real file systems). Pure: each takes the file's bytes, which may hold
 * anything (NULs, no final newline, lines of any length), and fills a
 * struct of src/model/nodefigs.h.
 *
 * A line that does not parse is skipped and the call returns -EINVAL once
 * the rest is parsed (-ERANGE for a number out of range), so one odd line
 * from a future kernel costs one figure, not all of them. -ENODATA: the
 * text had nothing this parser needs. */
#ifndef KPULSE_NODEFILES_H
#define KPULSE_NODEFILES_H

#include <stdbool.h>
#include <stddef.h>
#include "model/nodefigs.h"

/* Every "Key: value [kB]" line, named as node_exporter names it: "(x)"
 * becomes "_x", a kB figure is multiplied by 1024 and marked bytes. A
 * repeated key keeps its first value. */
int kp_meminfo_parse(const char *buf, size_t len, struct kp_meminfo *out);

/* "l1 l5 l15 running/threads lastpid". */
int kp_loadavg_parse(const char *buf, size_t len, struct kp_loadavg *out);

/* btime, processes, intr (its total), ctxt, procs_running, procs_blocked,
 * and the number of "cpuN" lines. -ENODATA without btime. */
int kp_kstat_parse(const char *buf, size_t len, struct kp_kstat *out);

/* The interfaces of /proc/net/dev with their 16 counters. */
int kp_netdev_parse(const char *buf, size_t len, struct kp_netdevs *out);

/* The devices of /proc/diskstats that @keep accepts (NULL: every one),
 * with their 11 to 17 fields. */
typedef bool (*kp_disk_keep_fn)(const char *name, void *ctx);
int kp_node_diskstats_parse(const char *buf, size_t len, kp_disk_keep_fn keep, void *ctx,
			    struct kp_node_disks *out);

/* node_exporter 1.5's default diskstats exclusion: ram, loop and floppy
 * devices and partitions of sd/vd/hd/xvd/nvme disks. */
bool kp_node_disk_excluded(const char *name);

/* node_exporter 1.5's default filesystem exclusions: mount points under
 * /dev, /proc, /sys, /run/credentials/, /var/lib/docker/,
 * /var/lib/containers/storage/, and pseudo file system types. */
bool kp_node_fs_excluded(const char *mountpoint, const char *fstype);

/* The real mounts of mountinfo text into @out (state KP_FS_PENDING): the
 * source as device, the mount point (octal escapes decoded), the type,
 * read-only when "ro" is in the mount's or the superblock's options; the
 * first of mounts with the same device, mount point and type. */
int kp_mountinfo_select(const char *buf, size_t len, struct kp_node_fslist *out);

#endif
