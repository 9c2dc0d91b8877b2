/* test_netrates.c - interface rates between ticks: exact byte rates over
 * the read times, devices matched by name whatever their order, no rate
 * for a device new since the last tick or whose counters went back, a
 * repeated reading ignored, an unreadable file forgetting the baseline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/netrates.h"

#define S 1000000000ull

static void dev(struct kp_netdevs *l, unsigned int i, const char *name, uint64_t rx, uint64_t tx)
{
	snprintf(l->d[i].name, sizeof(l->d[i].name), "%s", name);
	memset(l->d[i].v, 0, sizeof(l->d[i].v));
	l->d[i].v[KP_NET_RX_BYTES] = rx;
	l->d[i].v[KP_NET_TX_BYTES] = tx;
	l->d[i].v[KP_NET_RX_PACKETS] = rx / 100;	/* not a byte count: not used */
	if (l->n <= i)
		l->n = i + 1;
}

static void test_rates_by_name(void **st)
{
	static struct kp_netrates nr;
	static struct kp_netdevs l;
	const struct kp_netrate *r;

	(void)st;
	dev(&l, 0, "lo", 1000, 1000);
	dev(&l, 1, "eth0", 50000, 7000);
	kp_netrates_update(&nr, &l, 10 * S);
	assert_null(kp_netrates_get(&nr, "lo", 0));	/* one reading: no rate */
	assert_null(kp_netrates_get(&nr, "eth0", 1));

	/* two seconds later, listed in another order, a veth new */
	memset(&l, 0, sizeof(l));
	dev(&l, 0, "eth0", 50000 + 4000, 7000 + 600);
	dev(&l, 1, "veth1", 999, 999);
	dev(&l, 2, "lo", 1000 + 300, 1000 + 300);
	kp_netrates_update(&nr, &l, 12 * S);
	r = kp_netrates_get(&nr, "eth0", 0);
	assert_non_null(r);
	assert_true(r->rx_bps == 2000.0 && r->tx_bps == 300.0);
	r = kp_netrates_get(&nr, "lo", 0);	/* a wrong hint still finds it */
	assert_non_null(r);
	assert_true(r->rx_bps == 150.0 && r->tx_bps == 150.0);
	assert_null(kp_netrates_get(&nr, "veth1", 1));
	assert_null(kp_netrates_get(&nr, "wlan0", 0));

	/* the same reading again (a JSON request between ticks): unchanged */
	kp_netrates_update(&nr, &l, 12 * S);
	r = kp_netrates_get(&nr, "eth0", 0);
	assert_true(r && r->rx_bps == 2000.0);

	/* half a second on: veth1 has its rate now; eth0 was made again */
	dev(&l, 0, "eth0", 10, 10);
	dev(&l, 1, "veth1", 999 + 50, 999);
	kp_netrates_update(&nr, &l, 12 * S + S / 2);
	assert_null(kp_netrates_get(&nr, "eth0", 0));
	r = kp_netrates_get(&nr, "veth1", 1);
	assert_true(r && r->rx_bps == 100.0 && r->tx_bps == 0.0);
	assert_true(kp_netrates_get(&nr, "lo", 2)->rx_bps == 0.0);
}

static void test_unreadable_forgets(void **st)
{
	static struct kp_netrates nr;
	static struct kp_netdevs l;

	(void)st;
	dev(&l, 0, "lo", 100, 100);
	kp_netrates_update(&nr, &l, 1 * S);
	dev(&l, 0, "lo", 200, 200);
	kp_netrates_update(&nr, &l, 2 * S);
	assert_non_null(kp_netrates_get(&nr, "lo", 0));
	kp_netrates_update(&nr, NULL, 3 * S);	/* /proc/net/dev unreadable */
	assert_null(kp_netrates_get(&nr, "lo", 0));
	dev(&l, 0, "lo", 300, 300);
	kp_netrates_update(&nr, &l, 4 * S);	/* a new baseline, not 100 B over 3 s */
	assert_null(kp_netrates_get(&nr, "lo", 0));
	dev(&l, 0, "lo", 400, 300);
	kp_netrates_update(&nr, &l, 5 * S);
	assert_true(kp_netrates_get(&nr, "lo", 0)->rx_bps == 100.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_by_name),
		cmocka_unit_test(test_unreadable_forgets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
