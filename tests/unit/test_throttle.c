/* test_throttle.c - the throttled share over sliding windows, on an
 * injected clock: exact against hand-computed counters, partial windows at
 * the start, one sample kept per slot, counters that start over. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <cmocka.h>

#include "analysis/throttle.h"

#define S 1000000000ull

static void test_needs_two_reads(void **st)
{
	struct kp_throttle *t = kp_throttle__new(60 * S, 5 * S);

	(void)st;
	assert_true(isnan(kp_throttle__pct(t, 60 * S, 0)));
	kp_throttle__push(t, 1 * S, 100, 10);
	assert_true(isnan(kp_throttle__pct(t, 60 * S, 1 * S)));
	kp_throttle__push(t, 2 * S, 110, 20);	/* same slot: current values move */
	assert_true(kp_throttle__pct(t, 60 * S, 2 * S) == 100);
	kp_throttle__push(t, 3 * S, 120, 20);
	assert_true(fabs(kp_throttle__pct(t, 60 * S, 3 * S) - 50) < 1e-9);
	kp_throttle__free(t);
	kp_throttle__free(NULL);
}

/* 10 periods a second, the last 20 s throttled in half of them */
static void test_windows(void **st)
{
	struct kp_throttle *t = kp_throttle__new(60 * S, 5 * S);
	uint64_t p = 0, thr = 0;

	(void)st;
	for (uint64_t sec = 0; sec <= 100; sec++) {
		kp_throttle__push(t, sec * S, p, thr);
		p += 10;
		if (sec >= 80)
			thr += 5;
	}
	/* at 100 s: the 20 s window holds the throttled stretch only */
	assert_true(fabs(kp_throttle__pct(t, 20 * S, 100 * S) - 50) < 1e-9);
	/* 60 s: 20 s of 60 throttled at half: 1/6 */
	assert_true(fabs(kp_throttle__pct(t, 60 * S, 100 * S) - 100.0 / 6) < 1e-9);
	/* a span longer than what is kept: what is kept (60 s + a slot) */
	assert_true(kp_throttle__pct(t, 3600 * S, 100 * S) < 100.0 / 6);
	kp_throttle__free(t);
}

static void test_idle_and_reset(void **st)
{
	struct kp_throttle *t = kp_throttle__new(60 * S, 5 * S);

	(void)st;
	kp_throttle__push(t, 0, 500, 400);
	kp_throttle__push(t, 10 * S, 500, 400);	/* no runnable period */
	assert_true(kp_throttle__pct(t, 60 * S, 10 * S) == 0);
	kp_throttle__push(t, 20 * S, 3, 3);		/* a new cgroup under the id */
	assert_true(isnan(kp_throttle__pct(t, 60 * S, 20 * S)));
	kp_throttle__push(t, 30 * S, 13, 4);
	assert_true(fabs(kp_throttle__pct(t, 60 * S, 30 * S) - 10) < 1e-9);
	kp_throttle__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needs_two_reads),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_idle_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
