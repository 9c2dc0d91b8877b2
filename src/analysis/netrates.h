/* netrates.h - receive and transmit rates per network interface, for the
 * node view (the JSON API's network_devices and the dashboard's interface
 * table), from two ticks of /proc/net/dev figures in the model
 * (model/nodefigs.h, read at ticks only).
 *
 * The previous tick's counters are kept by device name; a device new since
 * then, or whose counters went backwards (deleted and made again under the
 * same name), has no rate until its next tick. Bounded by the model's list
 * (KP_NODE_MAX_NETDEVS); 46 KiB in all, once per daemon. Pure: the read time is
 * passed in. */
#ifndef KPULSE_NETRATES_H
#define KPULSE_NETRATES_H

#include <stdbool.h>
#include <stdint.h>
#include "model/nodefigs.h"

struct kp_netrate {
	bool has;		/* false: no earlier reading of this device */
	double rx_bps, tx_bps;	/* bytes per second */
};

struct kp_netrates {
	struct kp_netdevs prev;		/* the last update's list */
	uint64_t prev_ns;		/* its read time; 0: none */
	struct kp_netrate r[KP_NODE_MAX_NETDEVS];	/* by index into prev */
};

/* The devices read at @read_ns (NULL: /proc/net/dev could not be read,
 * which forgets the previous reading). A reading already seen (the same
 * @read_ns) changes nothing. */
void kp_netrates_update(struct kp_netrates *nr, const struct kp_netdevs *now,
			uint64_t read_ns);
/* The rate of device @name as of the last update (looked for at index
 * @hint first); NULL when unknown. */
const struct kp_netrate *kp_netrates_get(const struct kp_netrates *nr, const char *name,
					 unsigned int hint);

#endif
