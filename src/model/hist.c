/* hist.c - log-linear histogram math. Bucket edges are exact integers in ns,
 * so the kernel's bucketing and ours agree bit for bit. */
#include <stdbool.h>
#include "model/hist.h"
#include "kp_hist_bucket.h"

unsigned int kp_hist_bucket(uint64_t v)
{
	return kp_hist_bucket_of(v);
}

uint64_t kp_hist_lower(unsigned int b)
{
	unsigned int msb, sub;

	if (b < KP_HIST_SUB)
		return b;
	msb = b / KP_HIST_SUB + KP_HIST_SUB_BITS - 1;
	sub = b % KP_HIST_SUB;
	return (uint64_t)(KP_HIST_SUB + sub) << (msb - KP_HIST_SUB_BITS);
}

uint64_t kp_hist_upper(unsigned int b)
{
	if (b < KP_HIST_SUB)
		return b + 1;
	if (b >= KP_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return kp_hist_lower(b + 1);
}

uint64_t kp_hist_total(const uint64_t *counts)
{
	uint64_t t = 0;

	for (unsigned int i = 0; i < KP_HIST_BUCKETS; i++)
		t += counts[i];
	return t;
}

bool kp_hist_any(const uint64_t *counts)
{
	for (unsigned int i = 0; i < KP_HIST_BUCKETS; i++)
		if (counts[i])
			return true;
	return false;
}

uint64_t kp_hist_quantile(const uint64_t *counts, double q)
{
	uint64_t total = kp_hist_total(counts), rank, seen = 0;

	if (!total)
		return 0;
	if (q <= 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)(q * (double)total + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < KP_HIST_BUCKETS; i++) {
		seen += counts[i];
		if (seen >= rank)
			return i == KP_HIST_BUCKETS - 1 ? kp_hist_lower(i)
							: kp_hist_upper(i);
	}
	return kp_hist_lower(KP_HIST_BUCKETS - 1);
}

void kp_hist_quantiles(const uint64_t *counts, uint64_t total, const double *qs, int n,
		       uint64_t *out)
{
	unsigned int i = 0;
	uint64_t cum = counts[0], last_rank = 0;	/* cum: buckets 0..i */

	for (int k = 0; k < n; k++) {
		double q = qs[k] <= 0 ? 0 : qs[k] > 1 ? 1 : qs[k];
		uint64_t rank = (uint64_t)(q * (double)total + 0.999999999);

		if (!total) {
			out[k] = 0;
			continue;
		}
		if (rank < 1)
			rank = 1;
		if (rank < last_rank) {	/* not ascending: from the start */
			i = 0;
			cum = counts[0];
		}
		last_rank = rank;
		while (cum < rank && i < KP_HIST_BUCKETS - 1)
			cum += counts[++i];
		out[k] = cum >= rank && i < KP_HIST_BUCKETS - 1 ? kp_hist_upper(i)
							       : kp_hist_lower(KP_HIST_BUCKETS - 1);
	}
}

const double kp_prom_le[] = {
	1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3,
	1, 2.5, 5, 10,
};
const unsigned int kp_prom_le_count = sizeof(kp_prom_le) / sizeof(kp_prom_le[0]);

uint64_t kp_hist_fold_le(const uint64_t *counts, uint64_t *out)
{
	/* the fine bucket each bound ends at, found once */
	static unsigned int end[sizeof(kp_prom_le) / sizeof(kp_prom_le[0])];
	static bool ready;
	unsigned int b = 0;
	uint64_t cum = 0;

	if (!ready) {
		for (unsigned int i = 0; i < kp_prom_le_count; i++) {
			uint64_t bound_ns = (uint64_t)(kp_prom_le[i] * 1e9 + 0.5);

			while (b < KP_HIST_BUCKETS - 1 && kp_hist_upper(b) <= bound_ns)
				b++;
			end[i] = b;
		}
		ready = true;
		b = 0;
	}
	for (unsigned int i = 0; i < kp_prom_le_count; i++) {
		for (; b < end[i]; b++)
			cum += counts[b];
		out[i] = cum;
	}
	for (; b < KP_HIST_BUCKETS; b++)
		cum += counts[b];
	return cum;
}
