/* throttle.h - the share of CFS periods a container spent throttled by
 * its CPU limit, over sliding windows, from cpu.stat's cumulative
 * counters sampled at each collection.
 *
 * One sample is kept per slot for the longest window (a few hundred bytes
 * per limited container), so a share over a window is exact to the
 * counters and covers the window plus at most one slot, like the latency
 * windows. Pure: time comes in as a parameter. */
#ifndef KPULSE_THROTTLE_H
#define KPULSE_THROTTLE_H

#include <stdint.h>

struct kp_throttle;

/* NULL when out of memory. @slot_ns > 0. */
struct kp_throttle *kp_throttle__new(uint64_t longest_ns, uint64_t slot_ns);
void kp_throttle__free(struct kp_throttle *t);

/* The counters as read at @now_ns (nr_periods, nr_throttled). Counters
 * that went backwards (a new cgroup under the same id) start over. */
void kp_throttle__push(struct kp_throttle *t, uint64_t now_ns, uint64_t periods,
		       uint64_t throttled);

/* % of periods throttled over the last @span_ns (over what was seen, when
 * less than that); 0 with no period in the span, NAN before two reads. */
double kp_throttle__pct(const struct kp_throttle *t, uint64_t span_ns, uint64_t now_ns);

#endif
