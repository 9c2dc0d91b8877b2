/* test_ports.c - port folding for request latency: the busiest ports get
 * names, the rest fold into "other", and every series stays monotonic and
 * adds up to the kernel's totals, checked round by round against sums this
 * test keeps on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/ports.h"
#include "model/hist.h"
#include "xorshift.h"

#define SEC 1000000000ull

/* The kernel side of one (cgroup, direction): cumulative figures per port. */
struct fake {
	struct kp_lat lat[65536];
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	return f;
}

/* @n requests of @ns each on @port. */
static void hit(struct fake *f, uint16_t port, uint64_t n, uint64_t ns)
{
	struct kp_lat *l = &f->lat[port];

	l->count += n;
	l->sum_ns += n * ns;
	l->hist[kp_hist_bucket(ns)] += n;
}

static void feed(struct kp_portset *ps, const struct fake *f, uint64_t now)
{
	for (unsigned int p = 0; p < 65536; p++)
		if (f->lat[p].count)
			assert_int_equal(kp_portset__update(ps, (uint16_t)p, &f->lat[p], NULL), 0);
	kp_portset__settle(ps, now);
}

static bool is_named(const struct kp_portset *ps, uint16_t port, struct kp_lat *out)
{
	for (unsigned int i = 0; i < kp_portset__named_count(ps); i++)
		if (kp_portset__named(ps, i, out) == port)
			return true;
	return false;
}

/* Named series plus "other" equal the kernel's totals, bucket by bucket. */
static void assert_adds_up(const struct kp_portset *ps, const struct fake *f)
{
	static struct kp_lat total, got, l;

	memset(&total, 0, sizeof(total));
	memset(&got, 0, sizeof(got));
	for (unsigned int p = 0; p < 65536; p++) {
		total.count += f->lat[p].count;
		total.sum_ns += f->lat[p].sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			total.hist[b] += f->lat[p].hist[b];
	}
	for (unsigned int i = 0; i < kp_portset__named_count(ps); i++) {
		kp_portset__named(ps, i, &l);
		got.count += l.count;
		got.sum_ns += l.sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			got.hist[b] += l.hist[b];
	}
	kp_portset__other(ps, &l);
	got.count += l.count;
	got.sum_ns += l.sum_ns;
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		got.hist[b] += l.hist[b];
	assert_int_equal(got.count, total.count);
	assert_int_equal(got.sum_ns, total.sum_ns);
	assert_memory_equal(got.hist, total.hist, sizeof(got.hist));
}

static void test_few_ports_all_named(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(4);
	struct kp_lat l;

	(void)s;
	hit(f, 80, 10, 1000);
	hit(f, 5432, 3, 200000);
	feed(ps, f, 1 * SEC);
	assert_int_equal(kp_portset__named_count(ps), 2);
	assert_int_equal(kp_portset__named(ps, 0, &l), 80);	/* ascending */
	assert_int_equal(l.count, 10);
	assert_int_equal(l.sum_ns, 10000);
	assert_int_equal(kp_portset__named(ps, 1, &l), 5432);
	assert_int_equal(l.count, 3);
	assert_int_equal(l.hist[kp_hist_bucket(200000)], 3);
	assert_false(kp_portset__other(ps, &l));	/* nothing to show */
	assert_int_equal(l.count, 0);
	assert_adds_up(ps, f);
	kp_portset__free(ps);
	free(f);
}

static void test_busiest_named_rest_other(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(2);
	struct kp_lat l;

	(void)s;
	hit(f, 1000, 5, 1000);
	hit(f, 2000, 50, 1000);
	hit(f, 3000, 1, 1000);
	hit(f, 4000, 20, 1000);
	feed(ps, f, 1 * SEC);
	assert_int_equal(kp_portset__named_count(ps), 2);
	assert_true(is_named(ps, 2000, &l));
	assert_int_equal(l.count, 50);
	assert_true(is_named(ps, 4000, &l));
	assert_int_equal(l.count, 20);
	assert_true(kp_portset__other(ps, &l));
	assert_int_equal(l.count, 6);
	assert_adds_up(ps, f);
	kp_portset__free(ps);
	free(f);
}

static void test_port_zero_is_other(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(8);
	struct kp_lat l;

	(void)s;
	hit(f, 0, 100, 1000);	/* the kernel's overflow key */
	hit(f, 443, 1, 1000);
	feed(ps, f, 1 * SEC);
	assert_int_equal(kp_portset__named_count(ps), 1);
	assert_int_equal(kp_portset__named(ps, 0, &l), 443);
	assert_true(kp_portset__other(ps, &l));
	assert_int_equal(l.count, 100);
	kp_portset__free(ps);
	free(f);
}

static void test_zero_names_everything_other(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(0);
	struct kp_lat l;

	(void)s;
	hit(f, 80, 7, 1000);
	hit(f, 81, 8, 1000);
	feed(ps, f, 1 * SEC);
	assert_int_equal(kp_portset__named_count(ps), 0);
	assert_true(kp_portset__other(ps, &l));
	assert_int_equal(l.count, 15);
	assert_int_equal(kp_portset__ports(ps), 2);
	kp_portset__free(ps);
	free(f);
}

/* A port "other" already showed keeps that part in "other" when promoted;
 * a port seen for the first time keeps everything under its name. */
static void test_promotion_bases(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(1);
	struct kp_lat l;

	(void)s;
	hit(f, 80, 10, 1000);
	hit(f, 81, 4, 1000);
	feed(ps, f, 1 * SEC);
	assert_true(is_named(ps, 80, &l));
	kp_portset__other(ps, &l);
	assert_int_equal(l.count, 4);
	/* 81 becomes far busier: it takes the name, from its promotion on */
	hit(f, 81, 1000, 1000);
	feed(ps, f, 2 * SEC);
	assert_true(is_named(ps, 81, &l));
	assert_int_equal(l.count, 0);
	assert_false(is_named(ps, 80, &l));
	kp_portset__other(ps, &l);
	assert_int_equal(l.count, 10 + 1004);	/* 80's history and 81's base */
	hit(f, 81, 5, 1000);
	feed(ps, f, 3 * SEC);
	assert_true(is_named(ps, 81, &l));
	assert_int_equal(l.count, 5);
	assert_adds_up(ps, f);
	kp_portset__free(ps);
	free(f);
}

static void test_hysteresis(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(1);
	struct kp_lat l;

	(void)s;
	hit(f, 80, 100, 1000);
	feed(ps, f, 1 * SEC);
	assert_true(is_named(ps, 80, &l));
	/* 1.5x as busy: not enough to take over */
	for (int r = 2; r < 10; r++) {
		hit(f, 80, 100, 1000);
		hit(f, 81, 150 + (r == 2 ? 100 : 0), 1000);
		feed(ps, f, r * SEC);
		assert_true(is_named(ps, 80, &l));
	}
	/* 10x as busy for a while: takes over */
	for (int r = 10; r < 20; r++) {
		hit(f, 80, 100, 1000);
		hit(f, 81, 1000, 1000);
		feed(ps, f, r * SEC);
	}
	assert_true(is_named(ps, 81, &l));
	assert_false(is_named(ps, 80, &l));
	assert_adds_up(ps, f);
	kp_portset__free(ps);
	free(f);
}

/* An old busy port that went quiet gives way to a steady newer one once
 * its rate has decayed. */
static void test_decay(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(1);
	struct kp_lat l;
	uint64_t t = 0;

	(void)s;
	hit(f, 80, 100000, 1000);
	feed(ps, f, t += SEC);
	for (int r = 0; r < 5; r++) {
		hit(f, 9000, 10, 1000);
		feed(ps, f, t += 2 * SEC);
	}
	assert_true(is_named(ps, 80, &l));
	for (int r = 0; r < 60 && is_named(ps, 80, &l); r++) {
		hit(f, 9000, 10, 1000);
		feed(ps, f, t += 30 * SEC);
	}
	assert_true(is_named(ps, 9000, &l));
	assert_adds_up(ps, f);
	kp_portset__free(ps);
	free(f);
}

static void test_decreasing_update_ignored(void **s)
{
	struct kp_portset *ps = kp_portset__new(4);
	struct kp_lat a = { .count = 10, .sum_ns = 100 }, b = { .count = 5, .sum_ns = 50 }, l;

	(void)s;
	assert_int_equal(kp_portset__update(ps, 80, &a, NULL), 0);
	kp_portset__settle(ps, SEC);
	assert_int_equal(kp_portset__update(ps, 80, &b, &l), 0);
	assert_int_equal(l.count, 0);	/* ignored: no gain */
	kp_portset__settle(ps, 2 * SEC);
	assert_int_equal(kp_portset__named(ps, 0, &l), 80);
	assert_int_equal(l.count, 10);
	assert_int_equal(l.sum_ns, 100);
	kp_portset__free(ps);
}

/* What each update adds, for node totals that outlive the container. */
static void test_delta_and_port_list(void **s)
{
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(1);
	struct kp_lat d;

	(void)s;
	hit(f, 8080, 3, 5000);
	assert_int_equal(kp_portset__update(ps, 8080, &f->lat[8080], &d), 0);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.sum_ns, 15000);
	assert_int_equal(d.hist[kp_hist_bucket(5000)], 3);
	hit(f, 8080, 2, 7000000);
	hit(f, 22, 1, 10);
	assert_int_equal(kp_portset__update(ps, 8080, &f->lat[8080], &d), 0);
	assert_int_equal(d.count, 2);
	assert_int_equal(d.sum_ns, 14000000);
	assert_int_equal(d.hist[kp_hist_bucket(5000)], 0);
	assert_int_equal(d.hist[kp_hist_bucket(7000000)], 2);
	assert_int_equal(kp_portset__update(ps, 22, &f->lat[22], &d), 0);
	assert_int_equal(d.count, 1);
	/* bytes handed over with the requests ride along; a round that
	 * brings bytes but no request still hands them on */
	f->lat[8080].rx_bytes = 300;
	f->lat[8080].tx_bytes = 9000;
	assert_int_equal(kp_portset__update(ps, 8080, &f->lat[8080], &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(d.rx_bytes, 300);
	assert_int_equal(d.tx_bytes, 9000);
	f->lat[8080].tx_bytes = 9500;
	assert_int_equal(kp_portset__update(ps, 8080, &f->lat[8080], &d), 0);
	assert_int_equal(d.rx_bytes, 0);
	assert_int_equal(d.tx_bytes, 500);
	/* figures that went down (a key deleted and made again) are ignored */
	f->lat[8080].tx_bytes = 100;
	assert_int_equal(kp_portset__update(ps, 8080, &f->lat[8080], &d), 0);
	assert_int_equal(d.tx_bytes, 0);
	assert_int_equal(d.count, 0);
	f->lat[8080].tx_bytes = 9500;
	kp_portset__settle(ps, SEC);
	assert_int_equal(kp_portset__ports(ps), 2);
	assert_int_equal(kp_portset__port(ps, 0), 22);
	assert_int_equal(kp_portset__port(ps, 1), 8080);
	assert_int_equal(kp_portset__port(ps, 2), 0);
	kp_portset__free(ps);
	free(f);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* Random traffic over shifting port populations: at every round the
 * named set is bounded, everything adds up, and no series goes down. */
static void test_random_rounds_monotonic(void **s)
{
	enum { NPORTS = 40, MAXN = 3, ROUNDS = 400 };
	struct fake *f = fake_new();
	struct kp_portset *ps = kp_portset__new(MAXN);
	static uint64_t prev_named[NPORTS];
	static bool was_named[NPORTS];
	uint64_t prev_other = 0, prev_other_sum = 0, t = 0;
	unsigned int changes = 0;
	struct kp_lat l;

	(void)s;
	for (int r = 0; r < ROUNDS; r++) {
		/* a few hot ports that change every 50 rounds, and noise */
		for (int k = 0; k < 5; k++) {
			uint16_t p = (uint16_t)(1 + (tb_xorshift(&rng) % NPORTS));
			uint64_t n = 1 + tb_xorshift(&rng) % 5;

			if (k < 2)
				p = (uint16_t)(1 + (r / 50 * 7 + k * 13) % NPORTS), n *= 40;
			hit(f, p, n, 1000 + tb_xorshift(&rng) % 1000000);
		}
		feed(ps, f, t += SEC);
		assert_true(kp_portset__named_count(ps) <= MAXN);
		assert_adds_up(ps, f);
		for (uint16_t p = 1; p <= NPORTS; p++) {
			bool named = is_named(ps, p, &l);

			if (named && was_named[p - 1])
				assert_true(l.count >= prev_named[p - 1]);
			if (named != was_named[p - 1])
				changes++;
			was_named[p - 1] = named;
			prev_named[p - 1] = named ? l.count : 0;
		}
		kp_portset__other(ps, &l);
		assert_true(l.count >= prev_other);
		assert_true(l.sum_ns >= prev_other_sum);
		prev_other = l.count;
		prev_other_sum = l.sum_ns;
	}
	/* the two hot ports moved 7 times: each move is two promotions and
	 * two demotions, plus the first fill; the noise may add a few, but
	 * no flapping */
	assert_true(changes >= 7 * 4 + MAXN);
	assert_true(changes <= 7 * 4 + MAXN + 10);
	kp_portset__free(ps);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_few_ports_all_named),
		cmocka_unit_test(test_busiest_named_rest_other),
		cmocka_unit_test(test_port_zero_is_other),
		cmocka_unit_test(test_zero_names_everything_other),
		cmocka_unit_test(test_promotion_bases),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_decreasing_update_ignored),
		cmocka_unit_test(test_delta_and_port_list),
		cmocka_unit_test(test_random_rounds_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
