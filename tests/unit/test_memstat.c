/* test_memstat.c - memory.stat as cAdvisor reads it: a real v1 file of a
 * docker container (hierarchical total_ keys win over the local ones,
 * total_inactive_file over inactive_file), the v2 format, working set
 * arithmetic, and bad input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "collect/memstat.h"
#include "fixture.h"

static int ms(const char *s, struct kp_memstat *m)
{
	return kp_memstat_parse(s, strlen(s), m);
}

static void test_v1_docker(void **st)
{
	size_t len;
	char *s = fixture("cgroup/v1-memory.stat", &len);
	struct kp_memstat m;

	(void)st;
	assert_int_equal(kp_memstat_parse(s, len, &m), 0);
	assert_true(m.has_rss && m.has_cache && m.has_inactive_file && m.has_swap);
	assert_int_equal(m.rss_bytes, 53248);		/* total_rss */
	assert_int_equal(m.cache_bytes, 0);		/* total_cache */
	assert_int_equal(m.swap_bytes, 0);		/* total_swap */
	free(s);
}

static void test_v1_total_wins(void **st)
{
	struct kp_memstat m;

	(void)st;
	/* the order the kernel prints: local keys first, total_ ones after */
	assert_int_equal(ms("cache 100\nrss 200\nswap 5\ninactive_file 40\n"
			    "total_cache 1000\ntotal_rss 2000\ntotal_swap 50\n"
			    "total_inactive_file 400\n", &m), 0);
	assert_int_equal(m.cache_bytes, 1000);
	assert_int_equal(m.rss_bytes, 2000);
	assert_int_equal(m.swap_bytes, 50);
	assert_int_equal(m.inactive_file_bytes, 400);
	assert_int_equal(kp_memstat_working_set(&m, 5000), 4600);
	/* a kernel without total_ lines: the local ones */
	assert_int_equal(ms("cache 100\nrss 200\ninactive_file 40\n", &m), 0);
	assert_int_equal(m.cache_bytes, 100);
	assert_int_equal(m.inactive_file_bytes, 40);
	assert_false(m.has_swap);	/* no swap accounting: no swap series */
}

static void test_v2(void **st)
{
	size_t len;
	char *s = fixture("cgroup/v2-memory.stat", &len);
	struct kp_memstat m;

	(void)st;
	assert_int_equal(kp_memstat_parse(s, len, &m), 0);
	assert_int_equal(m.rss_bytes, 52203520);		/* anon */
	assert_int_equal(m.cache_bytes, 160735232);		/* file */
	assert_int_equal(m.inactive_file_bytes, 150994944);
	assert_false(m.has_swap);	/* v2 swap is memory.swap.current */
	assert_int_equal(kp_memstat_working_set(&m, 220000000), 220000000 - 150994944);
	free(s);
}

static void test_working_set_edges(void **st)
{
	struct kp_memstat m;

	(void)st;
	assert_int_equal(ms("inactive_file 500\nanon 1\n", &m), 0);
	/* usage read before a burst of page cache: never negative */
	assert_int_equal(kp_memstat_working_set(&m, 400), 0);
	assert_int_equal(ms("anon 7\n", &m), 0);
	assert_int_equal(kp_memstat_working_set(&m, 400), 400);
}

static void test_bad(void **st)
{
	struct kp_memstat m;

	(void)st;
	assert_int_equal(ms("", &m), -ENODATA);
	assert_int_equal(ms("pgfault 3\n", &m), -ENODATA);
	assert_int_equal(ms("anon 3\nfile", &m), -EINVAL);
	assert_false(m.has_rss);	/* nothing half-filled */
	assert_int_equal(ms("anon 3\nfile -1\n", &m), -EINVAL);
	assert_int_equal(ms("anon 184467440737095516160\n", &m), -ERANGE);
	assert_int_equal(ms("\x01\xff garbage\n", &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_docker),
		cmocka_unit_test(test_v1_total_wins),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_working_set_edges),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
