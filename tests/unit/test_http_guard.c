/* test_http_guard.c - the HTTP connection guard on an injected clock:
 * caps per address (IPv4, IPv6 /64, v4-mapped) and in all, who gives way
 * (waiting for headers first, then a long-sending response, else the new
 * connection), header, response and keep-alive deadlines however busy the
 * connection looks, and the counters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "outputs/http_guard.h"

static const struct kp_guard_limits lim = {
	.max_connections = 4,
	.max_per_address = 2,
	.header_ms = 5000,
	.response_ms = 30000,
	.keepalive_ms = 15000,
	.evict_sending_ms = 2000,
};

/* the fds the guard shut, in order */
static int shut_fds[64];
static int n_shut;

static void shut(void *cls, int fd)
{
	(void)cls;
	assert_true(n_shut < 64);
	shut_fds[n_shut++] = fd;
}

static struct kp_guard *guard(void)
{
	struct kp_guard *g = kp_guard__new(&lim, shut, NULL);

	assert_non_null(g);
	n_shut = 0;
	return g;
}

static struct kp_guard_conn *open4(struct kp_guard *g, int fd, const char *ip, uint64_t now)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
	return kp_guard__open(g, fd, (struct sockaddr *)&sa, sizeof(sa), now);
}

static struct kp_guard_conn *open6(struct kp_guard *g, int fd, const char *ip, uint64_t now)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	assert_int_equal(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
	return kp_guard__open(g, fd, (struct sockaddr *)&sa, sizeof(sa), now);
}

static void test_address_cap_evicts_oldest_waiting(void **st)
{
	struct kp_guard *g = guard();

	(void)st;
	open4(g, 10, "10.0.0.1", 0);
	open4(g, 11, "10.0.0.1", 1);
	open4(g, 20, "10.0.0.2", 2);	/* another address: no effect */
	assert_int_equal(n_shut, 0);
	open4(g, 12, "10.0.0.1", 3);
	assert_int_equal(n_shut, 1);
	assert_int_equal(shut_fds[0], 10);	/* the oldest of that address */
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_EVICTED], 1);
	assert_int_equal(kp_guard__connections(g), 3);
	kp_guard__free(g);
}

static void test_sending_gives_way_only_when_old(void **st)
{
	struct kp_guard *g = guard();
	struct kp_guard_conn *a, *b;

	(void)st;
	a = open4(g, 10, "10.0.0.1", 0);
	b = open4(g, 11, "10.0.0.1", 0);
	kp_guard__request(g, a, 100);
	kp_guard__request(g, b, 200);
	/* both sending for less than 2 s: the newcomer is refused */
	open4(g, 12, "10.0.0.1", 1000);
	assert_int_equal(n_shut, 1);
	assert_int_equal(shut_fds[0], 12);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_ADDRESS], 1);
	/* later the oldest response gives way */
	open4(g, 13, "10.0.0.1", 2100);
	assert_int_equal(n_shut, 2);
	assert_int_equal(shut_fds[1], 10);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_EVICTED], 1);
	kp_guard__free(g);
}

static void test_total_cap(void **st)
{
	struct kp_guard *g = guard();
	struct kp_guard_conn *c[4];
	char ip[32];

	(void)st;
	for (int i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i);
		c[i] = open4(g, 30 + i, ip, 10);
		kp_guard__request(g, c[i], 10);
	}
	open4(g, 40, "10.0.2.1", 20);	/* all sending, recently: refused */
	assert_int_equal(shut_fds[0], 40);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_CONNECTIONS], 1);
	kp_guard__done(g, c[2], 30);	/* keep-alive, waiting: may give way */
	open4(g, 41, "10.0.2.1", 40);
	assert_int_equal(n_shut, 2);
	assert_int_equal(shut_fds[1], 32);
	assert_int_equal(kp_guard__connections(g), 4);
	kp_guard__free(g);
}

static void test_ipv6_by_64_and_mapped_v4(void **st)
{
	struct kp_guard *g = guard();

	(void)st;
	open6(g, 1, "2001:db8:1:2::1", 0);
	open6(g, 2, "2001:db8:1:2:ffff::9", 0);	/* same /64 */
	open6(g, 3, "2001:db8:1:3::1", 0);		/* another /64 */
	assert_int_equal(n_shut, 0);
	open6(g, 4, "2001:db8:1:2:abcd::1", 1);
	assert_int_equal(n_shut, 1);
	assert_int_equal(shut_fds[0], 1);
	kp_guard__free(g);

	g = guard();
	open4(g, 1, "192.0.2.7", 0);
	open6(g, 2, "::ffff:192.0.2.7", 0);	/* the same IPv4 client */
	open6(g, 3, "::ffff:192.0.2.7", 1);
	assert_int_equal(n_shut, 1);
	assert_int_equal(shut_fds[0], 1);
	kp_guard__free(g);
}

static void test_header_deadline_is_absolute(void **st)
{
	struct kp_guard *g = guard();
	struct kp_guard_conn *slow, *fast;

	(void)st;
	slow = open4(g, 1, "10.0.0.1", 1000);
	fast = open4(g, 2, "10.0.0.2", 1000);
	kp_guard__request(g, fast, 1001);
	assert_int_equal(kp_guard__next_ms(g), 6000);
	/* however often bytes trickle in, nothing moves the deadline */
	kp_guard__sweep(g, 5999);
	assert_int_equal(n_shut, 0);
	kp_guard__sweep(g, 6000);
	assert_int_equal(n_shut, 1);
	assert_int_equal(shut_fds[0], 1);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_HEADER_TIMEOUT], 1);
	assert_int_equal(kp_guard__next_ms(g), 31001);
	/* the response deadline */
	kp_guard__sweep(g, 31001);
	assert_int_equal(n_shut, 2);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_RESPONSE_TIMEOUT], 1);
	assert_int_equal(kp_guard__connections(g), 0);
	/* MHD closes them; closing a shut entry changes no count */
	kp_guard__close(g, slow);
	kp_guard__close(g, fast);
	assert_int_equal(kp_guard__connections(g), 0);
	assert_int_equal(kp_guard__next_ms(g), UINT64_MAX);
	kp_guard__free(g);
}

static void test_keepalive_deadline(void **st)
{
	struct kp_guard *g = guard();
	struct kp_guard_conn *c;

	(void)st;
	c = open4(g, 1, "10.0.0.1", 0);
	kp_guard__request(g, c, 10);
	kp_guard__done(g, c, 500);
	kp_guard__sweep(g, 15499);
	assert_int_equal(n_shut, 0);
	kp_guard__request(g, c, 15000);		/* the next request came in time */
	kp_guard__sweep(g, 15500);
	assert_int_equal(n_shut, 0);
	kp_guard__done(g, c, 16000);
	kp_guard__sweep(g, 31000);
	assert_int_equal(n_shut, 1);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_HEADER_TIMEOUT], 1);
	kp_guard__close(g, c);
	kp_guard__free(g);
}

static void test_counts_and_null(void **st)
{
	struct kp_guard *g = guard();

	(void)st;
	kp_guard__count(g, KP_HTTP_REJ_MEMORY);
	kp_guard__count(g, KP_HTTP_REJ_IDLE_TIMEOUT);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_MEMORY], 1);
	assert_int_equal(kp_guard__rejected(g)[KP_HTTP_REJ_IDLE_TIMEOUT], 1);
	/* an entry the server could not allocate is simply not tracked */
	kp_guard__request(g, NULL, 0);
	kp_guard__done(g, NULL, 0);
	kp_guard__close(g, NULL);
	/* an unknown address family shares one key */
	kp_guard__open(g, 5, NULL, 0, 0);
	kp_guard__open(g, 6, NULL, 0, 0);
	kp_guard__open(g, 7, NULL, 0, 0);
	assert_int_equal(n_shut, 1);
	for (int i = 0; i < KP_HTTP_REJ_N; i++)
		assert_non_null(kp_http_reject_names[i]);
	kp_guard__free(g);
	kp_guard__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_cap_evicts_oldest_waiting),
		cmocka_unit_test(test_sending_gives_way_only_when_old),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_ipv6_by_64_and_mapped_v4),
		cmocka_unit_test(test_header_deadline_is_absolute),
		cmocka_unit_test(test_keepalive_deadline),
		cmocka_unit_test(test_counts_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
