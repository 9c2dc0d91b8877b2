/* test_cgwalk.c - the cgroup tree walk against nftw(3) (what it replaced)
 * on a real directory tree: the same directories with the same inode
 * numbers, files and symlinked directories left out, nothing below a
 * directory that cannot be opened; and a callback that stops the walk. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "collect/cgwalk.h"

#define MAXN 256

struct seen {
	int n;
	uint64_t ino[MAXN];
	char rel[MAXN][256];
};

static char root[256];
static struct seen ref;

static int add(struct seen *s, uint64_t ino, const char *rel)
{
	if (s->n == MAXN)
		return -1;
	s->ino[s->n] = ino;
	snprintf(s->rel[s->n], sizeof(s->rel[0]), "%s", rel);
	s->n++;
	return 0;
}

static int ref_cb(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)f;
	if (type != FTW_D)
		return 0;
	return add(&ref, sb->st_ino, p[strlen(root)] ? p + strlen(root) : "/");
}

static int walk_cb(void *ctx, uint64_t ino, const char *rel)
{
	return add(ctx, ino, rel);
}

static int find(const struct seen *s, const char *rel)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->rel[i], rel))
			return i;
	return -1;
}

static void mk(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void touch(const char *rel)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

static int setup(void **st)
{
	char p[512];

	(void)st;
	snprintf(root, sizeof(root), "/tmp/kpulse-cgwalk-%d", (int)getpid());
	assert_int_equal(mkdir(root, 0755), 0);
	mk("/a");
	mk("/a/b");
	mk("/a/b/c");
	mk("/a/d");
	mk("/e");
	touch("/cgroup.procs");
	touch("/a/cpu.stat");
	touch("/a/b/memory.current");
	for (int i = 0; i < 40; i++) {	/* a busy level */
		snprintf(p, sizeof(p), "/e/c%02d", i);
		mk(p);
		snprintf(p, sizeof(p), "/e/c%02d/cgroup.procs", i);
		touch(p);
	}
	snprintf(p, sizeof(p), "%s/link", root);
	assert_int_equal(symlink("a", p), 0);
	return 0;
}

static int teardown(void **st)
{
	char cmd[600];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) ? -1 : 0;
}

static void test_same_as_nftw(void **st)
{
	static struct seen got;

	(void)st;
	memset(&ref, 0, sizeof(ref));
	memset(&got, 0, sizeof(got));
	assert_int_equal(nftw(root, ref_cb, 32, FTW_PHYS | FTW_MOUNT), 0);
	assert_int_equal(kp_cgwalk(root, walk_cb, &got), 0);
	assert_int_equal(got.n, ref.n);
	assert_int_equal(got.n, 1 + 5 + 40);	/* root, a, a/b, a/b/c, a/d, e, e/c* */
	for (int i = 0; i < ref.n; i++) {
		int j = find(&got, ref.rel[i]);

		assert_true(j >= 0);
		assert_int_equal(got.ino[j], ref.ino[i]);
	}
	assert_int_equal(find(&got, "/link"), -1);
	assert_int_equal(find(&got, "/a/cpu.stat"), -1);
	assert_true(find(&got, "/a/b/c") > find(&got, "/a/b"));	/* pre-order */
}

static int stop_at_three(void *ctx, uint64_t ino, const char *rel)
{
	int *n = ctx;

	(void)ino;
	(void)rel;
	return ++*n == 3 ? 42 : 0;
}

static void test_stop_and_errors(void **st)
{
	int n = 0;
	char p[512];

	(void)st;
	assert_int_equal(kp_cgwalk(root, stop_at_three, &n), 42);
	assert_int_equal(n, 3);
	snprintf(p, sizeof(p), "%s/nowhere", root);
	assert_int_equal(kp_cgwalk(p, stop_at_three, &n), -ENOENT);
	snprintf(p, sizeof(p), "%s/cgroup.procs", root);
	assert_int_equal(kp_cgwalk(p, stop_at_three, &n), -ENOTDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_nftw),
		cmocka_unit_test(test_stop_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
