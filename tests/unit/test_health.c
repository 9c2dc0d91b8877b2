/* test_health.c - the health score factor by factor. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/health.h"

static void unknown_all(double *v)
{
	for (int i = 0; i < KP_F_MAX; i++)
		v[i] = NAN;
}

static void test_all_unknown_is_100(void **s)
{
	double v[KP_F_MAX];
	struct kp_health h;

	(void)s;
	unknown_all(v);
	kp_health_score(v, kp_factor_defaults, &h);
	assert_true(h.score == 100);
	assert_int_equal(h.worst, -1);
}

static void test_each_factor_linear_between_good_and_bad(void **s)
{
	(void)s;
	for (int f = 0; f < KP_F_MAX; f++) {
		const struct kp_factor_cfg *c = &kp_factor_defaults[f];
		double v[KP_F_MAX];
		struct kp_health h;

		unknown_all(v);
		v[f] = c->good;		/* at good: free */
		kp_health_score(v, kp_factor_defaults, &h);
		assert_true(h.score == 100);
		assert_string_equal(h.f[f].reason, "");
		v[f] = c->bad * 10;	/* far past bad: the whole weight */
		kp_health_score(v, kp_factor_defaults, &h);
		assert_true(fabs(h.score - (100 - c->weight)) < 1e-9);
		assert_int_equal(h.worst, f);
		assert_true(strstr(h.f[f].reason, "(-") != NULL);
		if (c->bad > c->good + 1e-12 && f != KP_F_OOM_KILLS) {
			v[f] = (c->good + c->bad) / 2;	/* halfway: half */
			kp_health_score(v, kp_factor_defaults, &h);
			assert_true(fabs(h.f[f].penalty - c->weight / 2) < 1e-9);
		}
	}
}

static void test_reason_text(void **s)
{
	double v[KP_F_MAX];
	struct kp_health h;

	(void)s;
	unknown_all(v);
	v[KP_F_RUNQ_P99] = 0.014;	/* 14 ms: (14-2)/(50-2) of 30 = 7.5 */
	kp_health_score(v, kp_factor_defaults, &h);
	assert_string_equal(h.f[KP_F_RUNQ_P99].reason, "p99 run-queue latency 14 ms (-8)");
	assert_true(fabs(h.score - 92.5) < 1e-9);
	v[KP_F_OOM_KILLS] = 1;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_string_equal(h.f[KP_F_OOM_KILLS].reason, "1 OOM kill (-40)");
	assert_int_equal(h.worst, KP_F_OOM_KILLS);
}

static void test_floor_at_zero(void **s)
{
	double v[KP_F_MAX];
	struct kp_health h;

	(void)s;
	for (int i = 0; i < KP_F_MAX; i++)
		v[i] = 1e9;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_true(h.score == 0);
}

static void test_zero_weight_disables(void **s)
{
	struct kp_factor_cfg cfg[KP_F_MAX];
	double v[KP_F_MAX];
	struct kp_health h;

	(void)s;
	memcpy(cfg, kp_factor_defaults, sizeof(cfg));
	cfg[KP_F_RUNQ_P99].weight = 0;
	unknown_all(v);
	v[KP_F_RUNQ_P99] = 10;
	kp_health_score(v, cfg, &h);
	assert_true(h.score == 100);
}

/* A container held back by its own limit: its run-queue waits and CPU
 * pressure are the limit's doing, counted once, as throttling. */
static void test_throttling_explains_waits(void **s)
{
	double v[KP_F_MAX];
	struct kp_health h;

	(void)s;
	unknown_all(v);
	v[KP_F_RUNQ_P99] = 0.044;	/* what a --cpus 0.5 spinner showed */
	v[KP_F_CPU_PRESSURE] = 60;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_int_equal(h.worst, KP_F_RUNQ_P99);	/* contention, without figures */
	v[KP_F_CPU_THROTTLED] = 70;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_true(h.score == 70);
	assert_int_equal(h.worst, KP_F_CPU_THROTTLED);
	assert_string_equal(h.f[KP_F_CPU_THROTTLED].reason,
			    "CPU throttled by its limit in 70% of periods (-30)");
	assert_true(h.f[KP_F_RUNQ_P99].penalty == 0);
	assert_true(h.f[KP_F_CPU_PRESSURE].penalty == 0);
	assert_non_null(strstr(h.f[KP_F_RUNQ_P99].reason, "throttled"));
	assert_true(h.f[KP_F_RUNQ_P99].value == 0.044);	/* still shown */
	/* throttled in a few periods only (at good): contention counts again */
	v[KP_F_CPU_THROTTLED] = 5;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_int_equal(h.worst, KP_F_RUNQ_P99);
	assert_true(h.f[KP_F_CPU_PRESSURE].penalty > 0);
	/* other factors are not excused */
	v[KP_F_CPU_THROTTLED] = 70;
	v[KP_F_OOM_KILLS] = 1;
	kp_health_score(v, kp_factor_defaults, &h);
	assert_true(h.score == 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_unknown_is_100),
		cmocka_unit_test(test_each_factor_linear_between_good_and_bad),
		cmocka_unit_test(test_reason_text),
		cmocka_unit_test(test_floor_at_zero),
		cmocka_unit_test(test_zero_weight_disables),
		cmocka_unit_test(test_throttling_explains_waits),
	};
	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
