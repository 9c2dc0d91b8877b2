/* test_cpufiles.c - CPU limit and throttling parsers on the files the
 * kernel wrote for a docker container limited with --cpus 0.5 (v1 cpu
 * controller of a hybrid host), on the v2 formats, and on empty, cut and
 * garbage text: an error, never a made-up number. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "collect/cpufiles.h"
#include "collect/kvfile.h"
#include "fixture.h"

static int cpumax(const char *s, struct kp_cpu_limit *l)
{
	return kp_cpu_max_parse(s, strlen(s), l);
}

static int cfs(const char *q, const char *p, struct kp_cpu_limit *l)
{
	return kp_cpu_cfs_parse(q, strlen(q), p, strlen(p), l);
}

static int cstat(const char *s, struct kp_cpu_throttle *t)
{
	return kp_cpu_stat_parse(s, strlen(s), t);
}

static void test_v1_docker_half_cpu(void **st)
{
	size_t ql, pl, sl;
	char *q = fixture("cgroup/v1-cpu.cfs_quota_us", &ql);
	char *p = fixture("cgroup/v1-cpu.cfs_period_us", &pl);
	char *s = fixture("cgroup/v1-throttled-cpu.stat", &sl);
	struct kp_cpu_throttle t;
	struct kp_cpu_limit l;

	(void)st;
	assert_int_equal(kp_cpu_cfs_parse(q, ql, p, pl, &l), 0);
	assert_true(l.limited);
	assert_int_equal(l.quota_us, 50000);
	assert_int_equal(l.period_us, 100000);
	assert_true(kp_cpu_limit_cores(&l) == 0.5);
	assert_int_equal(kp_cpu_stat_parse(s, sl, &t), 0);
	assert_int_equal(t.periods, 32);
	assert_int_equal(t.throttled_periods, 28);
	assert_int_equal(t.throttled_ns, 1218147334ull);	/* throttled_time is ns */
	free(q);
	free(p);
	free(s);
}

static void test_v2_files(void **st)
{
	size_t ml, sl, ul;
	char *m = fixture("cgroup/v2-cpu.max", &ml);
	char *u = fixture("cgroup/v2-unlimited-cpu.max", &ul);
	char *s = fixture("cgroup/v2-throttled-cpu.stat", &sl);
	struct kp_cpu_throttle t;
	struct kp_cpu_limit l;

	(void)st;
	assert_int_equal(kp_cpu_max_parse(m, ml, &l), 0);
	assert_true(l.limited);
	assert_true(kp_cpu_limit_cores(&l) == 0.5);
	assert_int_equal(kp_cpu_max_parse(u, ul, &l), 0);
	assert_false(l.limited);
	assert_int_equal(l.period_us, 100000);
	assert_true(kp_cpu_limit_cores(&l) == 0);
	assert_int_equal(kp_cpu_stat_parse(s, sl, &t), 0);
	assert_int_equal(t.periods, 150);
	assert_int_equal(t.throttled_periods, 148);
	assert_int_equal(t.throttled_ns, 7354361000ull);	/* throttled_usec in ns */
	free(m);
	free(u);
	free(s);
}

static void test_v2_without_cpu_controller(void **st)
{
	size_t sl;
	char *s = fixture("cgroup/v2-no-cpu-controller-cpu.stat", &sl);
	struct kp_cpu_throttle t;

	(void)st;
	assert_int_equal(kp_cpu_stat_parse(s, sl, &t), -ENODATA);
	free(s);
}

static void test_limits_multi_core_and_unlimited(void **st)
{
	struct kp_cpu_limit l;

	(void)st;
	assert_int_equal(cpumax("250000 100000", &l), 0);
	assert_true(kp_cpu_limit_cores(&l) == 2.5);
	assert_int_equal(cfs("-1\n", "100000\n", &l), 0);
	assert_false(l.limited);
	assert_true(kp_cpu_limit_cores(&l) == 0);
	assert_int_equal(cfs("150000\n", "50000\n", &l), 0);
	assert_true(kp_cpu_limit_cores(&l) == 3.0);
}

static void test_limit_garbage(void **st)
{
	static const char *const bad_max[] = {
		"max", "50000", "50000 ", "50000 100000 7", "x 100000", "max  100000",
		"-5 100000", "50000 100000x", "99999999999999999999999 100000",
	};
	struct kp_cpu_limit l;

	(void)st;
	assert_int_equal(cpumax("", &l), -ENODATA);
	assert_int_equal(cpumax("\n", &l), -ENODATA);
	for (size_t i = 0; i < sizeof(bad_max) / sizeof(bad_max[0]); i++) {
		int err = cpumax(bad_max[i], &l);

		assert_true(err == -EINVAL || err == -ERANGE);
		assert_false(l.limited && err);
	}
	/* periods and quotas the kernel never accepts */
	assert_int_equal(cpumax("50000 999", &l), -ERANGE);
	assert_int_equal(cpumax("50000 1000001", &l), -ERANGE);
	assert_int_equal(cpumax("999 100000", &l), -ERANGE);
	assert_int_equal(cfs("-2", "100000", &l), -EINVAL);
	assert_int_equal(cfs("50000", "-1", &l), -EINVAL);
	assert_int_equal(cfs("", "100000", &l), -ENODATA);
	assert_int_equal(cfs("50000", "", &l), -ENODATA);
	assert_int_equal(cfs("5e4", "100000", &l), -EINVAL);
}

static void test_stat_garbage(void **st)
{
	struct kp_cpu_throttle t;

	(void)st;
	assert_int_equal(cstat("", &t), -ENODATA);
	/* cut before the number, or after a key */
	assert_int_equal(cstat("nr_periods 3\nnr_throttled", &t), -EINVAL);
	assert_int_equal(cstat("nr_periods 3\nnr_throttled \n", &t), -EINVAL);
	/* some throttling keys but not all: a kernel we do not know */
	assert_int_equal(cstat("nr_periods 3\nnr_throttled 1\n", &t), -EINVAL);
	assert_int_equal(cstat("nr_periods 3\nnr_throttled 1\nthrottled_usec 12x\n", &t),
			 -EINVAL);
	assert_int_equal(cstat("nr_periods 3\nnr_throttled 1\nthrottled_usec 18446744073709552\n",
			       &t), -ERANGE);
	assert_int_equal(cstat("nr_periods 99999999999999999999\n", &t), -ERANGE);
	assert_int_equal(cstat("nr_periods -1\n", &t), -EINVAL);
	/* unknown keys of a later kernel are skipped; no trailing newline */
	assert_int_equal(cstat("nr_periods 3\nnew_key 5\nnr_throttled 1\nthrottled_usec 12", &t), 0);
	assert_int_equal(t.throttled_ns, 12000);
}

static void test_kv_lines(void **st)
{
	const char *text = "a 1\n\nbb 22\n", *s = text, *end = text + strlen(text);
	struct kp_kv kv;

	(void)st;
	assert_int_equal(kp_kv_next(&s, end, &kv), 1);
	assert_true(kp_kv_is(&kv, "a"));
	assert_false(kp_kv_is(&kv, "aa"));
	assert_int_equal(kv.value, 1);
	assert_int_equal(kp_kv_next(&s, end, &kv), 1);
	assert_true(kp_kv_is(&kv, "bb"));
	assert_int_equal(kv.value, 22);
	assert_int_equal(kp_kv_next(&s, end, &kv), 0);
	s = " 1\n";
	assert_int_equal(kp_kv_next(&s, s + 3, &kv), -EINVAL);
	s = "key\n";
	assert_int_equal(kp_kv_next(&s, s + 4, &kv), -EINVAL);
	s = "key 1 2\n";
	assert_int_equal(kp_kv_next(&s, s + 8, &kv), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_docker_half_cpu),
		cmocka_unit_test(test_v2_files),
		cmocka_unit_test(test_v2_without_cpu_controller),
		cmocka_unit_test(test_limits_multi_core_and_unlimited),
		cmocka_unit_test(test_limit_garbage),
		cmocka_unit_test(test_stat_garbage),
		cmocka_unit_test(test_kv_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
