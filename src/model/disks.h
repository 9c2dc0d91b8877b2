/* disks.h - the host's whole disks as of the last read of /proc/diskstats
 * (src/collect/diskstats.h): totals since boot and rates between reads. */
#ifndef KPULSE_MODEL_DISKS_H
#define KPULSE_MODEL_DISKS_H

#include <stdbool.h>
#include <stdint.h>

#define KP_MAX_DISKS 16	/* more disks than this are counted, not listed */

struct kp_disk {
	char name[32];
	uint64_t read_bytes, write_bytes;	/* since boot */
	uint64_t io_ms;				/* time with I/O in flight */
	/* between the last two reads; false until there were two */
	bool has_rates;
	double read_bps, write_bps, busy;	/* busy: 0..1 */
};

struct kp_disks {
	struct kp_disk d[KP_MAX_DISKS];
	unsigned int n;
	unsigned int left_out;		/* over KP_MAX_DISKS */
	uint64_t read_ns;		/* CLOCK_MONOTONIC of the last read */
};

#endif
