/* test_window.c - sliding windows against a brute-force record of every
 * event with its timestamp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/window.h"
#include "model/hist.h"

#define S 1000000000ull

static void test_first_push_is_baseline(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS], out[KP_HIST_BUCKETS];
	struct kp_window *w = kp_window__new(60 * S, 5 * S);

	(void)s;
	memset(cum, 0, sizeof(cum));
	cum[10] = 1000;		/* history before the window existed */
	assert_int_equal(kp_window__push(w, cum, 1 * S), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(kp_window__sum(w, 60 * S, 1 * S, out), 0);
	cum[10] += 3;
	cum[20] += 2;
	kp_window__push(w, cum, 2 * S);
	assert_int_equal(kp_window__sum(w, 60 * S, 2 * S, out), 5);
	assert_int_equal(out[10], 3);
	assert_int_equal(out[20], 2);
	kp_window__free(w);
}

/* Random events pushed every second for 10 minutes; windows of 1 m and 5 m
 * must hold exactly the events of the slots they cover. */
static void test_matches_brute_force(void **s)
{
	enum { SECS = 600 };
	static uint64_t cum[KP_HIST_BUCKETS], out[KP_HIST_BUCKETS];
	static uint64_t per_sec[SECS + 1][8];	/* events per second per bucket group */
	struct kp_window *w = kp_window__new(300 * S, 5 * S);
	uint64_t seed = 12345;

	(void)s;
	memset(cum, 0, sizeof(cum));
	kp_window__push(w, cum, 0);
	for (int t = 1; t <= SECS; t++) {
		for (int g = 0; g < 8; g++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			per_sec[t][g] = (seed >> 33) % 50;
			cum[g * 60] += per_sec[t][g];
		}
		kp_window__push(w, cum, (uint64_t)t * S);
		if (t % 37 == 0 || t == SECS) {
			const uint64_t spans[] = { 60 * S, 300 * S };

			for (int k = 0; k < 2; k++) {
				uint64_t want = 0, got, lo_sec = (spans[k] / S);
				int first = t - (int)lo_sec + 1;

				/* slots start every 5 s: the window reaches back to
				 * the start of the slot holding its first second */
				if (first < 1)
					first = 1;
				first = 1 + ((first - 1) / 5) * 5;
				for (int u = first; u <= t; u++)
					for (int g = 0; g < 8; g++)
						want += per_sec[u][g];
				memset(out, 0, sizeof(out));
				got = kp_window__sum(w, spans[k], (uint64_t)t * S, out);
				assert_int_equal(got, want);
			}
		}
	}
	/* memory stays bounded: 62 slots of at most 8 entries */
	assert_true(kp_window__bytes(w) < 16384);
	kp_window__free(w);
}

static void test_reset_rebases(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS], out[KP_HIST_BUCKETS];
	struct kp_window *w = kp_window__new(60 * S, 1 * S);

	(void)s;
	memset(cum, 0, sizeof(cum));
	cum[5] = 100;
	kp_window__push(w, cum, 1 * S);
	cum[5] = 10;		/* went backwards */
	kp_window__push(w, cum, 2 * S);
	cum[5] = 15;
	kp_window__push(w, cum, 3 * S);
	memset(out, 0, sizeof(out));
	assert_int_equal(kp_window__sum(w, 60 * S, 3 * S, out), 5);
	kp_window__free(w);
}

static void test_percentile_over_window(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS], out[KP_HIST_BUCKETS];
	struct kp_window *w = kp_window__new(300 * S, 5 * S);
	uint64_t p99;

	(void)s;
	memset(cum, 0, sizeof(cum));
	kp_window__push(w, cum, 0);
	/* 10 minutes ago: slow events; last minute: fast ones only */
	cum[kp_hist_bucket(50000000)] += 1000;	/* 50 ms */
	kp_window__push(w, cum, 10 * S);
	cum[kp_hist_bucket(100000)] += 1000;	/* 100 us */
	kp_window__push(w, cum, 590 * S);
	memset(out, 0, sizeof(out));
	kp_window__sum(w, 60 * S, 600 * S, out);
	p99 = kp_hist_quantile(out, 0.99);
	assert_true(p99 >= 100000 && p99 <= 106250);
	kp_window__free(w);
}

/* The base a window keeps between pushes is as big as the buckets in use
 * (a few hundred bytes for a dozen), not the 4 KiB of a dense histogram;
 * a reset in a bucket the base holds is still seen. */
static void test_sparse_base(void **s)
{
	static uint64_t cum[KP_HIST_BUCKETS], out[KP_HIST_BUCKETS];
	struct kp_window *w = kp_window__new(10 * S, 5 * S);
	(void)s;
	memset(cum, 0, sizeof(cum));
	kp_window__push(w, cum, 1 * S);
	for (int b = 100; b < 112; b++)
		cum[b] = 7;
	kp_window__push(w, cum, 2 * S);
	assert_true(kp_window__bytes(w) < 1024);	/* dense: 4 KiB and more */
	memset(out, 0, sizeof(out));
	assert_int_equal(kp_window__sum(w, 10 * S, 2 * S, out), 84);
	cum[105] = 3;		/* went back: a new baseline, nothing added */
	kp_window__push(w, cum, 3 * S);
	cum[105] = 5;
	kp_window__push(w, cum, 4 * S);
	memset(out, 0, sizeof(out));
	assert_int_equal(kp_window__sum(w, 10 * S, 4 * S, out), 86);
	assert_int_equal(out[105], 9);
	kp_window__free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_push_is_baseline),
		cmocka_unit_test(test_matches_brute_force),
		cmocka_unit_test(test_reset_rebases),
		cmocka_unit_test(test_percentile_over_window),
		cmocka_unit_test(test_sparse_base),
	};
	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
