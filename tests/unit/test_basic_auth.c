/* test_basic_auth.c - basic auth with real bcrypt on the real worker
 * thread: verdicts arrive through the eventfd, are remembered, a flood of
 * wrong passwords is bounded, and nothing is answered before its check. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <cmocka.h>
#include "outputs/basic_auth.h"

/* htpasswd -nbBC 10 alice s3cret */
#define HASH "$2y$10$40DISLwRLRCLBtvig.JGL./i7idskeuH38h5WkGBpxkKToNoBjI.S"

static int calls;

static void done(void *cls)
{
	(void)cls;
	calls++;
}

/* Wait for the worker and hand its verdicts back; how many came. */
static int settle(struct kp_auth *a, int want)
{
	int before = calls;

	while (calls - before < want) {
		struct pollfd p = { .fd = kp_auth__fd(a), .events = POLLIN };

		if (poll(&p, 1, 5000) != 1)
			break;
		kp_auth__poll(a);
	}
	return calls - before;
}

static struct kp_auth *auth(void)
{
	struct kp_webcfg_user u[2] = { { "alice", HASH }, { "bob", HASH } };
	struct kp_auth *a = kp_auth__new();

	assert_non_null(a);
	assert_int_equal(kp_auth__set_users(a, u, 2), 0);
	calls = 0;
	return a;
}

static void test_no_users_no_check(void **st)
{
	struct kp_auth *a = kp_auth__new();

	(void)st;
	assert_false(kp_auth__enabled(a));
	assert_int_equal(kp_auth__check(a, NULL, NULL, done, NULL), KP_AUTH_OK);
	kp_auth__free(a);
}

static void test_verdicts(void **st)
{
	struct kp_auth *a = auth();
	uint64_t checks, busy;

	(void)st;
	assert_true(kp_auth__enabled(a));
	assert_int_equal(kp_auth__check(a, NULL, NULL, done, NULL), KP_AUTH_DENIED);
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(kp_auth__check(a, "alice", "wrong", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(kp_auth__check(a, "mallory", "s3cret", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(settle(a, 3), 3);
	/* asked again: from memory, no bcrypt */
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_OK);
	assert_int_equal(kp_auth__check(a, "alice", "wrong", done, NULL), KP_AUTH_DENIED);
	assert_int_equal(kp_auth__check(a, "mallory", "s3cret", done, NULL), KP_AUTH_DENIED);
	kp_auth__counts(a, &checks, &busy);
	assert_int_equal(checks, 3);
	assert_int_equal(busy, 0);
	/* the same password as another user's is that user's business */
	assert_int_equal(kp_auth__check(a, "bob", "s3cret", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(settle(a, 1), 1);
	assert_int_equal(kp_auth__check(a, "bob", "s3cret", done, NULL), KP_AUTH_OK);
	kp_auth__free(a);
}

static void test_flood_is_bounded(void **st)
{
	struct kp_auth *a = auth();
	uint64_t checks, busy;
	char pass[32];

	(void)st;
	for (int i = 0; i < KP_AUTH_MAX_PENDING; i++) {
		snprintf(pass, sizeof(pass), "guess-%d", i);
		assert_int_equal(kp_auth__check(a, "alice", pass, done, NULL), KP_AUTH_PENDING);
	}
	assert_int_equal(kp_auth__check(a, "alice", "one-more", done, NULL), KP_AUTH_BUSY);
	kp_auth__counts(a, &checks, &busy);
	assert_int_equal(busy, 1);
	/* freed with checks pending: no callback, no leak (ASan run) */
	kp_auth__free(a);
}

static void test_new_users_forget_verdicts(void **st)
{
	struct kp_auth *a = auth();
	struct kp_webcfg_user only_bob = { "bob", HASH };

	(void)st;
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(settle(a, 1), 1);
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_OK);
	assert_int_equal(kp_auth__set_users(a, &only_bob, 1), 0);
	/* alice is gone: checked against the stand-in hash, refused */
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_PENDING);
	assert_int_equal(settle(a, 1), 1);
	assert_int_equal(kp_auth__check(a, "alice", "s3cret", done, NULL), KP_AUTH_DENIED);
	kp_auth__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_users_no_check),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_flood_is_bounded),
		cmocka_unit_test(test_new_users_forget_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
