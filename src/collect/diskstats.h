/* diskstats.h - host disk I/O from /proc/diskstats for /api/v1/node: bytes
 * read and written and the share of time each whole disk was busy, as
 * totals and as rates between two reads. Partitions, loop, ram and zram
 * devices, and disks that never did I/O are left out. */
#ifndef KPULSE_DISKSTATS_H
#define KPULSE_DISKSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "model/disks.h"

/* Parse the text of /proc/diskstats into @out (whole disks only: those for
 * which @is_disk says yes; NULL accepts every name), keeping the rates of
 * a disk from its previous figures in @out when @now_ns is later than the
 * last read. 0, or -EINVAL for a line that is not diskstats (the lines
 * before it are kept). Pure. */
int kp_diskstats_parse(const char *text, uint64_t now_ns, bool (*is_disk)(const char *name),
		       struct kp_disks *out);

/* Read /proc/diskstats and parse it; whole disks are the names in
 * /sys/block that are not loop, ram or zram devices. */
int kp_diskstats_read(uint64_t now_ns, struct kp_disks *out);

#endif
