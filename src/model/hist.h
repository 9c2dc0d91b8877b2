/* hist.h - log-linear latency histograms (layout in include/kpulse_abi.h):
 * bucket math shared with the BPF side, percentiles, and the folding of fine
 * buckets into the fixed Prometheus `le` bounds. Pure: no I/O. */
#ifndef KPULSE_HIST_H
#define KPULSE_HIST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "kpulse_abi.h"

/* Bucket index of a value in ns (same result as the BPF code). */
unsigned int kp_hist_bucket(uint64_t v);
/* Inclusive lower and exclusive upper edge of bucket @b, in ns. */
uint64_t kp_hist_lower(unsigned int b);
uint64_t kp_hist_upper(unsigned int b);

/* Value (ns) at quantile @q (0..1) of @counts: the upper edge of the bucket
 * holding the rank ceil(q * total); 0 when empty. Never below the exact
 * quantile, and above it by at most 6.25%. */
uint64_t kp_hist_quantile(const uint64_t *counts, double q);
/* The same for @n quantiles at once (@qs ascending is one pass over the
 * buckets; a smaller q starts the scan again): out[k] is what
 * kp_hist_quantile(counts, qs[k]) gives, @total kp_hist_total(counts). */
void kp_hist_quantiles(const uint64_t *counts, uint64_t total, const double *qs, int n,
		       uint64_t *out);
uint64_t kp_hist_total(const uint64_t *counts);
/* Whether any bucket holds a count: stops at the first that does. */
bool kp_hist_any(const uint64_t *counts);

/* Fixed `le` bounds for /metrics, in seconds, ascending; +Inf is implied. */
extern const double kp_prom_le[];
extern const unsigned int kp_prom_le_count;

/* Fold fine buckets into cumulative counts per `le` bound: out[i] counts
 * every fine bucket whose upper edge is <= kp_prom_le[i]; out has
 * kp_prom_le_count entries. Returns the total (the +Inf count). */
uint64_t kp_hist_fold_le(const uint64_t *counts, uint64_t *out);

#endif
