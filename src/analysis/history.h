/* history.h - a bounded history of a few figures per cgroup on one shared
 * timeline. A cgroup's figures are all sampled at the same ticks, so the
 * tick times are kept once (kp_timeline) and each series keeps only its
 * values, one float per tick. A series that has had one value at every tick
 * since its first point (an idle container's OOM kills, reclaim time,
 * health, PSI...) keeps no ring at all until its value changes or it misses
 * a tick. With 15 minutes at a 2 s interval, a ring is 1.8 KiB; before,
 * every series kept its own times beside its values (3.6 KiB).
 *
 * Pure: no clock, no I/O. Points older than the timeline's capacity are
 * gone, as in any ring. */
#ifndef KPULSE_HISTORY_H
#define KPULSE_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

struct kp_timeline {
	uint32_t cap;		/* ticks kept */
	uint32_t seq;		/* ticks ever opened; the current one is seq - 1 */
	uint32_t *t;		/* tick times, at [seq % cap]; made at the first tick */
};

/* One series on a timeline. Points are ticks [first, last]; the ones
 * without a value (gaps) hold a sentinel in v. While v is NULL, every tick
 * in [first, last] has the value c. */
struct kp_history {
	float *v;
	float c;
	uint32_t first, last;
	bool any;		/* at least one point ever */
};

/* A timeline keeping @cap ticks (>= 1); no memory until the first tick. */
void kp_timeline_init(struct kp_timeline *tl, uint32_t cap);
void kp_timeline_free(struct kp_timeline *tl);
/* Open a tick at @t (seconds); series points added next belong to it.
 * Returns 0 or -ENOMEM (nothing is recorded at this tick then). */
int kp_timeline_tick(struct kp_timeline *tl, uint32_t t);
/* The time of the newest tick (0 before the first). */
uint32_t kp_timeline_last(const struct kp_timeline *tl);

void kp_history_free(struct kp_history *h);
/* A point of @h at the current tick (once per tick; a second one replaces
 * the first). Returns 0 or -ENOMEM (the point is lost). */
int kp_history_add(const struct kp_timeline *tl, struct kp_history *h, double v);

/* The first point of an empty series at the tick before the current one
 * (a cumulative series' zero at the previous update); nothing when @h has
 * points or there is no such tick. */
void kp_history_start_prev(const struct kp_timeline *tl, struct kp_history *h, double v);

/* The ticks [*lo, *hi] that may hold points of @h still on the timeline;
 * false when there are none. */
bool kp_history_range(const struct kp_timeline *tl, const struct kp_history *h,
		      uint32_t *lo, uint32_t *hi);
/* The point of @h at tick @seq (inside its range): false for a gap. */
bool kp_history_at(const struct kp_timeline *tl, const struct kp_history *h, uint32_t seq,
		   uint32_t *t, float *v);
/* Points of @h on the timeline. */
uint32_t kp_history_count(const struct kp_timeline *tl, const struct kp_history *h);
/* Bytes the rings hold (self-observation, the benchmark). */
uint64_t kp_history_bytes(const struct kp_timeline *tl, const struct kp_history *h, int n);

#endif
