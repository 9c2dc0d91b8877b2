/* heatmap.h - a latency distribution over time, for a heatmap: per time
 * column, the number of events in each power-of-two row (<1 µs, 1-2 µs,
 * ... 2-4 s, >= 4.3 s), folded from the fine kernel buckets (each fine
 * bucket lies inside one row, so the counts are exact).
 *
 * Why its own ring and not the latency windows (window.h): those keep the
 * longest percentile window (5 minutes); a heatmap lines up with the other
 * history charts (15 minutes). Cost: two times, a row mask and 4 bytes per
 * row with events per column, for columns with events only: ~6 KiB for
 * 15 minutes of 5 s columns of a container that wakes now and then (20 KiB
 * before; 112 bytes a column when every row has events), a few hundred
 * bytes for a cgroup that rarely runs.
 * Pure: time is passed in. */
#ifndef KPULSE_HEATMAP_H
#define KPULSE_HEATMAP_H

#include <stdint.h>

#define KP_HEATMAP_ROWS 24

struct kp_heatmap;

/* Keep @span_ns of columns @col_ns wide (both > 0); NULL when out of memory. */
struct kp_heatmap *kp_heatmap__new(uint64_t span_ns, uint64_t col_ns);
void kp_heatmap__free(struct kp_heatmap *h);
/* Feed cumulative fine counts (KP_HIST_BUCKETS) read at @now_ns. The first
 * push sets the baseline; counts that go backwards start a new one. */
void kp_heatmap__push(struct kp_heatmap *h, const uint64_t *cum, uint64_t now_ns);
/* Columns held (only those with events), and the @i-th oldest: its counts
 * per row (valid until the next call in this thread), the time of its
 * first and last push with events (they happened before *end_ns, after the
 * previous push). */
unsigned int kp_heatmap__columns(const struct kp_heatmap *h);
const uint32_t *kp_heatmap__column(const struct kp_heatmap *h, unsigned int i,
				   uint64_t *start_ns, uint64_t *end_ns);
uint64_t kp_heatmap__col_ns(const struct kp_heatmap *h);
uint64_t kp_heatmap__bytes(const struct kp_heatmap *h);

/* Row of fine bucket @b, and the lower edge of row @r in ns (row 0: 0). */
unsigned int kp_heatmap_row(unsigned int b);
uint64_t kp_heatmap_row_lower(unsigned int r);

#endif
