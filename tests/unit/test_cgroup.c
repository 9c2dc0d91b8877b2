/* test_cgroup.c - finding the cgroup v2 mount in mountinfo text from pure
 * v2, hybrid and v1-only hosts, with escapes and garbage; ids to paths by
 * walking a directory tree, and one walk settling every id it missed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "collect/cgroup.h"

static int find(const char *text, char *out, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret = kp_cgroup_find_v2(f, out, len);

	fclose(f);
	return ret;
}

static void test_pure_v2(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find(
		"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
		"30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
}

static void test_hybrid(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find(
		"25 24 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
		"26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
		"27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
		"31 25 0:28 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n",
		out, sizeof(out)), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
}

static void test_no_optional_fields(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find("40 1 0:30 / /cg rw - cgroup2 none rw\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/cg");
}

static void test_escaped_mountpoint(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find("40 1 0:30 / /mnt/my\\040cgroups rw shared:1 - cgroup2 none rw\n",
			      out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/my cgroups");
}

static void test_v1_only_and_garbage(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find("31 25 0:28 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n",
			      out, sizeof(out)), -ENOENT);
	assert_int_equal(find("", out, sizeof(out)), -ENOENT);
	assert_int_equal(find("garbage\n\n- cgroup2\ncgroup2 cgroup2 cgroup2\n", out, sizeof(out)), -ENOENT);
	/* a mount point that does not fit is not returned truncated */
	assert_int_equal(find("40 1 0:30 / /a/very/long/mount/point rw - cgroup2 none rw\n",
			      out, 8), -ENOENT);
}

static void test_first_of_several(void **s)
{
	char out[256];

	(void)s;
	assert_int_equal(find("40 1 0:30 / /first rw - cgroup2 none rw\n"
			      "41 1 0:30 / /second rw - cgroup2 none rw\n", out, sizeof(out)), 0);
	assert_string_equal(out, "/first");
}

static uint64_t ino(const char *root, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void mk(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void rm(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(rmdir(p), 0);
}

static void test_walk_settles_every_unknown_id(void **s)
{
	char root[] = "/tmp/kp-cgwalk-XXXXXX";
	struct kp_cgroups *cg;
	uint64_t b, c, d, w;
	const uint64_t sec = 1000000000ull;

	(void)s;
	assert_non_null(mkdtemp(root));
	mk(root, "/a");
	mk(root, "/a/b");
	mk(root, "/c");
	mk(root, "/d");
	b = ino(root, "/a/b");
	c = ino(root, "/c");
	d = ino(root, "/d");
	cg = kp_cgroups__new(root);
	assert_non_null(cg);
	w = kp_cgroups__walks(cg);
	assert_false(kp_cgroups__missing(cg, 4242, w));	/* no walk yet */
	assert_string_equal(kp_cgroups__path(cg, b, 10 * sec), "/a/b");
	assert_string_equal(kp_cgroups__path(cg, ino(root, ""), 10 * sec), "/");
	assert_false(kp_cgroups__missing(cg, c, w));
	/* c and d go; a walk made for another id (new, unknown) settles both */
	rm(root, "/c");
	rm(root, "/d");
	w = kp_cgroups__walks(cg);
	assert_false(kp_cgroups__missing(cg, c, w));	/* nothing walked since */
	assert_null(kp_cgroups__path(cg, 4242, 10 * sec + 1));	/* rate-limited */
	assert_false(kp_cgroups__missing(cg, c, w));
	assert_null(kp_cgroups__path(cg, 4242, 12 * sec));
	assert_true(kp_cgroups__missing(cg, c, w));
	assert_true(kp_cgroups__missing(cg, d, w));
	assert_true(kp_cgroups__missing(cg, 4242, w));
	assert_false(kp_cgroups__missing(cg, b, w));
	/* an id first seen after that walk is not settled by it */
	assert_false(kp_cgroups__missing(cg, 4343, kp_cgroups__walks(cg)));
	/* a lookup never walks: a cgroup made since is found by the next
	 * walk due (half a second apart at least) */
	mk(root, "/e");
	w = kp_cgroups__walks(cg);
	assert_null(kp_cgroups__lookup(cg, ino(root, "/e")));
	assert_false(kp_cgroups__walk_due(cg, 12 * sec + sec / 4));
	assert_int_equal(kp_cgroups__walks(cg), w);
	assert_true(kp_cgroups__walk_due(cg, 12 * sec + sec / 2));
	assert_int_equal(kp_cgroups__walks(cg), w + 1);
	assert_string_equal(kp_cgroups__lookup(cg, ino(root, "/e")), "/e");
	rm(root, "/e");
	assert_null(kp_cgroups__lookup(cg, ino(root, "/a/b") + 1000000));
	kp_cgroups__free(cg);
	rm(root, "/a/b");
	rm(root, "/a");
	rm(root, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_v2),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_no_optional_fields),
		cmocka_unit_test(test_escaped_mountpoint),
		cmocka_unit_test(test_v1_only_and_garbage),
		cmocka_unit_test(test_first_of_several),
		cmocka_unit_test(test_walk_settles_every_unknown_id),
	};
	return cmocka_run_group_tests_name("cgroup", tests, NULL, NULL);
}
