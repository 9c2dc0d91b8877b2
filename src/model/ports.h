/* ports.h - which ports get a request-latency series of their own.
 *
 * The kernel keeps request latency per (cgroup, direction, port). Ports are
 * unbounded, Prometheus series should not be: for each container and
 * direction a portset names at most N ports, the busiest by a decayed
 * request rate, and folds every other port into "other". Every series it
 * hands out is monotonic, so Prometheus sees counters, never resets:
 *   - a port promoted to a name starts from what it adds after promotion
 *     (what it had before stays in "other");
 *   - a port demoted gives what it gathered under its name to "other";
 *   - a named port is only replaced by one at least twice as busy, so the
 *     set does not flap between scrapes.
 * Port 0 (the kernel's overflow key) is always "other".
 * Pure: no I/O; time is a parameter.
 */
#ifndef KPULSE_PORTS_H
#define KPULSE_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "kpulse_abi.h"

/* Cumulative latency figures: count, sum and fine buckets (ns); and the
 * bytes the kernel handed over with these requests (struct kp_req_stats),
 * which the collector adds to its container's byte counters. */
struct kp_lat {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	uint64_t hist[KP_HIST_BUCKETS];
};

/* a += b */
void kp_lat_add(struct kp_lat *a, const struct kp_lat *b);

struct kp_portset;

/* A portset naming at most @max_named ports (0: everything is "other").
 * NULL when out of memory. */
struct kp_portset *kp_portset__new(unsigned int max_named);
void kp_portset__free(struct kp_portset *ps);

/* Cumulative figures of @port, as read from the kernel this round. Counts
 * must not go down; an update that does is ignored. Ports not updated in a
 * round keep their last figures. @delta (may be NULL) gets what the port
 * gained since its last update, for totals that outlive the portset.
 * Returns 0 or -ENOMEM. */
int kp_portset__update(struct kp_portset *ps, uint16_t port,
		       const struct kp_lat *cum, struct kp_lat *delta);

/* End of a round: decay the rates to @now_ns and choose the named ports.
 * Call after the updates, before reading. */
void kp_portset__settle(struct kp_portset *ps, uint64_t now_ns);

/* Named ports, ascending: @i from 0 to kp_portset__named_count() - 1. */
unsigned int kp_portset__named_count(const struct kp_portset *ps);
uint16_t kp_portset__named(const struct kp_portset *ps, unsigned int i,
			   struct kp_lat *out);
/* Everything not under a name. False (and @out zeroed) while "other" has
 * never counted a request, so an empty series is not shown. */
bool kp_portset__other(const struct kp_portset *ps, struct kp_lat *out);

/* Ports the set knows of (named or not), and the @i-th of them, ascending
 * (to delete the kernel's keys when the container goes). */
unsigned int kp_portset__ports(const struct kp_portset *ps);
uint16_t kp_portset__port(const struct kp_portset *ps, unsigned int i);

#endif
