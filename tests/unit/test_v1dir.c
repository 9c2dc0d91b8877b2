/* test_v1dir.c - kp_v1dir_is_own on real files in a temporary directory:
 * the same relative path counts without reading anything, otherwise the
 * task lists must match; the v1 side's list is read again only once
 * KP_V1DIR_PROCS_FRESH_NS have passed (many containers share it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "collect/v1dir.h"

static char root[64];

static void put(const char *dir, const char *procs)
{
	char path[256];
	FILE *f;

	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(procs, f);
	fclose(f);
}

static void test_is_own_and_fresh_list(void **s)
{
	char mnt[128], v1[192], v2a[192], v2b[192], path[256];
	uint64_t t = 1000000000ull;

	(void)s;
	snprintf(root, sizeof(root), "/tmp/kp-v1dir-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(mnt, sizeof(mnt), "%s/v1", root);
	snprintf(v1, sizeof(v1), "%s/shared", mnt);
	snprintf(v2a, sizeof(v2a), "%s/a", root);
	snprintf(v2b, sizeof(v2b), "%s/b", root);
	mkdir(mnt, 0700);
	put(v1, "7\n3\n");
	put(v2a, "3\n7\n");
	put(v2b, "3\n");

	/* the same relative path: its own, whatever the tasks */
	assert_true(kp_v1dir_is_own(mnt, "/shared", v2b, v1, t));
	/* the same tasks in another order: its own; a subset: shared */
	assert_true(kp_v1dir_is_own(mnt, "/a", v2a, v1, t));
	assert_false(kp_v1dir_is_own(mnt, "/b", v2b, v1, t));

	/* the v1 list changes: within the freshness period the list read
	 * before still answers, after it the new one does */
	put(v1, "3\n");
	assert_false(kp_v1dir_is_own(mnt, "/b", v2b, v1, t + KP_V1DIR_PROCS_FRESH_NS - 1));
	assert_true(kp_v1dir_is_own(mnt, "/b", v2b, v1, t + KP_V1DIR_PROCS_FRESH_NS));
	/* the container side is read every time */
	put(v2b, "3\n9\n");
	assert_false(kp_v1dir_is_own(mnt, "/b", v2b, v1, t + KP_V1DIR_PROCS_FRESH_NS));

	/* an unreadable v1 list: not its own, until it can be read again */
	snprintf(path, sizeof(path), "%s/cgroup.procs", v1);
	unlink(path);
	put(v2b, "3\n");
	assert_false(kp_v1dir_is_own(mnt, "/b", v2b, v1, t + 3 * KP_V1DIR_PROCS_FRESH_NS));
	put(v1, "3\n");
	assert_true(kp_v1dir_is_own(mnt, "/b", v2b, v1, t + 5 * KP_V1DIR_PROCS_FRESH_NS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_own_and_fresh_list),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (root[0] && system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return r;
}
