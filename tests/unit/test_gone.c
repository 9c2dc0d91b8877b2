/* test_gone.c - the dying and the buried (collect/gone.c): announced ids
 * are dying until settled, settled ids are buried, buried ids are kept
 * while they show up and forgotten two collections after, an id is
 * settled once, and the table stays bounded. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "collect/gone.h"

static void count(void *ctx, uint64_t id)
{
	(void)id;
	(*(int *)ctx)++;
}

static void test_dying_then_buried_then_forgotten(void **state)
{
	struct kp_gone *g = kp_gone__new();
	int n = 0;

	(void)state;
	assert_non_null(g);
	uint64_t id = 9;

	kp_gone__note(g, 7);
	kp_gone__note(g, 7);	/* twice: one death */
	kp_gone__ring_cb(g, &id, sizeof(id));	/* as the ring gives it */
	kp_gone__ring_cb(g, &id, 3);		/* short: ignored */
	assert_true(kp_gone__dying(g, 7));
	assert_false(kp_gone__buried(g, 7));
	assert_int_equal(kp_gone__count_dying(g), 2);
	kp_gone__settle(g, 10, count, &n);
	assert_int_equal(n, 2);
	assert_false(kp_gone__dying(g, 7));
	assert_true(kp_gone__buried(g, 7));
	kp_gone__settle(g, 11, count, &n);	/* nothing left to settle */
	assert_int_equal(n, 2);
	kp_gone__note(g, 7);	/* a late announcement does not revive it */
	assert_false(kp_gone__dying(g, 7));
	kp_gone__hold(g, 9, 11);	/* 9 showed up again at 11 */
	kp_gone__expire(g, 11);
	assert_true(kp_gone__buried(g, 7));
	kp_gone__expire(g, 12);
	assert_false(kp_gone__buried(g, 7));
	assert_true(kp_gone__buried(g, 9));
	kp_gone__expire(g, 13);
	assert_false(kp_gone__buried(g, 9));
	assert_int_equal(kp_gone__count_buried(g), 0);
	assert_int_equal(kp_gone__announced_total(g), 1);
	kp_gone__free(g);
}

static void test_mark_once_per_dying_id(void **state)
{
	struct kp_gone *g = kp_gone__new();
	int n = 0;

	(void)state;
	kp_gone__note(g, 5);
	assert_false(kp_gone__test_and_mark(g, 5));
	assert_true(kp_gone__test_and_mark(g, 5));
	assert_false(kp_gone__test_and_mark(g, 6));	/* not dying */
	kp_gone__settle(g, 1, count, &n);
	assert_false(kp_gone__test_and_mark(g, 5));	/* buried now */
	kp_gone__free(g);
}

static void test_bounded(void **state)
{
	struct kp_gone *g = kp_gone__new();

	(void)state;
	for (uint64_t id = 1; id <= KP_GONE_MAX; id++)
		assert_int_equal(kp_gone__bury(g, id, 1), 0);
	assert_int_equal(kp_gone__bury(g, KP_GONE_MAX + 1, 1), -ENOSPC);
	kp_gone__note(g, KP_GONE_MAX + 2);
	assert_false(kp_gone__dying(g, KP_GONE_MAX + 2));
	assert_int_equal(kp_gone__count_buried(g), KP_GONE_MAX);
	kp_gone__expire(g, 3);
	assert_int_equal(kp_gone__count_buried(g), 0);
	assert_int_equal(kp_gone__bury(g, 1, 3), 0);
	kp_gone__free(g);
	kp_gone__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dying_then_buried_then_forgotten),
		cmocka_unit_test(test_mark_once_per_dying_id),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
