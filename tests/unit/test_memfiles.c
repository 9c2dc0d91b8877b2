/* test_memfiles.c - the PSI, memory and /proc cgroup parsers on real file
 * shapes (pure v2, hybrid, old kernels) and on empty, truncated and
 * garbage text: a clear error code, never a crash or a made-up number. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "collect/memfiles.h"

static int psi(const char *text, struct kp_psi *out)
{
	return kp_psi_parse(text, strlen(text), out);
}

static void test_psi_full_file(void **s)
{
	struct kp_psi p;

	(void)s;
	assert_int_equal(psi("some avg10=1.25 avg60=0.50 avg300=0.07 total=222191270\n"
			     "full avg10=0.00 avg60=0.14 avg300=0.14 total=5054279\n", &p), 0);
	assert_true(p.some.present);
	assert_true(p.full.present);
	assert_true(p.some.avg10 > 1.2499 && p.some.avg10 < 1.2501);
	assert_true(p.some.avg60 > 0.4999 && p.some.avg60 < 0.5001);
	assert_true(p.some.avg300 > 0.0699 && p.some.avg300 < 0.0701);
	assert_int_equal(p.some.total_us, 222191270);
	assert_int_equal(p.full.total_us, 5054279);
	assert_true(p.full.avg60 > 0.1399 && p.full.avg60 < 0.1401);
}

static void test_psi_some_only(void **s)
{
	struct kp_psi p;

	/* /proc/pressure/cpu before 5.13 has no "full" line */
	(void)s;
	assert_int_equal(psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p), 0);
	assert_true(p.some.present);
	assert_false(p.full.present);
	assert_int_equal(p.some.total_us, 0);
}

static void test_psi_no_trailing_newline(void **s)
{
	struct kp_psi p;

	(void)s;
	assert_int_equal(psi("some avg10=0.00 avg60=0.00 avg300=0.00 total=42", &p), 0);
	assert_int_equal(p.some.total_us, 42);
}

static void test_psi_unknown_key_ignored(void **s)
{
	struct kp_psi p;

	(void)s;
	assert_int_equal(psi("some avg10=0.10 avg60=0.20 avg300=0.30 avg3600=0.40 total=7\n"
			     "full avg10=0.00 avg60=0.00 avg300=0.00 total=3 extra=x\n", &p), 0);
	assert_int_equal(p.some.total_us, 7);
	assert_int_equal(p.full.total_us, 3);
}

static void test_psi_empty(void **s)
{
	struct kp_psi p;

	(void)s;
	assert_int_equal(kp_psi_parse("", 0, &p), -ENODATA);
	assert_false(p.some.present);
}

static void test_psi_truncated(void **s)
{
	static const char *const cut[] = {
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=",
		"some avg10=0.00 avg60=0.00 avg300=0.00 tot",
		"some avg10=0.00 avg60=0.00 avg3",
		"some avg10=0.00 avg60=",
		"some ",
		"some",
		"so",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=12\nfull avg10=0.00 avg6",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=12\nfull",
	};
	struct kp_psi p;

	(void)s;
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
		assert_int_equal(psi(cut[i], &p), -EINVAL);
}

static void test_psi_garbage(void **s)
{
	static const char *const bad[] = {
		"hello world\n",
		"some avg10=x avg60=0.00 avg300=0.00 total=1\n",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=12abc\n",
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1 junk\n",
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n",	/* no some */
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=2\n",	/* twice */
		"some avg10=0.00 avg60=0.00 avg300=0.00 total=99999999999999999999999\n",
		"\x01\x02\xff\xfe",
		"=\n=\n",
	};
	struct kp_psi p;

	(void)s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(psi(bad[i], &p) < 0);
	assert_int_equal(psi(bad[7], &p), -ERANGE);
}

static void test_psi_no_nul_needed(void **s)
{
	/* the buffer is a length, not a C string: bytes after it are ignored */
	const char text[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\nGARBAGE";
	struct kp_psi p;

	(void)s;
	assert_int_equal(kp_psi_parse(text, strlen(text) - 7, &p), 0);
	assert_int_equal(p.some.total_us, 5);
}

static void test_u64(void **s)
{
	uint64_t v;

	(void)s;
	assert_int_equal(kp_memfile_parse_u64("48787456\n", 9, &v), 0);
	assert_int_equal(v, 48787456);
	assert_int_equal(kp_memfile_parse_u64("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(kp_memfile_parse_u64("18446744073709551615\n", 21, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(kp_memfile_parse_u64("18446744073709551616\n", 21, &v), -ERANGE);
	assert_int_equal(kp_memfile_parse_u64("", 0, &v), -ENODATA);
	assert_int_equal(kp_memfile_parse_u64("\n", 1, &v), -ENODATA);
	assert_int_equal(kp_memfile_parse_u64("-5\n", 3, &v), -EINVAL);
	assert_int_equal(kp_memfile_parse_u64("12 34\n", 6, &v), -EINVAL);
	assert_int_equal(kp_memfile_parse_u64("max\n", 4, &v), -EINVAL);
	assert_int_equal(kp_memfile_parse_u64("0x10\n", 5, &v), -EINVAL);
}

static void test_limit(void **s)
{
	uint64_t v;
	bool unl;

	(void)s;
	assert_int_equal(kp_memfile_parse_limit("max\n", 4, &v, &unl), 0);
	assert_true(unl);
	assert_int_equal(kp_memfile_parse_limit("41943040\n", 9, &v, &unl), 0);
	assert_false(unl);
	assert_int_equal(v, 41943040);
	/* v1 "no limit": PAGE_COUNTER_MAX pages in bytes, 4 KiB and 64 KiB pages */
	assert_int_equal(kp_memfile_parse_limit("9223372036854771712\n", 20, &v, &unl), 0);
	assert_true(unl);
	assert_int_equal(kp_memfile_parse_limit("9223372036854710272\n", 20, &v, &unl), 0);
	assert_true(unl);
	/* a real (if absurd) limit just below the sentinel range stays a limit */
	assert_int_equal(kp_memfile_parse_limit("1099511627776\n", 14, &v, &unl), 0);
	assert_false(unl);
	assert_int_equal(kp_memfile_parse_limit("", 0, &v, &unl), -ENODATA);
	assert_int_equal(kp_memfile_parse_limit("ma", 2, &v, &unl), -EINVAL);
	assert_int_equal(kp_memfile_parse_limit("maximum\n", 8, &v, &unl), -EINVAL);
	assert_int_equal(kp_memfile_parse_limit("-1\n", 3, &v, &unl), -EINVAL);
}

static void test_proc_cgroup_hybrid(void **s)
{
	const char *t = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/7402bf\n"
			"2:cpu,cpuacct:/user.slice\n0::/kpulse-test-1/lim\n";
	char out[256];

	(void)s;
	assert_int_equal(kp_proc_cgroup_find(t, strlen(t), "memory", out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/7402bf");
	assert_int_equal(kp_proc_cgroup_find(t, strlen(t), "cpuacct", out, sizeof(out)), 0);
	assert_string_equal(out, "/user.slice");
	/* "name=systemd" is not the "systemd" controller, "cpu" is not "cpuset" */
	assert_int_equal(kp_proc_cgroup_find(t, strlen(t), "systemd", out, sizeof(out)), -ENOENT);
	assert_int_equal(kp_proc_cgroup_find(t, strlen(t), "cpuset", out, sizeof(out)), -ENOENT);
}

static void test_proc_cgroup_edge(void **s)
{
	char out[8];
	const char *v2only = "0::/system.slice/x.service\n";
	const char *noslash = "4:memory:relative\n";
	const char *longp = "4:memory:/a/very/long/path\n";
	const char *cut = "4:memory";

	(void)s;
	assert_int_equal(kp_proc_cgroup_find(v2only, strlen(v2only), "memory", out, sizeof(out)), -ENOENT);
	assert_int_equal(kp_proc_cgroup_find("", 0, "memory", out, sizeof(out)), -ENOENT);
	assert_int_equal(kp_proc_cgroup_find(noslash, strlen(noslash), "memory", out, sizeof(out)), -EINVAL);
	assert_int_equal(kp_proc_cgroup_find(longp, strlen(longp), "memory", out, sizeof(out)), -ERANGE);
	assert_int_equal(kp_proc_cgroup_find(cut, strlen(cut), "memory", out, sizeof(out)), -ENOENT);
	assert_int_equal(kp_proc_cgroup_find("4:memory:", 9, "memory", out, sizeof(out)), -EINVAL);
}

static void test_procs_first(void **s)
{
	int pid = 0;

	(void)s;
	assert_int_equal(kp_cgroup_procs_first("1234\n5678\n", 10, &pid), 0);
	assert_int_equal(pid, 1234);
	assert_int_equal(kp_cgroup_procs_first("42", 2, &pid), 0);
	assert_int_equal(pid, 42);
	assert_int_equal(kp_cgroup_procs_first("", 0, &pid), -ENOENT);
	assert_int_equal(kp_cgroup_procs_first("\n", 1, &pid), -ENOENT);
	assert_int_equal(kp_cgroup_procs_first("abc\n", 4, &pid), -EINVAL);
	assert_int_equal(kp_cgroup_procs_first("12x\n", 4, &pid), -EINVAL);
	assert_int_equal(kp_cgroup_procs_first("0\n", 2, &pid), -ERANGE);
	assert_int_equal(kp_cgroup_procs_first("99999999999\n", 12, &pid), -ERANGE);
}

static int find_v1(const char *text, char *mnt, char *root)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret = kp_cgroup_find_v1(f, "memory", mnt, 256, root, 256);

	fclose(f);
	return ret;
}

static void test_v1_mount_hybrid(void **s)
{
	char mnt[256], root[256];

	(void)s;
	assert_int_equal(find_v1(
		"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
		"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
		mnt, root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/memory");
	assert_string_equal(root, "/");
}

static void test_v1_mount_shapes(void **s)
{
	char mnt[256], root[256];

	(void)s;
	/* optional fields, a sub-tree root, an escaped space */
	assert_int_equal(find_v1(
		"31 25 0:28 /docker/abc /sys/fs/cgroup/my\\040mem rw,nosuid shared:15 master:3 - "
		"cgroup cgroup rw,memory\n", mnt, root), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/my mem");
	assert_string_equal(root, "/docker/abc");
	/* pure v2 and v1 without memory: none */
	assert_int_equal(find_v1(
		"30 23 0:26 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw,memory_recursiveprot\n"
		"32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n"
		"33 31 0:29 / /x rw - cgroup memory rw,cpu\n", mnt, root), -ENOENT);
	/* a tmpfs whose options say memory is not a cgroup */
	assert_int_equal(find_v1("50 1 0:40 / /mnt rw - tmpfs tmpfs rw,memory\n", mnt, root), -ENOENT);
	/* garbage and cut lines */
	assert_int_equal(find_v1("garbage\n\n- - -\n35 31 0:32 / /m rw - cgroup\n", mnt, root), -ENOENT);
	assert_int_equal(find_v1("", mnt, root), -ENOENT);
}

/* Random text over the files' own alphabet: every parser returns 0 or
 * one of its error codes, and never reads past the length it is given
 * (the buffer is exactly that long, so ASan would see it). */
static void test_random_text(void **s)
{
	static const char alphabet[] = "somefullavgtotalmaxmemory=.:,/- \n0123456789";
	unsigned int seed = 12345;

	(void)s;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % 160);
		char *buf = malloc(len ? len : 1), out[64];
		struct kp_psi p;
		uint64_t v;
		bool unl;
		int pid, r;

		for (size_t i = 0; i < len; i++)
			buf[i] = rand_r(&seed) % 8 ? alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)]
						   : (char)rand_r(&seed);
		r = kp_psi_parse(buf, len, &p);
		assert_true(r == 0 || r == -EINVAL || r == -ENODATA || r == -ERANGE);
		r = kp_memfile_parse_u64(buf, len, &v);
		assert_true(r == 0 || r == -EINVAL || r == -ENODATA || r == -ERANGE);
		r = kp_memfile_parse_limit(buf, len, &v, &unl);
		assert_true(r == 0 || r == -EINVAL || r == -ENODATA || r == -ERANGE);
		r = kp_proc_cgroup_find(buf, len, "memory", out, sizeof(out));
		assert_true(r == 0 || r == -EINVAL || r == -ENOENT || r == -ERANGE);
		if (!r)
			assert_true(strlen(out) < sizeof(out) && out[0] == '/');
		r = kp_cgroup_procs_first(buf, len, &pid);
		assert_true(r == 0 || r == -EINVAL || r == -ENOENT || r == -ERANGE);
		if (!r)
			assert_true(pid > 0);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psi_full_file),
		cmocka_unit_test(test_psi_some_only),
		cmocka_unit_test(test_psi_no_trailing_newline),
		cmocka_unit_test(test_psi_unknown_key_ignored),
		cmocka_unit_test(test_psi_empty),
		cmocka_unit_test(test_psi_truncated),
		cmocka_unit_test(test_psi_garbage),
		cmocka_unit_test(test_psi_no_nul_needed),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_proc_cgroup_hybrid),
		cmocka_unit_test(test_proc_cgroup_edge),
		cmocka_unit_test(test_procs_first),
		cmocka_unit_test(test_v1_mount_hybrid),
		cmocka_unit_test(test_v1_mount_shapes),
		cmocka_unit_test(test_random_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
