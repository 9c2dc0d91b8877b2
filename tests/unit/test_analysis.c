/* test_analysis.c - the analysis on models built in the test: rates from
 * cumulative counters over the time passed, windowed percentiles from fine
 * buckets, every health factor and its penalty as README's health table
 * states them, the history ring and kp_history_delta, states dropped with
 * their containers, and the node. Expected figures are computed here from
 * the inputs (the bucket layout from kpulse_abi.h's text, see
 * model_build.h), not read back from the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/analysis.h"
#include "model/hist.h"
#include "model/model.h"
#include "model_build.h"

#define T0 (1000 * S)	/* the analysis starts here (a monotonic clock) */

static struct kp_analysis *analysis(uint64_t interval_ns, uint64_t history_ns)
{
	struct kp_analysis_opts o;
	struct kp_analysis *a;

	kp_analysis_opts_default(&o, interval_ns);
	if (history_ns)
		o.history_ns = history_ns;
	a = kp_analysis__new(&o, T0);
	assert_non_null(a);
	return a;
}

static void step(struct kp_analysis *a, const struct kp_model *m, double t_s)
{
	kp_analysis__update(a, m, T0 + (uint64_t)(t_s * 1e9));
}

static const struct kp_astate *state(const struct kp_analysis *a, uint64_t cgid)
{
	const struct kp_astate *s = kp_analysis__get(a, cgid);

	assert_non_null(s);
	return s;
}

/* The penalty README's table gives a factor at @v: 0 at or below good, the
 * weight at or above bad, linear between. */
static double penalty(double v, double good, double bad, double weight)
{
	if (v <= good)
		return 0;
	if (v >= bad)
		return weight;
	return weight * (v - good) / (bad - good);
}

/* Points of series @i of @s (analysis/history.h): how many, and the
 * @k-th oldest's time and value. */
static uint32_t npts(const struct kp_astate *s, int i)
{
	return kp_history_count(&s->ticks, &s->hist[i]);
}

static void point(const struct kp_astate *s, int i, uint32_t k, uint32_t *t, float *v)
{
	uint32_t lo, hi, seen = 0;

	assert_true(kp_history_range(&s->ticks, &s->hist[i], &lo, &hi));
	for (uint32_t q = lo; q <= hi; q++)
		if (kp_history_at(&s->ticks, &s->hist[i], q, t, v) && seen++ == k)
			return;
	fail_msg("series %d has no point %u", i, k);
}

static double pv(const struct kp_astate *s, int i, uint32_t k)
{
	uint32_t t;
	float v;

	point(s, i, k, &t, &v);
	return v;
}

static uint32_t pt_t(const struct kp_astate *s, int i, uint32_t k)
{
	uint32_t t;
	float v;

	point(s, i, k, &t, &v);
	return t;
}

/* The newest point of a series. */
static double newest(const struct kp_astate *s, int i)
{
	uint32_t n = npts(s, i);

	assert_true(n > 0);
	return pv(s, i, n - 1);
}

/* History points are floats: within float's rounding of @want. */
#define assert_newest(s, i, want) \
	assert_near(newest(s, i), (want), fabs((double)(want)) * 0x1p-23)

static void test_rates(void **st)
{
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *ka = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *kb;
	struct kp_tcp_totals *tcp;
	const struct kp_astate *s;

	(void)st;
	/* counters from before the start: the first update is a baseline */
	ka->t.cpu_ns = 5 * S;
	ka->t.nvcsw = 100;
	ka->t.nivcsw = 10;
	m->node.cpu_ns = 50 * S;
	step(a, m, 1);
	s = state(a, 10);
	assert_true(s->cpu_cores == 0);
	assert_true(s->health.score == 100);
	assert_int_equal(s->health.worst, -1);
	for (int i = 0; i < KP_F_MAX; i++)
		assert_true(isnan(s->health.f[i].value));
	/* a baseline is no rate, but the cumulative series start there */
	assert_int_equal(npts(s, KP_S_CPU_CORES), 0);
	assert_int_equal(npts(s, KP_S_HEALTH), 0);
	assert_int_equal(npts(s, KP_S_RUNQ_P99), 0);
	assert_int_equal(npts(s, KP_S_OOM_KILLS), 1);
	assert_int_equal(npts(s, KP_S_RECLAIM_SECONDS), 1);
	assert_int_equal(npts(s, KP_S_RETRANSMITS), 0);	/* no TCP yet */
	assert_true(state(a, 0)->cpu_cores == 0);

	/* 1.5 s of CPU in the 2 s passed */
	ka->t.cpu_ns += 1500 * MS;
	ka->t.nvcsw += 400;
	ka->t.nivcsw += 30;
	m->node.cpu_ns += 3 * S;
	step(a, m, 3);
	s = state(a, 10);
	assert_near(s->cpu_cores, 0.75, 1e-9);
	assert_near(s->vcsw_rate, 200, 1e-9);
	assert_near(s->ivcsw_rate, 15, 1e-9);
	assert_near(state(a, 0)->cpu_cores, 1.5, 1e-9);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 1);
	assert_near(pv(s, KP_S_CPU_CORES, 0), 0.75, 1e-6);
	assert_int_equal(pt_t(s, KP_S_CPU_CORES, 0), 3);	/* seconds since start */

	/* a cgroup new since the last update counted from zero then (the
	 * kernel made its entry after it); a half-second step counts too */
	kb = tb_container(m, 11, "/b", "b", NULL, KP_RT_CGROUP, NULL);
	kb->t.cpu_ns = 500 * MS;
	kb->t.nvcsw = 7;
	tcp = kp_model__tcp(ka);
	tcp->rx_bytes = 1000000;
	tcp->tx_bytes = 3000000;
	ka->t.cpu_ns += 100 * MS;
	step(a, m, 3.5);
	s = state(a, 11);
	assert_near(s->cpu_cores, 1.0, 1e-9);
	assert_near(s->vcsw_rate, 14, 1e-9);
	s = state(a, 10);
	assert_near(s->cpu_cores, 0.2, 1e-9);
	/* TCP figures made since the last update also start from zero */
	assert_near(s->rx_rate, 2000000, 1e-3);
	assert_near(s->tx_rate, 6000000, 1e-3);
	tcp->rx_bytes += 4000000;
	step(a, m, 5.5);
	s = state(a, 10);
	assert_near(s->rx_rate, 2000000, 1e-3);
	assert_near(s->tx_rate, 0, 1e-9);
	assert_near(s->cpu_cores, 0, 1e-9);
	assert_near(state(a, 0)->cpu_cores, 0, 1e-9);
	/* an update at the same instant is no interval: no division by zero */
	ka->t.cpu_ns += S;
	step(a, m, 5.5);
	assert_false(isnan(state(a, 10)->cpu_cores));
	assert_false(isinf(state(a, 10)->cpu_cores));
	kp_model__free(m);
	kp_analysis__free(a);
}

/* Windowed run-queue percentiles: a burst of slow waits dominates p99 while
 * it is inside the 1 m window, and leaves it once older than the window
 * plus one 5 s slot; the 5 m window still holds it. */
static void test_runq_window_percentiles(void **st)
{
	static uint64_t out[KP_HIST_BUCKETS];
	const uint64_t fast = 100 * US, slow = 30 * MS;
	const uint64_t vals[2] = { fast, slow };
	uint64_t cnts[2] = { 980, 20 }, exact, got;
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	const struct kp_astate *s;
	uint64_t n;

	(void)st;
	step(a, m, 1);
	assert_null(state(a, 10)->lat[KP_L_RUNQ]);	/* no event yet: no window */
	assert_true(isnan(state(a, 10)->health.f[KP_F_RUNQ_P99].value));
	tb_record(k->t.runq_hist, &k->t.runq_sum_ns, fast, 980);
	tb_record(k->t.runq_hist, &k->t.runq_sum_ns, slow, 20);
	step(a, m, 2);
	s = state(a, 10);
	assert_non_null(s->lat[KP_L_RUNQ]);
	/* rank 990 of 1000 falls among the slow ones */
	exact = tb_exact_quantile(vals, cnts, 2, 0.99);
	assert_int_equal(exact, slow);
	got = (uint64_t)llround(s->health.f[KP_F_RUNQ_P99].value * 1e9);
	assert_int_equal(got, tb_upper(slow));
	assert_true(got >= exact);
	assert_true((double)got <= (double)exact * 1.0625);
	n = kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 2 * S, out);
	assert_int_equal(n, 1000);
	assert_int_equal(out[kp_hist_bucket(fast)], 980);
	assert_int_equal(out[kp_hist_bucket(slow)], 20);
	/* the p99 point of the history, in seconds */
	assert_int_equal(npts(s, KP_S_RUNQ_P99), 1);
	assert_near(pv(s, KP_S_RUNQ_P99, 0), (double)tb_upper(slow) / 1e9, 1e-9);

	/* then one fast wait a second */
	for (int t = 3; t <= 64; t++) {
		tb_record(k->t.runq_hist, &k->t.runq_sum_ns, fast, 1);
		step(a, m, t);
	}
	/* t = 64: 1062 events, 20 slow (1.9%): still p99 */
	s = state(a, 10);
	assert_int_equal((uint64_t)llround(s->health.f[KP_F_RUNQ_P99].value * 1e9),
			 tb_upper(slow));
	for (int t = 65; t <= 70; t++) {
		tb_record(k->t.runq_hist, &k->t.runq_sum_ns, fast, 1);
		step(a, m, t);
	}
	/* t = 70: the slot of t = 2..6 ended before 70 - 60 */
	s = state(a, 10);
	assert_int_equal((uint64_t)llround(s->health.f[KP_F_RUNQ_P99].value * 1e9),
			 tb_upper(fast));
	/* the update's own p50/p99 (what alert rules over the first window
	 * read) are the window's, as of that update */
	assert_int_equal(s->win_ns, T0 + 70 * S);
	kp_analysis_window(s->lat[KP_L_RUNQ], kp_analysis__opts(a)->windows_ns[0], T0 + 70 * S, out);
	assert_near(s->win_p99[KP_L_RUNQ], (double)kp_hist_quantile(out, 0.99) / 1e9, 0);
	assert_near(s->win_p50[KP_L_RUNQ], (double)kp_hist_quantile(out, 0.5) / 1e9, 0);
	assert_true(isnan(s->win_p99[KP_L_RTT]));	/* no events of that kind */
	/* what a rule reads: that figure over the first window at the
	 * update's time, the window's own quantile over any other, 0 when
	 * nothing happened */
	assert_near(kp_analysis_p99(a, s, KP_L_RUNQ, kp_analysis__opts(a)->windows_ns[0],
				    T0 + 70 * S, out), s->win_p99[KP_L_RUNQ], 0);
	assert_near(kp_analysis_p99(a, s, KP_L_RUNQ, 300 * S, T0 + 70 * S, out),
		    (double)tb_upper(slow) / 1e9, 1e-12);	/* 20 slow of 1068 */
	assert_near(kp_analysis_p99(a, s, KP_L_RTT, 300 * S, T0 + 70 * S, out), 0, 0);
	n = kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 70 * S, out);
	assert_int_equal(out[kp_hist_bucket(slow)], 0);
	assert_true(n >= 60 && n <= 65);	/* the window plus one slot at most */
	n = kp_analysis_window(s->lat[KP_L_RUNQ], 300 * S, T0 + 70 * S, out);
	assert_int_equal(n, 1000 + 68);
	assert_int_equal(out[kp_hist_bucket(slow)], 20);
	/* a NULL window is no events */
	assert_int_equal(kp_analysis_window(NULL, 60 * S, T0 + 70 * S, out), 0);
	kp_model__free(m);
	kp_analysis__free(a);
}

/* Percentiles of a spread of values: every quantile the API shows within
 * 6.25% above the exact one. */
static void test_quantiles_within_bound(void **st)
{
	static uint64_t out[KP_HIST_BUCKETS];
	static uint64_t vals[200], cnts[200];
	const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999, 1.0 };
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	uint64_t seed = 99;

	(void)st;
	step(a, m, 1);
	for (int i = 0; i < 200; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		vals[i] = (i ? vals[i - 1] : 1000) + 1 + (seed >> 40) % 200000;
		cnts[i] = 1 + (seed >> 20) % 7;
		tb_record(k->t.runq_hist, &k->t.runq_sum_ns, vals[i], cnts[i]);
	}
	step(a, m, 2);
	kp_analysis_window(state(a, 10)->lat[KP_L_RUNQ], 60 * S, T0 + 2 * S, out);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t exact = tb_exact_quantile(vals, cnts, 200, qs[i]);
		uint64_t got = kp_hist_quantile(out, qs[i]);

		assert_int_equal(got, tb_upper(exact));
		assert_true(got >= exact && (double)got <= (double)exact * 1.0625);
	}
	kp_model__free(m);
	kp_analysis__free(a);
}

static void set_psi(struct kp_mem_files *f, enum kp_psi_res r, double avg60)
{
	f->has_psi[r] = true;
	f->psi[r].some.present = true;
	f->psi[r].some.avg60 = avg60;
}

/* Every factor but throttling fed, each at a level README's table prices;
 * the expected penalties computed here from the inputs. Container 10 has
 * them all (and scores 0, floored); container 11 a moderate few (100 -
 * their sum). */
static void test_health_factors(void **st)
{
	const uint64_t slow_runq = 80 * MS, slow_req = 600 * MS;
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *all = tb_container(m, 10, "/all", "all", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *mod = tb_container(m, 11, "/mod", "mod", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *calm = tb_container(m, 12, "/calm", "calm", NULL, KP_RT_CGROUP, NULL);
	struct kp_lat req = { 0 };
	const struct kp_astate *s;
	double want[KP_F_MAX], sum = 0, p99;

	(void)st;
	set_psi(&all->mem.files, KP_PSI_CPU, 27.5);
	set_psi(&all->mem.files, KP_PSI_MEMORY, 40);
	set_psi(&mod->mem.files, KP_PSI_CPU, 27.5);
	set_psi(&calm->mem.files, KP_PSI_CPU, 1);
	kp_model__tcp(all);
	kp_model__tcp(mod);
	step(a, m, 0);
	for (int t = 1; t <= 70; t++) {
		struct kp_container *ks[2] = { all, mod };

		for (int i = 0; i < 2; i++) {
			/* 1/8 of the time in reclaim; 1 retransmit per 100 segments */
			ks[i]->mem.reclaim_sum_ns += 125 * MS;
			ks[i]->tcp->tx_bytes += 1448 * 100;
			ks[i]->tcp->retrans += 1;
		}
		tb_record(all->t.runq_hist, &all->t.runq_sum_ns, slow_runq, 10);
		tb_record(mod->t.runq_hist, &mod->t.runq_sum_ns, 1 * MS, 10);
		tb_record(calm->t.runq_hist, &calm->t.runq_sum_ns, 1 * MS, 10);
		if (t == 40)
			all->mem.oom_kills++;
		tb_record(req.hist, &req.sum_ns, slow_req, 5);
		req.count += 5;
		assert_int_equal(kp_portset__update(kp_model__ports(m, all, 0), 8080, &req, NULL), 0);
		kp_portset__settle(all->req[0], T0 + (uint64_t)t * S);
		step(a, m, t);
	}

	/* the inputs, as README's table defines them */
	p99 = (double)tb_upper(slow_runq) / 1e9;
	want[KP_F_RUNQ_P99] = penalty(p99, 0.002, 0.050, 30);
	want[KP_F_CPU_PRESSURE] = penalty(27.5, 5, 50, 20);
	want[KP_F_MEM_PRESSURE] = penalty(40, 5, 40, 25);
	want[KP_F_RECLAIM_SHARE] = penalty(0.125, 0.01, 0.20, 15);
	want[KP_F_OOM_KILLS] = penalty(1, 0, 1, 40);
	want[KP_F_RETRANSMIT_SHARE] = penalty(0.01, 0.001, 0.05, 15);
	want[KP_F_REQUEST_P99] = penalty((double)tb_upper(slow_req) / 1e9, 0.2, 1.0, 25);
	assert_near(want[KP_F_RUNQ_P99], 30, 0);	/* a bad p99 costs the weight */
	assert_near(want[KP_F_MEM_PRESSURE], 25, 0);

	s = state(a, 10);
	/* no CPU limit: never throttled (test_throttled_container) */
	assert_true(isnan(s->health.f[KP_F_CPU_THROTTLED].value));
	want[KP_F_CPU_THROTTLED] = 0;
	for (int i = 0; i < KP_F_MAX; i++) {
		if (i == KP_F_CPU_THROTTLED)
			continue;
		assert_false(isnan(s->health.f[i].value));
		assert_near(s->health.f[i].penalty, want[i], 1e-6);
		assert_true(s->health.f[i].reason[0]);
		sum += want[i];
	}
	assert_near(s->health.f[KP_F_RUNQ_P99].value, p99, 1e-12);
	assert_near(s->health.f[KP_F_RECLAIM_SHARE].value, 0.125, 1e-6);
	assert_near(s->health.f[KP_F_RETRANSMIT_SHARE].value, 0.01, 1e-6);
	assert_near(s->health.f[KP_F_OOM_KILLS].value, 1, 0);
	assert_near(s->oom_kills_window, 1, 0);
	assert_true(sum > 100);
	assert_near(s->health.score, 0, 0);	/* floored */
	assert_int_equal(s->health.worst, KP_F_OOM_KILLS);	/* 40, the largest */
	assert_non_null(strstr(s->health.f[KP_F_OOM_KILLS].reason, "1 OOM kill (-40)"));
	assert_non_null(strstr(s->health.f[KP_F_RUNQ_P99].reason, "p99 run-queue latency"));
	assert_non_null(strstr(s->health.f[KP_F_RUNQ_P99].reason, "(-30)"));

	/* moderate: CPU pressure, reclaim and retransmits; p99 of 1 ms is good */
	s = state(a, 11);
	assert_near(s->health.f[KP_F_RUNQ_P99].penalty, 0, 0);
	assert_true(s->health.f[KP_F_RUNQ_P99].reason[0] == 0);
	assert_true(isnan(s->health.f[KP_F_MEM_PRESSURE].value));	/* no PSI file */
	assert_true(isnan(s->health.f[KP_F_REQUEST_P99].value));	/* no requests */
	assert_near(s->health.f[KP_F_OOM_KILLS].value, 0, 0);
	sum = want[KP_F_CPU_PRESSURE] + want[KP_F_RECLAIM_SHARE] + want[KP_F_RETRANSMIT_SHARE];
	assert_near(s->health.score, 100 - sum, 1e-6);
	assert_int_equal(s->health.worst, KP_F_CPU_PRESSURE);
	/* the history of the score holds it too */
	assert_near(newest(s, KP_S_HEALTH), 100 - sum, 1e-4);

	/* nothing wrong: 100, no worst factor; no TCP: retransmits unknown */
	s = state(a, 12);
	assert_near(s->health.score, 100, 0);
	assert_int_equal(s->health.worst, -1);
	assert_true(isnan(s->health.f[KP_F_RETRANSMIT_SHARE].value));
	assert_near(s->health.f[KP_F_CPU_PRESSURE].value, 1, 0);
	kp_model__free(m);
	kp_analysis__free(a);
}

/* A limited container with cpu.stat's counters: the throttled share over
 * the 1 m window from the model's counters, priced per README's table
 * (5% good, 50% bad, weight 30); while it costs something the run-queue
 * and CPU pressure penalties are the limit's (0, their reason says so);
 * once the throttling leaves the window they count again. An unlimited
 * container has no throttling figure at all. */
static void limit(struct kp_container *k, uint64_t quota_us)
{
	k->cpu.has_limit = true;
	k->cpu.limit = (struct kp_cpu_limit){ true, quota_us, 100000 };
	k->cpu.has_throttle = true;
}

static void test_throttled_container(void **st)
{
	const uint64_t slow = 80 * MS;
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *lim = tb_container(m, 10, "/lim", "lim", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *part = tb_container(m, 11, "/part", "part", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *free_ = tb_container(m, 12, "/free", "free", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *ks[3] = { lim, part, free_ };
	const uint64_t thr_per_s[3] = { 6, 2, 0 };	/* of 10 periods a second */
	double runq = (double)tb_upper(slow) / 1e9, cpu_pen = penalty(27.5, 5, 50, 20);
	const struct kp_astate *s;

	(void)st;
	limit(lim, 50000);
	limit(part, 150000);
	/* counters from before kpulse: the first read is their baseline */
	lim->cpu.throttle = (struct kp_cpu_throttle){ 1000, 900, 50 * S };
	for (int i = 0; i < 3; i++)
		set_psi(&ks[i]->mem.files, KP_PSI_CPU, 27.5);
	step(a, m, 0);
	assert_true(isnan(state(a, 10)->throttled_pct));	/* one read */
	for (int t = 1; t <= 70; t++) {
		for (int i = 0; i < 3; i++) {
			tb_record(ks[i]->t.runq_hist, &ks[i]->t.runq_sum_ns, slow, 10);
			if (!ks[i]->cpu.has_throttle)
				continue;
			ks[i]->cpu.throttle.periods += 10;
			ks[i]->cpu.throttle.throttled_periods += thr_per_s[i];
			ks[i]->cpu.throttle.throttled_ns += thr_per_s[i] * 10 * MS;
		}
		step(a, m, t);
		if (t == 1)	/* two reads: a share already */
			assert_near(state(a, 10)->throttled_pct, 60, 1e-9);
	}
	s = state(a, 10);
	assert_near(s->throttled_pct, 60, 1e-9);
	assert_near(kp_analysis_throttled_pct(s, 10 * S, T0 + 70 * S), 60, 1e-9);
	assert_near(s->health.f[KP_F_CPU_THROTTLED].value, 60, 1e-9);
	assert_near(s->health.f[KP_F_CPU_THROTTLED].penalty, 30, 0);
	assert_string_equal(s->health.f[KP_F_CPU_THROTTLED].reason,
			    "CPU throttled by its limit in 60% of periods (-30)");
	/* the wait is measured, and excused */
	assert_near(s->health.f[KP_F_RUNQ_P99].value, runq, 1e-12);
	assert_near(s->health.f[KP_F_RUNQ_P99].penalty, 0, 0);
	assert_non_null(strstr(s->health.f[KP_F_RUNQ_P99].reason, "its CPU limit"));
	assert_near(s->health.f[KP_F_CPU_PRESSURE].penalty, 0, 0);
	assert_non_null(strstr(s->health.f[KP_F_CPU_PRESSURE].reason, "its CPU limit"));
	assert_near(s->health.score, 70, 1e-9);
	assert_int_equal(s->health.worst, KP_F_CPU_THROTTLED);
	/* its limit and share as history series, a point a tick */
	assert_int_equal(npts(s, KP_S_CPU_LIMIT), 70);
	assert_newest(s, KP_S_CPU_LIMIT, 0.5);
	assert_int_equal(npts(s, KP_S_THROTTLED_PCT), 70);
	assert_newest(s, KP_S_THROTTLED_PCT, 60);

	/* 20%: a part of the weight, and still the limit's wait */
	s = state(a, 11);
	assert_near(s->throttled_pct, 20, 1e-9);
	assert_near(s->health.f[KP_F_CPU_THROTTLED].penalty, penalty(20, 5, 50, 30), 1e-9);
	assert_near(s->health.score, 100 - penalty(20, 5, 50, 30), 1e-9);

	/* no limit: unknown, and the same wait is contention */
	s = state(a, 12);
	assert_null(s->thr);
	assert_false(s->hist[KP_S_CPU_LIMIT].any);		/* no ring made */
	assert_false(s->hist[KP_S_THROTTLED_PCT].any);
	assert_true(isnan(s->throttled_pct));
	assert_true(isnan(s->health.f[KP_F_CPU_THROTTLED].value));
	assert_near(s->health.f[KP_F_RUNQ_P99].penalty, 30, 0);
	assert_near(s->health.score, 100 - 30 - cpu_pen, 1e-9);
	assert_int_equal(s->health.worst, KP_F_RUNQ_P99);

	/* lim no longer throttled: 0% once the window (plus a slot) passed */
	for (int t = 71; t <= 140; t++) {
		lim->cpu.throttle.periods += 10;
		tb_record(lim->t.runq_hist, &lim->t.runq_sum_ns, slow, 10);
		step(a, m, t);
		if (t == 100) {	/* 30 of the last 60 s throttled at 60% */
			double pct = state(a, 10)->throttled_pct;

			assert_true(pct > 20 && pct < 40);
		}
	}
	s = state(a, 10);
	assert_near(s->throttled_pct, 0, 0);
	assert_newest(s, KP_S_THROTTLED_PCT, 0);
	assert_near(s->health.f[KP_F_CPU_THROTTLED].penalty, 0, 0);
	assert_near(s->health.f[KP_F_RUNQ_P99].penalty, 30, 0);
	assert_near(s->health.score, 100 - 30 - cpu_pen, 1e-9);
	kp_model__free(m);
	kp_analysis__free(a);
}

/* The dashboard's series: percentiles over the shortest window (no point
 * while it is empty), PSI some avg10, the memory limit while there is one,
 * the working set, socket byte rates; a series a cgroup never has costs no
 * ring. */
static void test_chart_series(void **st)
{
	const uint64_t rtt_fast = 200 * US, rtt_slow = 9 * MS;
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	struct kp_tcp_totals *tcp = kp_model__tcp(k);
	struct kp_lat in = { 0 }, out = { 0 };
	const struct kp_astate *s;

	(void)st;
	tb_container(m, 11, "/b", "b", NULL, KP_RT_CGROUP, NULL);	/* bare */
	k->mem.files.has_limit = true;
	k->mem.files.limit_bytes = 256ull << 20;
	k->mem.files.has_stat = true;
	k->mem.files.working_set_bytes = 100ull << 20;
	k->mem.files.has_psi[KP_PSI_MEMORY] = true;
	k->mem.files.psi[KP_PSI_MEMORY].some = (struct kp_psi_line){ true, 12.5, 1, 1, 0 };
	k->mem.files.has_psi[KP_PSI_IO] = true;	/* a file without a "some" line */
	k->mem.files.psi[KP_PSI_IO].full = (struct kp_psi_line){ true, 3, 3, 3, 0 };
	step(a, m, 0);
	for (int t = 1; t <= 10; t++) {
		tb_record(k->t.runq_hist, &k->t.runq_sum_ns, 30 * US, 60);
		tb_record(k->t.runq_hist, &k->t.runq_sum_ns, 3 * MS, 40);
		tb_record(tcp->rtt_hist, &tcp->rtt_sum_ns, rtt_fast, 99);
		tb_record(tcp->rtt_hist, &tcp->rtt_sum_ns, rtt_slow, 1);
		tcp->rx_bytes += 5000;
		tcp->tx_bytes += 7000;
		tb_record(in.hist, &in.sum_ns, 4 * MS, 10);
		in.count += 10;
		tb_record(out.hist, &out.sum_ns, 700 * MS, 2);
		out.count += 2;
		assert_int_equal(kp_portset__update(kp_model__ports(m, k, 0), 80, &in, NULL), 0);
		assert_int_equal(kp_portset__update(kp_model__ports(m, k, 1), 5432, &out, NULL), 0);
		kp_portset__settle(k->req[0], T0 + (uint64_t)t * S);
		kp_portset__settle(k->req[1], T0 + (uint64_t)t * S);
		step(a, m, t);
	}
	s = state(a, 10);
	for (int i = KP_S_RUNQ_P50; i < KP_S_MAX; i++)
		if (i != KP_S_PSI_CPU && i != KP_S_PSI_IO && i != KP_S_CPU_LIMIT &&
		    i != KP_S_THROTTLED_PCT)	/* see test_throttled_container */
			assert_int_equal(npts(s, i), 10);
	assert_newest(s, KP_S_RUNQ_P50, (double)tb_upper(30 * US) / 1e9);
	assert_newest(s, KP_S_RUNQ_P99, (double)tb_upper(3 * MS) / 1e9);
	assert_newest(s, KP_S_RTT_P50, (double)tb_upper(rtt_fast) / 1e9);
	/* rank 990 of 1000 among the fast ones; the slow tenth of a percent
	 * only at p99.9, which has no series */
	assert_newest(s, KP_S_RTT_P99, (double)tb_upper(rtt_fast) / 1e9);
	assert_newest(s, KP_S_REQ_IN_P50, (double)tb_upper(4 * MS) / 1e9);
	assert_newest(s, KP_S_REQ_IN_P99, (double)tb_upper(4 * MS) / 1e9);
	assert_newest(s, KP_S_REQ_OUT_P99, (double)tb_upper(700 * MS) / 1e9);
	assert_newest(s, KP_S_MEM_LIMIT, 256 << 20);
	assert_newest(s, KP_S_MEM_WORKING_SET, 100 << 20);
	assert_newest(s, KP_S_PSI_MEM, 12.5);
	assert_newest(s, KP_S_RX_RATE, 5000);
	assert_newest(s, KP_S_TX_RATE, 7000);
	/* no CPU PSI file, an io file without "some", no CPU limit: no points */
	assert_int_equal(npts(s, KP_S_PSI_CPU), 0);
	assert_int_equal(npts(s, KP_S_PSI_IO), 0);
	assert_int_equal(npts(s, KP_S_CPU_LIMIT), 0);
	assert_int_equal(npts(s, KP_S_THROTTLED_PCT), 0);
	/* the bare container: only what every cgroup has */
	s = state(a, 11);
	for (int i = 0; i < KP_S_MAX; i++) {
		bool every = i == KP_S_CPU_CORES || i == KP_S_RUNQ_P99 || i == KP_S_HEALTH ||
			     i == KP_S_OOM_KILLS || i == KP_S_RECLAIM_SECONDS;

		assert_int_equal(npts(s, i), every ? (i >= KP_S_OOM_KILLS ? 11 : 10) : 0);
		if (!every)
			assert_false(s->hist[i].any);	/* no ring made */
	}
	/* the percentile series stop once the window is empty */
	for (int t = 11; t <= 80; t++)
		step(a, m, t);
	s = state(a, 10);
	assert_true(npts(s, KP_S_RTT_P50) < 80);
	assert_int_equal(npts(s, KP_S_RTT_P50), npts(s, KP_S_RUNQ_P50));
	assert_int_equal(npts(s, KP_S_MEM_LIMIT), 80);
	k->mem.files.has_limit = false;	/* the limit is lifted: no more points */
	step(a, m, 81);
	assert_int_equal(npts(state(a, 10), KP_S_MEM_LIMIT), 80);
	kp_model__free(m);
	kp_analysis__free(a);
}

/* Between ticks (a scrape or an API request) only the latency windows
 * move, so an answer holds every event read up to it; rates, health and
 * history move at ticks. A container new since the last tick is fed from
 * a zero at that tick; the node only once there was a tick. */
static void test_feed_windows_between_ticks(void **st)
{
	static uint64_t out[KP_HIST_BUCKETS];
	struct kp_analysis *a = analysis(5 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *b;
	const struct kp_astate *s;

	(void)st;
	tb_record(m->node.runq_hist, &m->node.runq_sum_ns, 1 * MS, 5);
	kp_analysis__feed_windows(a, m, T0 + 1 * S);
	assert_null(state(a, 0)->lat[KP_L_RUNQ]);	/* no tick yet */
	step(a, m, 0);
	tb_record(k->t.runq_hist, &k->t.runq_sum_ns, 1 * MS, 10);
	k->t.cpu_ns += 2500 * MS;
	step(a, m, 5);
	s = state(a, 10);
	assert_near(s->cpu_cores, 0.5, 1e-9);
	assert_near(s->health.f[KP_F_RUNQ_P99].value, (double)tb_upper(1 * MS) / 1e9, 1e-12);

	/* after the tick: slow waits, more CPU, and a new container */
	tb_record(k->t.runq_hist, &k->t.runq_sum_ns, 30 * MS, 20);
	k->t.cpu_ns += 5 * S;
	b = tb_container(m, 11, "/b", "b", NULL, KP_RT_CGROUP, NULL);
	b->t.cpu_ns = 1 * S;
	tb_record(b->t.runq_hist, &b->t.runq_sum_ns, 2 * MS, 4);
	tb_record(m->node.runq_hist, &m->node.runq_sum_ns, 1 * MS, 7);
	kp_analysis__feed_windows(a, m, T0 + 7 * S);
	s = state(a, 10);
	assert_int_equal(kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 7 * S, out), 30);
	assert_int_equal(out[kp_hist_bucket(30 * MS)], 20);
	assert_near(s->cpu_cores, 0.5, 1e-9);	/* rates and health at ticks */
	assert_near(s->health.f[KP_F_RUNQ_P99].value, (double)tb_upper(1 * MS) / 1e9, 1e-12);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 1);
	s = state(a, 11);	/* listed, its waits counted, no rate yet */
	assert_int_equal(kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 7 * S, out), 4);
	assert_near(s->cpu_cores, 0, 0);
	assert_near(s->health.score, 100, 0);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 0);
	assert_int_equal(kp_analysis_window(state(a, 0)->lat[KP_L_RUNQ], 60 * S, T0 + 7 * S, out),
			 7);	/* the 5 before the first tick were its baseline */

	/* the tick: the same events once, rates over the whole interval */
	step(a, m, 10);
	s = state(a, 10);
	assert_int_equal(kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 10 * S, out), 30);
	assert_near(s->cpu_cores, 1.0, 1e-9);
	assert_near(s->health.f[KP_F_RUNQ_P99].value, (double)tb_upper(30 * MS) / 1e9, 1e-12);
	s = state(a, 11);
	assert_int_equal(kp_analysis_window(s->lat[KP_L_RUNQ], 60 * S, T0 + 10 * S, out), 4);
	assert_near(s->cpu_cores, 0.2, 1e-9);	/* 1 s since the zero at t = 5 */
	kp_model__free(m);
	kp_analysis__free(a);
}

/* The OOM factor counts kills in the longest window only. */
static void test_oom_kills_leave_the_window(void **st)
{
	struct kp_analysis *a = analysis(10 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	const struct kp_astate *s;

	(void)st;
	step(a, m, 0);
	step(a, m, 10);
	k->mem.oom_kills = 2;
	step(a, m, 20);
	s = state(a, 10);
	assert_near(s->oom_kills_window, 2, 0);
	assert_near(s->health.f[KP_F_OOM_KILLS].penalty, 40, 0);
	assert_non_null(strstr(s->health.f[KP_F_OOM_KILLS].reason, "2 OOM kills"));
	for (int t = 30; t <= 320; t += 10)
		step(a, m, t);
	s = state(a, 10);	/* 300 s after the kill, out of the 5 m window */
	assert_near(s->oom_kills_window, 0, 0);
	assert_near(s->health.score, 100, 0);
	kp_model__free(m);
	kp_analysis__free(a);
}

/* What happens in a cgroup's first interval counts: a container that
 * appears and is OOM-killed before the next update (a limit set too low)
 * has that kill in its window, as its CPU time is in its first rate; the
 * same for a container there from the start, between the baseline and
 * the first figures, and for the node's retransmits. */
static void test_first_interval_counts(void **st)
{
	struct kp_analysis *a = analysis(2 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *old = tb_container(m, 10, "/old", "old", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *k;
	const struct kp_astate *s;

	(void)st;
	step(a, m, 2);			/* baseline */
	k = tb_container(m, 20, "/new", "new", NULL, KP_RT_CGROUP, NULL);
	k->t.cpu_ns = 1 * S;
	k->mem.oom_kills = 1;
	k->mem.reclaim_sum_ns = 1 * S;
	old->mem.oom_kills = 3;
	m->node_mem.oom_kills = 4;
	m->node_tcp.tx_bytes = 1448 * 1000;
	m->node_tcp.retrans = 50;
	step(a, m, 4);
	s = state(a, 20);
	assert_near(s->cpu_cores, 0.5, 1e-9);
	assert_near(s->oom_kills_window, 1, 0);
	assert_near(s->health.f[KP_F_OOM_KILLS].penalty, 40, 0);
	assert_near(s->health.f[KP_F_RECLAIM_SHARE].value, 1.0 / 60, 1e-6);
	assert_near(state(a, 10)->oom_kills_window, 3, 0);
	s = state(a, 0);
	assert_near(s->oom_kills_window, 4, 0);
	assert_near(s->health.f[KP_F_RETRANSMIT_SHARE].value, 0.05, 1e-6);
	/* and stays counted at the next update */
	step(a, m, 6);
	assert_near(state(a, 20)->oom_kills_window, 1, 0);
	assert_near(state(a, 10)->oom_kills_window, 3, 0);
	/* a container's first socket: its counters start from zero too */
	kp_model__tcp(old)->tx_bytes = 1448 * 100;
	old->tcp->retrans = 10;
	step(a, m, 8);
	assert_near(state(a, 10)->health.f[KP_F_RETRANSMIT_SHARE].value, 0.1, 1e-6);
	kp_model__free(m);
	kp_analysis__free(a);
}

static void test_history_delta(void **st)
{
	struct kp_timeline tl;
	struct kp_history h = {};
	const uint32_t ts[] = { 10, 11, 12, 13, 20, 21 };
	const float vs[] = { 1, 2, 4, 7, 11, 16 };

	(void)st;
	kp_timeline_init(&tl, 5);
	assert_near(kp_history_delta(&tl, &h, 5 * S), 0, 0);	/* empty */
	for (int i = 0; i < 4; i++) {
		kp_timeline_tick(&tl, ts[i]);
		kp_history_add(&tl, &h, vs[i]);
		if (i == 0)	/* one point: no change known */
			assert_near(kp_history_delta(&tl, &h, 5 * S), 0, 0);
	}
	/* the newest point at or before the window's start */
	assert_near(kp_history_delta(&tl, &h, 2 * S), 7 - 2, 0);
	assert_near(kp_history_delta(&tl, &h, 1 * S), 7 - 4, 0);
	assert_near(kp_history_delta(&tl, &h, 3 * S), 7 - 1, 0);
	/* a window longer than the history: since the oldest point */
	assert_near(kp_history_delta(&tl, &h, 100 * S), 7 - 1, 0);
	/* the ring wraps: 6 points in 5 places, the oldest (10, 1) gone */
	for (int i = 4; i < 6; i++) {
		kp_timeline_tick(&tl, ts[i]);
		kp_history_add(&tl, &h, vs[i]);
	}
	assert_near(kp_history_delta(&tl, &h, 1 * S), 16 - 11, 0);
	assert_near(kp_history_delta(&tl, &h, 8 * S), 16 - 7, 0);
	assert_near(kp_history_delta(&tl, &h, 9 * S), 16 - 4, 0);
	assert_near(kp_history_delta(&tl, &h, 100 * S), 16 - 2, 0);
	kp_history_free(&h);
	kp_timeline_free(&tl);
}

/* The ring keeps history / interval + 1 points, oldest dropped first;
 * memory usage has points only when the cgroup has a usage figure. */
static void test_history_ring(void **st)
{
	struct kp_analysis *a = analysis(1 * S, 10 * S);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *nomem = tb_container(m, 11, "/b", "b", NULL, KP_RT_CGROUP, NULL);
	const struct kp_astate *s;

	(void)st;
	k->mem.files.has_usage = true;
	step(a, m, 0);
	for (int t = 1; t <= 20; t++) {
		k->t.cpu_ns += (uint64_t)t * 10 * MS;	/* t/100 cores */
		k->mem.files.usage_bytes = (uint64_t)t << 20;
		step(a, m, t);
	}
	s = state(a, 10);
	assert_int_equal(s->ticks.cap, 11);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 11);
	for (uint32_t i = 0; i < 11; i++) {	/* oldest first: t = 10..20 */
		assert_int_equal(pt_t(s, KP_S_CPU_CORES, i), 10 + i);
		assert_near(pv(s, KP_S_CPU_CORES, i), (10 + i) / 100.0, 1e-6);
		assert_near(pv(s, KP_S_MEM_USAGE, i), (double)((10 + i) << 20), 0);
	}
	assert_int_equal(npts(state(a, 11), KP_S_CPU_CORES), 11);
	assert_int_equal(npts(state(a, 11), KP_S_MEM_USAGE), 0);
	/* no TCP: no TCP points */
	assert_int_equal(npts(s, KP_S_RETRANSMITS), 0);
	(void)nomem;
	kp_model__free(m);
	kp_analysis__free(a);
}

/* A container the model dropped loses its state at the next update; an
 * unresolved one never has one; one made again starts afresh. */
static void test_removed_and_unresolved(void **st)
{
	struct kp_analysis *a = analysis(1 * S, 0);
	struct kp_model *m = kp_model__new(4);
	struct kp_container *k = tb_container(m, 10, "/a", "a", NULL, KP_RT_CGROUP, NULL);
	struct kp_container *u = kp_model__get(m, 30);
	const struct kp_astate *s;

	(void)st;
	tb_container(m, 20, "/b", "b", NULL, KP_RT_CGROUP, NULL);
	u->t.cpu_ns = 5 * S;
	tb_record(k->t.runq_hist, NULL, 1 * MS, 5);
	step(a, m, 1);
	k->t.cpu_ns = 2 * S;
	tb_record(k->t.runq_hist, NULL, 1 * MS, 5);
	step(a, m, 2);
	assert_non_null(kp_analysis__get(a, 10));
	assert_non_null(kp_analysis__get(a, 20));
	assert_null(kp_analysis__get(a, 30));	/* not shown, not analysed */
	assert_non_null(state(a, 10)->lat[KP_L_RUNQ]);

	kp_model__remove(m, k);
	assert_non_null(kp_analysis__get(a, 10));	/* until the next update */
	step(a, m, 3);
	assert_null(kp_analysis__get(a, 10));
	assert_non_null(kp_analysis__get(a, 20));

	/* made again with new counters: new state, zero baseline at the
	 * previous update, so its first interval is a rate */
	k = tb_container(m, 10, "/a2", "a2", NULL, KP_RT_CGROUP, NULL);
	k->t.cpu_ns = 1 * S;
	step(a, m, 5);
	s = state(a, 10);
	assert_near(s->cpu_cores, 0.5, 1e-9);
	assert_null(s->lat[KP_L_RUNQ]);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 1);
	/* resolving the unresolved one gives it a state */
	assert_int_equal(kp_model__resolve(m, u, "/u", &k->ident), 0);
	step(a, m, 6);
	assert_non_null(kp_analysis__get(a, 30));
	kp_model__free(m);
	kp_analysis__free(a);
}

/* The node: its own totals, latencies over every port, and its own state
 * whatever the containers do. */
static void test_node(void **st)
{
	struct kp_analysis *a = analysis(2 * S, 0);
	struct kp_model *m = kp_model__new(4);
	const struct kp_astate *s;

	(void)st;
	s = kp_analysis__get(a, 0);
	assert_non_null(s);		/* there before any update */
	assert_int_equal(s->cgid, 0);
	m->node.cpu_ns = 100 * S;
	set_psi(&m->node_mem.files, KP_PSI_CPU, 50);
	step(a, m, 2);
	step(a, m, 4);
	m->node.cpu_ns += 3 * S;
	m->node.nivcsw += 1000;
	m->node_tcp.tx_bytes = 1448 * 1000;
	m->node_tcp.retrans = 50;	/* 5%: the whole weight */
	m->node_mem.files.has_usage = true;
	m->node_mem.files.usage_bytes = 1 << 30;
	tb_record(m->node.runq_hist, &m->node.runq_sum_ns, 3 * MS, 100);
	tb_record(m->node_req[0].hist, &m->node_req[0].sum_ns, 2 * S, 100);	/* bad */
	tb_record(m->node_req[1].hist, &m->node_req[1].sum_ns, 10 * MS, 100);
	step(a, m, 6);
	s = state(a, 0);
	assert_near(s->cpu_cores, 1.5, 1e-9);
	assert_near(s->ivcsw_rate, 500, 1e-9);
	assert_near(s->health.f[KP_F_RUNQ_P99].value, (double)tb_upper(3 * MS) / 1e9,
			   1e-12);
	assert_near(s->health.f[KP_F_REQUEST_P99].penalty, 25, 0);
	assert_near(s->health.f[KP_F_RETRANSMIT_SHARE].penalty, 15, 0);
	assert_near(s->health.f[KP_F_CPU_PRESSURE].penalty, 20 * 45.0 / 45.0, 1e-9);
	assert_non_null(s->lat[KP_L_REQ_OUT]);
	assert_null(s->lat[KP_L_RTT]);
	assert_near(s->health.score,
			   100 - 25 - 15 - 20 - penalty((double)tb_upper(3 * MS) / 1e9, 0.002,
							0.050, 30), 1e-6);
	assert_int_equal(npts(s, KP_S_MEM_USAGE), 1);
	assert_int_equal(npts(s, KP_S_CPU_CORES), 2);
	assert_int_equal(pt_t(s, KP_S_CPU_CORES, 0), 4);
	assert_int_equal(pt_t(s, KP_S_CPU_CORES, 1), 6);
	kp_model__free(m);
	kp_analysis__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_runq_window_percentiles),
		cmocka_unit_test(test_quantiles_within_bound),
		cmocka_unit_test(test_health_factors),
		cmocka_unit_test(test_throttled_container),
		cmocka_unit_test(test_chart_series),
		cmocka_unit_test(test_feed_windows_between_ticks),
		cmocka_unit_test(test_oom_kills_leave_the_window),
		cmocka_unit_test(test_first_interval_counts),
		cmocka_unit_test(test_history_delta),
		cmocka_unit_test(test_history_ring),
		cmocka_unit_test(test_removed_and_unresolved),
		cmocka_unit_test(test_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
