/* test_portwin.c - per-port request latency windows: ordering, baselines,
 * what a window holds as time passes, ports that lose their name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/portwin.h"
#include "analysis/window.h"
#include "model/hist.h"

#define S 1000000000ull

static uint64_t count(const struct kp_portwin *pw, unsigned int i, uint64_t now, int *dir,
		      int *port)
{
	static uint64_t out[KP_HIST_BUCKETS];

	memset(out, 0, sizeof(out));
	return kp_window__sum(kp_portwin__get(pw, i, dir, port), kp_portwin__span(pw), now, out);
}

static void test_ports_windows_and_pruning(void **st)
{
	static uint64_t a[KP_HIST_BUCKETS], b[KP_HIST_BUCKETS], o[KP_HIST_BUCKETS];
	struct kp_portwin *pw = kp_portwin__new(60 * S, 5 * S);
	int dir, port;

	(void)st;
	a[100] = 7;		/* there before the daemon's first round: a baseline */
	assert_int_equal(kp_portwin__push(pw, 0, 8080, a, 0, 1 * S), 0);
	kp_portwin__end_round(pw);
	a[100] += 5;
	b[200] = 3;		/* new since the last round: counted from zero */
	o[300] = 2;
	kp_portwin__push(pw, 1, 5432, b, 1 * S, 2 * S);
	kp_portwin__push(pw, 0, KP_PORT_OTHER, o, 1 * S, 2 * S);
	kp_portwin__push(pw, 0, 8080, a, 1 * S, 2 * S);
	kp_portwin__push(pw, 0, 443, o, 1 * S, 2 * S);
	kp_portwin__end_round(pw);
	assert_int_equal(kp_portwin__count(pw), 4);
	/* inbound 443, 8080, other; then outbound 5432 */
	assert_int_equal(count(pw, 0, 2 * S, &dir, &port), 2);
	assert_int_equal(port, 443);
	assert_int_equal(count(pw, 1, 2 * S, &dir, &port), 5);
	assert_int_equal(port, 8080);
	assert_int_equal(count(pw, 2, 2 * S, &dir, &port), 2);
	assert_int_equal(port, KP_PORT_OTHER);
	assert_int_equal(dir, 0);
	assert_int_equal(count(pw, 3, 2 * S, &dir, &port), 3);
	assert_int_equal(dir, 1);
	assert_int_equal(port, 5432);

	/* a minute on, only 8080 still has a name and new requests */
	a[100] += 1;
	kp_portwin__push(pw, 0, 8080, a, 2 * S, 70 * S);
	kp_portwin__end_round(pw);
	assert_int_equal(kp_portwin__count(pw), 1);
	assert_int_equal(count(pw, 0, 70 * S, &dir, &port), 1);	/* older slots left */
	assert_int_equal(port, 8080);
	assert_null(kp_portwin__get(pw, 1, &dir, &port));
	kp_portwin__free(pw);
	kp_portwin__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_windows_and_pruning),
	};
	return cmocka_run_group_tests_name("portwin", tests, NULL, NULL);
}
