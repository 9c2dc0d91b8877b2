/* test_history.c - series on a shared timeline (analysis/history.c) against
 * a plain record of every (tick, value) pushed: constant series, series
 * that move, gaps, late starts, a ring that wraps, a point replaced at the
 * same tick; and what the rings cost. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/history.h"

#define CAP 16
#define TICKS 100

/* What a series must hold: the value at each tick, or none. */
struct ref {
	bool has[TICKS];
	float v[TICKS];
};

/* Every point on the timeline, oldest first, must be the reference's for
 * the last CAP ticks. */
static void check(const struct kp_timeline *tl, const struct kp_history *h,
		  const struct ref *r, uint32_t ticks)
{
	uint32_t lo, hi, t, want = 0, got = 0;
	float v;
	uint32_t from = ticks > CAP ? ticks - CAP : 0;

	for (uint32_t i = from; i < ticks; i++)
		want += r->has[i];
	assert_int_equal(kp_history_count(tl, h), want);
	if (!want) {
		assert_false(kp_history_range(tl, h, &lo, &hi) && kp_history_count(tl, h));
		return;
	}
	assert_true(kp_history_range(tl, h, &lo, &hi));
	for (uint32_t s = lo; s <= hi; s++) {
		if (!kp_history_at(tl, h, s, &t, &v))
			continue;
		assert_true(s >= from && s < ticks);
		assert_true(r->has[s]);
		assert_int_equal(t, 1000 + 2 * s);	/* tick s was at 1000 + 2s */
		assert_memory_equal(&v, &r->v[s], sizeof(v));
		got++;
	}
	assert_int_equal(got, want);
}

/* Four series driven by a pattern per tick; checked after every tick. */
static void test_against_reference(void **st)
{
	struct kp_timeline tl;
	struct kp_history h[4] = {};
	static struct ref r[4];

	(void)st;
	memset(r, 0, sizeof(r));
	kp_timeline_init(&tl, CAP);
	for (uint32_t i = 0; i < TICKS; i++) {
		float v[4] = {
			0.0f,					/* constant forever */
			i < 40 ? 5.0f : (float)i,		/* constant, then moves */
			(float)(i % 3),				/* moves at once */
			1.5f,					/* constant, with gaps */
		};
		bool on[4] = { true, i >= 10, true, i < 20 || (i >= 30 && i % 7) };

		assert_int_equal(kp_timeline_tick(&tl, 1000 + 2 * i), 0);
		for (int k = 0; k < 4; k++)
			if (on[k]) {
				assert_int_equal(kp_history_add(&tl, &h[k], v[k]), 0);
				r[k].has[i] = true;
				r[k].v[i] = v[k];
			}
		for (int k = 0; k < 4; k++)
			check(&tl, &h[k], &r[k], i + 1);
	}
	assert_null(h[0].v);	/* never moved: no ring */
	assert_non_null(h[1].v);
	assert_non_null(h[2].v);
	assert_non_null(h[3].v);	/* a gap makes the ring */
	assert_int_equal(kp_history_bytes(&tl, h, 4), 4 * CAP * sizeof(float));
	for (int k = 0; k < 4; k++)
		kp_history_free(&h[k]);
	kp_timeline_free(&tl);
}

/* A second point at the same tick replaces the first, constant or not;
 * NaN is a value like any other. */
static void test_replace_and_nan(void **st)
{
	struct kp_timeline tl;
	struct kp_history h = {}, n = {};
	uint32_t lo, hi, t;
	float v;

	(void)st;
	kp_timeline_init(&tl, 4);
	assert_int_equal(kp_history_add(&tl, &h, 1), -EINVAL);	/* no tick yet */
	kp_timeline_tick(&tl, 7);
	kp_history_add(&tl, &h, 1);
	kp_history_add(&tl, &h, 2);
	assert_int_equal(kp_history_count(&tl, &h), 1);
	assert_true(kp_history_range(&tl, &h, &lo, &hi));
	assert_true(kp_history_at(&tl, &h, hi, &t, &v));
	assert_int_equal(t, 7);
	assert_true(v == 2.0f);
	kp_timeline_tick(&tl, 8);
	kp_history_add(&tl, &h, 2);
	kp_history_add(&tl, &h, 3);	/* moves at the same tick: a ring */
	assert_non_null(h.v);
	assert_int_equal(kp_history_count(&tl, &h), 2);
	assert_true(kp_history_at(&tl, &h, 1, &t, &v) && v == 3.0f && t == 8);
	kp_history_add(&tl, &n, NAN);
	kp_timeline_tick(&tl, 9);
	kp_history_add(&tl, &n, NAN);
	assert_null(n.v);		/* NaN twice is "the same" */
	assert_int_equal(kp_history_count(&tl, &n), 2);
	assert_true(kp_history_at(&tl, &n, 1, &t, &v) && isnan(v));
	kp_history_free(&h);
	kp_history_free(&n);
	kp_timeline_free(&tl);
}

/* A series that stops and comes back after more than a ring of ticks has
 * only its new points. */
static void test_long_gap(void **st)
{
	struct kp_timeline tl;
	struct kp_history h = {};
	uint32_t t;
	float v;

	(void)st;
	kp_timeline_init(&tl, 4);
	for (uint32_t i = 0; i < 3; i++) {
		kp_timeline_tick(&tl, i);
		kp_history_add(&tl, &h, (double)i);
	}
	for (uint32_t i = 3; i < 20; i++)
		kp_timeline_tick(&tl, i);
	assert_int_equal(kp_history_count(&tl, &h), 0);
	kp_history_add(&tl, &h, 42);
	assert_int_equal(kp_history_count(&tl, &h), 1);
	assert_true(kp_history_at(&tl, &h, 19, &t, &v) && t == 19 && v == 42.0f);
	kp_history_free(&h);
	kp_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_replace_and_nan),
		cmocka_unit_test(test_long_gap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
