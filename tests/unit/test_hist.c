/* test_hist.c - bucket layout, percentiles and `le` folding, checked against
 * values this test computes on its own (sorting samples, brute force). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/hist.h"
#include "xorshift.h"

static uint64_t rng = 88172645463325252ull;

/* Latency-like samples: log-uniform from 1 ns to ~100 s. */
static uint64_t sample(void)
{
	unsigned int bits = tb_xorshift(&rng) % 37;

	return (tb_xorshift(&rng) & ((1ull << bits) - 1)) | (1ull << bits);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_small_values_exact(void **s)
{
	(void)s;
	for (uint64_t v = 0; v < 32; v++) {
		assert_int_equal(kp_hist_bucket(v), v);
		assert_int_equal(kp_hist_lower(v), v);
		assert_int_equal(kp_hist_upper(v), v + 1);
	}
}

static void test_edges_contiguous(void **s)
{
	(void)s;
	for (unsigned int b = 0; b + 1 < KP_HIST_BUCKETS; b++) {
		assert_true(kp_hist_lower(b) < kp_hist_upper(b));
		assert_int_equal(kp_hist_upper(b), kp_hist_lower(b + 1));
		/* edges map back to their bucket */
		assert_int_equal(kp_hist_bucket(kp_hist_lower(b)), b);
		assert_int_equal(kp_hist_bucket(kp_hist_upper(b) - 1), b);
	}
}

static void test_relative_width_bound(void **s)
{
	(void)s;
	/* the documented worst case: width <= lower / 16 (6.25%) */
	for (unsigned int b = KP_HIST_SUB; b + 1 < KP_HIST_BUCKETS; b++) {
		uint64_t lo = kp_hist_lower(b), w = kp_hist_upper(b) - lo;

		assert_true(w * 16 <= lo);
	}
}

static void test_random_values_in_their_bucket(void **s)
{
	(void)s;
	for (int i = 0; i < 200000; i++) {
		uint64_t v = sample();
		unsigned int b = kp_hist_bucket(v);

		assert_true(b < KP_HIST_BUCKETS);
		assert_true(kp_hist_lower(b) <= v);
		if (b < KP_HIST_BUCKETS - 1)
			assert_true(v < kp_hist_upper(b));
	}
}

static void test_huge_values_clamp(void **s)
{
	(void)s;
	assert_int_equal(kp_hist_bucket(UINT64_MAX), KP_HIST_BUCKETS - 1);
	assert_int_equal(kp_hist_bucket(1ull << 40), KP_HIST_BUCKETS - 1);
	assert_int_equal(kp_hist_bucket((1ull << 36) - 1), KP_HIST_BUCKETS - 1);
	assert_int_equal(kp_hist_bucket(1ull << 35), KP_HIST_BUCKETS - KP_HIST_SUB);
}

static void test_quantile_error_bound(void **s)
{
	enum { N = 50000 };
	static uint64_t counts[KP_HIST_BUCKETS];
	uint64_t *v = malloc(N * sizeof(*v));
	const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999, 1.0 };

	(void)s;
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < N; i++) {
		v[i] = sample() % (60ull * 1000000000ull);	/* < 60 s */
		counts[kp_hist_bucket(v[i])]++;
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)(qs[i] * N + 0.999999999);
		uint64_t exact = v[rank - 1], est = kp_hist_quantile(counts, qs[i]);

		/* never below the exact value, at most 6.25% (or 1 ns) above */
		assert_true(est >= exact);
		assert_true((double)est <= (double)exact * 1.0625 + 1);
	}
	free(v);
}

static void test_quantile_empty_and_single(void **s)
{
	static uint64_t counts[KP_HIST_BUCKETS];

	(void)s;
	memset(counts, 0, sizeof(counts));
	assert_int_equal(kp_hist_quantile(counts, 0.99), 0);
	counts[kp_hist_bucket(1000000)] = 1;	/* one 1 ms sample */
	assert_true(kp_hist_quantile(counts, 0.5) >= 1000000);
	assert_true(kp_hist_quantile(counts, 0.5) <= 1062500);
	assert_int_equal(kp_hist_total(counts), 1);
	assert_true(kp_hist_any(counts));
	memset(counts, 0, sizeof(counts));
	assert_false(kp_hist_any(counts));
	counts[KP_HIST_BUCKETS - 1] = 1;	/* the last bucket counts too */
	assert_true(kp_hist_any(counts));
}

static void test_fold_le_brackets_truth(void **s)
{
	enum { N = 30000 };
	static uint64_t counts[KP_HIST_BUCKETS];
	uint64_t *v = malloc(N * sizeof(*v)), le[64];

	(void)s;
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < N; i++) {
		v[i] = sample() % (20ull * 1000000000ull);
		counts[kp_hist_bucket(v[i])]++;
	}
	kp_hist_fold_le(counts, le);
	for (unsigned int i = 0; i < kp_prom_le_count; i++) {
		double bound = kp_prom_le[i] * 1e9;
		uint64_t below_tight = 0, at_or_below = 0;

		for (int j = 0; j < N; j++) {
			below_tight += (double)v[j] < bound * (1 - 1.0 / 16);
			at_or_below += (double)v[j] <= bound;
		}
		/* a value is counted at most one fine bucket (6.25%) late */
		assert_true(le[i] >= below_tight);
		assert_true(le[i] <= at_or_below);
		if (i)
			assert_true(le[i] >= le[i - 1]);
	}
	free(v);
}

/* Several quantiles in one pass give what one quantile at a time gives:
 * random sparse and dense histograms, the top bucket, empty ones, and a
 * list that is not ascending. */
static void test_quantiles_one_pass(void **state)
{
	static uint64_t h[KP_HIST_BUCKETS];
	const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 0.1, 0, 1.5 };
	uint64_t out[9];

	(void)state;
	srand(19);
	for (int round = 0; round < 500; round++) {
		uint64_t total = 0;

		memset(h, 0, sizeof(h));
		for (int k = rand() % (round % 2 ? 8 : 400); k > 0; k--)
			h[rand() % KP_HIST_BUCKETS] += 1 + (uint64_t)(rand() % 1000);
		if (round % 7 == 0)
			h[KP_HIST_BUCKETS - 1] += 3;
		total = kp_hist_total(h);
		kp_hist_quantiles(h, total, qs, 9, out);
		for (int q = 0; q < 9; q++)
			assert_int_equal(out[q], kp_hist_quantile(h, qs[q]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_edges_contiguous),
		cmocka_unit_test(test_relative_width_bound),
		cmocka_unit_test(test_random_values_in_their_bucket),
		cmocka_unit_test(test_huge_values_clamp),
		cmocka_unit_test(test_quantile_error_bound),
		cmocka_unit_test(test_quantile_empty_and_single),
		cmocka_unit_test(test_fold_le_brackets_truth),
		cmocka_unit_test(test_quantiles_one_pass),
	};
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
