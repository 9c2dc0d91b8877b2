/* test_heatmap.c - the run-queue heatmap ring against a brute-force record
 * of every event: rows hold exactly the values between their edges, columns
 * exactly the events pushed while they were the newest, old columns leave. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/heatmap.h"
#include "model/hist.h"

#define S 1000000000ull

/* Every fine bucket lies inside one row, and the rows' edges are powers of
 * two from 1024 ns: a value's row is the one whose edges hold it. */
static void test_rows_hold_their_values(void **s)
{
	(void)s;
	for (unsigned int b = 0; b < KP_HIST_BUCKETS; b++) {
		unsigned int r = kp_heatmap_row(b);
		uint64_t lo = kp_hist_lower(b), hi = kp_hist_upper(b);

		assert_true(r < KP_HEATMAP_ROWS);
		assert_true(lo >= kp_heatmap_row_lower(r));
		if (r + 1 < KP_HEATMAP_ROWS)
			assert_true(hi <= kp_heatmap_row_lower(r + 1));
	}
	assert_int_equal(kp_heatmap_row(kp_hist_bucket(1023)), 0);
	assert_int_equal(kp_heatmap_row(kp_hist_bucket(1024)), 1);
	assert_int_equal(kp_heatmap_row(kp_hist_bucket(3000)), 2);	/* 2-4 µs */
	assert_int_equal(kp_heatmap_row(kp_hist_bucket(5000000)), 13);	/* 4.2-8.4 ms */
	assert_int_equal(kp_heatmap_row(kp_hist_bucket(60 * S)), KP_HEATMAP_ROWS - 1);
}

/* Random events each second for 10 minutes into 5 s columns over 2 minutes:
 * every held column has exactly the events of its pushes, per row. */
static void test_matches_brute_force(void **s)
{
	enum { SECS = 600, SPAN = 120, COL = 5 };
	static uint64_t cum[KP_HIST_BUCKETS];
	static uint64_t truth[SECS + 1][KP_HEATMAP_ROWS];
	struct kp_heatmap *h = kp_heatmap__new(SPAN * S, COL * S);
	uint64_t start, end;

	(void)s;
	srand(7);
	memset(cum, 0, sizeof(cum));
	cum[3] = 500;		/* before the heatmap existed: not shown */
	kp_heatmap__push(h, cum, 0);
	for (unsigned int t = 1; t <= SECS; t++) {
		for (int k = rand() % 50 - 10; k > 0; k--) {	/* some idle seconds */
			uint64_t v = (uint64_t)1 << (rand() % 34);
			unsigned int b = kp_hist_bucket(v + (uint64_t)rand() % v);

			cum[b]++;
			truth[t][kp_heatmap_row(b)]++;
		}
		kp_heatmap__push(h, cum, t * S);
	}
	assert_true(kp_heatmap__columns(h) >= SPAN / COL - 1);
	assert_true(kp_heatmap__columns(h) <= SPAN / COL + 1);
	for (unsigned int i = 0; i < kp_heatmap__columns(h); i++) {
		const uint32_t *n = kp_heatmap__column(h, i, &start, &end);
		uint64_t want[KP_HEATMAP_ROWS] = { 0 };

		assert_true(end - start < COL * S);
		assert_true(end + SPAN * S >= SECS * S);	/* inside the span */
		for (uint64_t t = start / S; t <= end / S; t++)
			for (int r = 0; r < KP_HEATMAP_ROWS; r++)
				want[r] += truth[t][r];
		for (int r = 0; r < KP_HEATMAP_ROWS; r++)
			assert_int_equal(n[r], want[r]);
	}
	assert_null(kp_heatmap__column(h, kp_heatmap__columns(h), &start, &end));
	kp_heatmap__free(h);
}

/* Seconds without events make no columns: an idle cgroup costs little. */
static void test_idle_makes_no_columns(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS];
	struct kp_heatmap *h = kp_heatmap__new(900 * S, 5 * S);
	uint64_t a, b;

	(void)s;
	memset(cum, 0, sizeof(cum));
	for (unsigned int t = 0; t < 900; t++) {
		if (t == 100 || t == 700)
			cum[400]++;
		kp_heatmap__push(h, cum, t * S);
	}
	assert_int_equal(kp_heatmap__columns(h), 2);
	assert_int_equal(kp_heatmap__column(h, 0, &a, &b)[kp_heatmap_row(400)], 1);
	assert_int_equal(b, 100 * S);
	assert_true(kp_heatmap__bytes(h) < 2000);
	/* 15 minutes later the first has left */
	kp_heatmap__push(h, cum, 1001 * S);
	cum[400]++;
	kp_heatmap__push(h, cum, 1002 * S);
	assert_int_equal(kp_heatmap__columns(h), 2);
	kp_heatmap__column(h, 0, &a, &b);
	assert_int_equal(b, 700 * S);
	kp_heatmap__free(h);
}

/* A container that wakes every tick fills a column per tick, in a row or
 * two: the counts are kept for the rows with events only. */
static void test_sparse_columns(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS];
	struct kp_heatmap *h = kp_heatmap__new(900 * S, 2 * S);
	uint64_t a, b;

	(void)s;
	memset(cum, 0, sizeof(cum));
	for (unsigned int t = 0; t < 1000; t++) {
		cum[300] += 2;
		cum[400] += t % 3 == 0;
		kp_heatmap__push(h, cum, (uint64_t)t * 2 * S);
	}
	assert_int_equal(kp_heatmap__columns(h), 451);
	assert_true(kp_heatmap__bytes(h) < 451 * 48);	/* 112 a column dense */
	for (unsigned int i = 0; i < kp_heatmap__columns(h); i++) {
		const uint32_t *n = kp_heatmap__column(h, i, &a, &b);

		assert_int_equal(n[kp_heatmap_row(300)], 2);
		assert_int_equal(n[kp_heatmap_row(400)], (a / (2 * S)) % 3 == 0);
	}
	kp_heatmap__free(h);
}

static void test_reset_rebases(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS];
	struct kp_heatmap *h = kp_heatmap__new(60 * S, 5 * S);
	uint64_t a, b;

	(void)s;
	memset(cum, 0, sizeof(cum));
	cum[300] = 100;
	kp_heatmap__push(h, cum, 1 * S);
	cum[300] = 10;		/* went backwards: a new baseline, nothing counted */
	kp_heatmap__push(h, cum, 2 * S);
	assert_int_equal(kp_heatmap__columns(h), 0);
	cum[300] = 13;
	kp_heatmap__push(h, cum, 3 * S);
	assert_int_equal(kp_heatmap__columns(h), 1);
	assert_int_equal(kp_heatmap__column(h, 0, &a, &b)[kp_heatmap_row(300)], 3);
	kp_heatmap__free(h);
	assert_null(kp_heatmap__new(0, 5 * S));
	kp_heatmap__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_hold_their_values),
		cmocka_unit_test(test_matches_brute_force),
		cmocka_unit_test(test_idle_makes_no_columns),
		cmocka_unit_test(test_sparse_columns),
		cmocka_unit_test(test_reset_rebases),
	};
	return cmocka_run_group_tests_name("heatmap", tests, NULL, NULL);
}
