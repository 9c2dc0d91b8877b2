/* test_diskstats.c - /proc/diskstats parsing: whole disks, bytes from
 * sectors, rates between two reads, bounds and bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "collect/diskstats.h"

/* kernel 6.x lines: 20 fields; older kernels have 14 */
#define VDA(rs, ws, io) "  253       0 vda 100 5 " #rs " 50 200 7 " #ws " 90 0 " #io " 140 0 0 0 0 10 3\n"
static const char *const PART = "  253       1 vda1 90 5 1000 40 190 7 1000 80 0 50 120 0 0 0 0\n";
static const char *const LOOP = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static bool not_part(const char *name)
{
	return strcmp(name, "vda1") != 0;
}

static void test_bytes_and_filter(void **s)
{
	struct kp_disks d = { 0 };
	char text[512];

	(void)s;
	snprintf(text, sizeof(text), "%s%s%s", LOOP, VDA(2048, 4096, 300), PART);
	assert_int_equal(kp_diskstats_parse(text, 1000000000ull, not_part, &d), 0);
	assert_int_equal(d.n, 1);	/* loop0 never did I/O, vda1 is a partition */
	assert_string_equal(d.d[0].name, "vda");
	assert_int_equal(d.d[0].read_bytes, 2048 * 512);
	assert_int_equal(d.d[0].write_bytes, 4096 * 512);
	assert_int_equal(d.d[0].io_ms, 300);
	assert_false(d.d[0].has_rates);	/* one read: no rates yet */
}

static void test_rates(void **s)
{
	struct kp_disks d = { 0 };

	(void)s;
	assert_int_equal(kp_diskstats_parse(VDA(2048, 4096, 300), 1000000000ull, NULL, &d), 0);
	/* two seconds later: 2 MiB read, 1 MiB written, busy 500 ms */
	assert_int_equal(kp_diskstats_parse(VDA(6144, 6144, 800), 3000000000ull, NULL, &d), 0);
	assert_true(d.d[0].has_rates);
	assert_float_equal(d.d[0].read_bps, 4096.0 * 512 / 2, 1e-6);
	assert_float_equal(d.d[0].write_bps, 2048.0 * 512 / 2, 1e-6);
	assert_float_equal(d.d[0].busy, 0.25, 1e-9);
	/* a counter that went backwards (device re-added): no rates */
	assert_int_equal(kp_diskstats_parse(VDA(10, 10, 10), 4000000000ull, NULL, &d), 0);
	assert_false(d.d[0].has_rates);
}

static void test_bounded(void **s)
{
	struct kp_disks d = { 0 };
	char text[8192] = "";

	(void)s;
	for (int i = 0; i < KP_MAX_DISKS + 3; i++) {
		char line[128];

		snprintf(line, sizeof(line), "8 %d sd%c 1 0 8 1 1 0 8 1 0 1 2\n", i * 16, 'a' + i);
		strcat(text, line);
	}
	assert_int_equal(kp_diskstats_parse(text, 1, NULL, &d), 0);
	assert_int_equal(d.n, KP_MAX_DISKS);
	assert_int_equal(d.left_out, 3);
}

static void test_garbage(void **s)
{
	struct kp_disks d = { 0 };

	(void)s;
	assert_int_equal(kp_diskstats_parse("", 1, NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(kp_diskstats_parse(VDA(1, 1, 1) "253 2 vdb 1 2\n", 2, NULL, &d), -EINVAL);
	assert_int_equal(d.n, 1);	/* what came before the bad line is kept */
	assert_int_equal(kp_diskstats_parse("not diskstats at all", 3, NULL, &d), -EINVAL);
	assert_int_equal(kp_diskstats_parse("253 0 vda x y z\n", 4, NULL, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_and_filter),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
