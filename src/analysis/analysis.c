/* analysis.c - rates, windows, health and history per cgroup (see
 * analysis.h). Runs once per collection interval, never per scrape. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "analysis/analysis.h"
#include "model/model.h"
#include "model/hist.h"
#include "analysis/throttle.h"
#include "analysis/window.h"
#include "analysis/heatmap.h"
#include "analysis/portwin.h"
#include "analysis/netrates.h"

#define SLOT_MIN_NS 5000000000ull

const char *const kp_series_names[KP_S_MAX] = {
	[KP_S_CPU_CORES] = "cpu_cores",
	[KP_S_RUNQ_P99] = "runq_p99_seconds",
	[KP_S_HEALTH] = "health_score",
	[KP_S_MEM_USAGE] = "memory_usage_bytes",
	[KP_S_OOM_KILLS] = "oom_kills_total",
	[KP_S_RECLAIM_SECONDS] = "reclaim_seconds_total",
	[KP_S_RETRANSMITS] = "tcp_retransmits_total",
	[KP_S_TX_SEGMENTS] = "tcp_segments_sent_estimate_total",
	[KP_S_RUNQ_P50] = "runq_p50_seconds",
	[KP_S_MEM_LIMIT] = "memory_limit_bytes",
	[KP_S_PSI_CPU] = "cpu_pressure_some_percent",
	[KP_S_PSI_MEM] = "memory_pressure_some_percent",
	[KP_S_PSI_IO] = "io_pressure_some_percent",
	[KP_S_RTT_P50] = "rtt_p50_seconds",
	[KP_S_RTT_P99] = "rtt_p99_seconds",
	[KP_S_REQ_IN_P50] = "request_inbound_p50_seconds",
	[KP_S_REQ_IN_P99] = "request_inbound_p99_seconds",
	[KP_S_REQ_OUT_P50] = "request_outbound_p50_seconds",
	[KP_S_REQ_OUT_P99] = "request_outbound_p99_seconds",
	[KP_S_RX_RATE] = "network_receive_bytes_per_second",
	[KP_S_TX_RATE] = "network_transmit_bytes_per_second",
	[KP_S_CPU_LIMIT] = "cpu_limit_cores",
	[KP_S_THROTTLED_PCT] = "cpu_throttled_percent",
	[KP_S_MEM_WORKING_SET] = "memory_working_set_bytes",
};

const char *const kp_lat_names[KP_L_MAX] = {
	[KP_L_RUNQ] = "runq",
	[KP_L_RECLAIM] = "reclaim",
	[KP_L_RTT] = "rtt",
	[KP_L_CONNECT] = "connect",
	[KP_L_REQ_IN] = "request_inbound",
	[KP_L_REQ_OUT] = "request_outbound",
};

struct entry {
	struct kp_astate s;
	UT_hash_handle hh;
};

struct kp_analysis {
	struct kp_analysis_opts o;
	uint64_t start_ns;
	uint64_t last_ns;	/* previous update */
	uint64_t gen;
	struct entry *by_id;
	struct entry node;
	uint64_t scratch[KP_HIST_BUCKETS];
	uint64_t req_in[KP_HIST_BUCKETS], req_out[KP_HIST_BUCKETS];
	struct kp_netrates net;		/* the node's interfaces */
};

void kp_analysis_opts_default(struct kp_analysis_opts *o, uint64_t interval_ns)
{
	memset(o, 0, sizeof(*o));
	o->windows_ns[0] = 60ull * 1000000000ull;
	o->windows_ns[1] = 300ull * 1000000000ull;
	o->history_ns = 900ull * 1000000000ull;
	o->interval_ns = interval_ns;
	memcpy(o->factors, kp_factor_defaults, sizeof(o->factors));
}

static uint64_t longest_window(const struct kp_analysis_opts *o)
{
	uint64_t m = 0;

	for (int i = 0; i < KP_MAX_WINDOWS && o->windows_ns[i]; i++)
		if (o->windows_ns[i] > m)
			m = o->windows_ns[i];
	return m;
}

/* A cgroup's kernel counters start at zero when its map entry is made,
 * which happened after the previous update: use zero at that time as the
 * baseline, so its first interval counts. Before the first update (the
 * node, and cgroups already there when we start) the first update only
 * records the baseline. */
static int state_init(struct kp_analysis *a, struct kp_astate *s, uint64_t id)
{
	uint32_t cap = (uint32_t)(a->o.history_ns / a->o.interval_ns) + 1;

	s->cgid = id;
	s->throttled_pct = NAN;
	if (a->last_ns)
		s->prev_ns = a->last_ns;
	kp_timeline_init(&s->ticks, cap);	/* rings come with their first points */
	return 0;
}

static void state_free(struct kp_astate *s)
{
	kp_throttle__free(s->thr);
	for (int i = 0; i < KP_L_MAX; i++)
		kp_window__free(s->lat[i]);
	for (int i = 0; i < KP_S_MAX; i++)
		kp_history_free(&s->hist[i]);
	kp_timeline_free(&s->ticks);
	kp_heatmap__free(s->runq_map);
	kp_portwin__free(s->ports);
}

struct kp_analysis *kp_analysis__new(const struct kp_analysis_opts *o, uint64_t now)
{
	struct kp_analysis *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->o = *o;
	if (!a->o.interval_ns)
		a->o.interval_ns = 1000000000ull;
	a->start_ns = now;
	if (state_init(a, &a->node.s, 0)) {
		kp_analysis__free(a);
		return NULL;
	}
	return a;
}

void kp_analysis__free(struct kp_analysis *a)
{
	struct entry *e, *tmp;

	if (!a)
		return;
	HASH_ITER(hh, a->by_id, e, tmp) {
		HASH_DEL(a->by_id, e);
		state_free(&e->s);
		free(e);
	}
	state_free(&a->node.s);
	free(a);
}

uint64_t kp_analysis_window(const struct kp_window *w, uint64_t span, uint64_t now,
			    uint64_t *out)
{
	memset(out, 0, KP_HIST_BUCKETS * sizeof(*out));
	return w ? kp_window__sum(w, span, now, out) : 0;
}

double kp_analysis_p99(const struct kp_analysis *a, const struct kp_astate *s, int kind,
		       uint64_t span_ns, uint64_t now_ns, uint64_t *scratch)
{
	if (s->win_ns == now_ns && span_ns == a->o.windows_ns[0])
		return isnan(s->win_p99[kind]) ? 0 : s->win_p99[kind];
	if (!kp_analysis_window(s->lat[kind], span_ns, now_ns, scratch))
		return 0;
	return (double)kp_hist_quantile(scratch, 0.99) / 1e9;
}

/* Rings are made when a series' value first moves (history.h), so a series
 * a cgroup never has (no TCP, no memory limit) or that stays put costs
 * nothing. */
static void history_add(struct kp_history *h, const struct kp_timeline *tl, double v)
{
	kp_history_add(tl, h, v);
}

/* Feed one latency kind; its window is made on the first event, with a
 * zero baseline at the previous update (the kernel counted from zero). */
static void feed(struct kp_analysis *a, struct kp_astate *s, int kind,
		 const uint64_t *cum, uint64_t now)
{
	static const uint64_t zero[KP_HIST_BUCKETS];
	uint64_t slot = a->o.interval_ns > SLOT_MIN_NS ? a->o.interval_ns : SLOT_MIN_NS;

	if (!s->lat[kind]) {
		if (!cum || !kp_hist_total(cum))
			return;
		s->lat[kind] = kp_window__new(longest_window(&a->o), slot);
		if (!s->lat[kind])
			return;
		if (s->prev_ns)
			kp_window__push(s->lat[kind], zero, s->prev_ns);
	}
	if (cum)
		kp_window__push(s->lat[kind], cum, now);
}

/* p50 and p99 of the kinds an update uses, over the shortest window: one
 * sum of the window and one pass over its buckets each, which the health
 * factors, the chart series and the alert rules then share. */
static void window_pcts(struct kp_analysis *a, struct kp_astate *s, uint64_t now)
{
	static const double qs[2] = { 0.5, 0.99 };
	static const int used[] = { KP_L_RUNQ, KP_L_RTT, KP_L_REQ_IN, KP_L_REQ_OUT };

	for (int i = 0; i < KP_L_MAX; i++)
		s->win_p50[i] = s->win_p99[i] = NAN;
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		int kind = used[i];
		uint64_t n, v[2];

		if (!s->lat[kind] ||
		    !(n = kp_analysis_window(s->lat[kind], a->o.windows_ns[0], now, a->scratch)))
			continue;
		kp_hist_quantiles(a->scratch, n, qs, 2, v);
		s->win_p50[kind] = (double)v[0] / 1e9;
		s->win_p99[kind] = (double)v[1] / 1e9;
	}
	s->win_ns = now;
}

/* The run-queue heatmap; made at the first event, with the same zero
 * baseline as the windows. */
static void feed_heatmap(struct kp_analysis *a, struct kp_astate *s, const uint64_t *cum,
			 uint64_t now)
{
	static const uint64_t zero[KP_HIST_BUCKETS];
	uint64_t col = a->o.interval_ns > SLOT_MIN_NS ? a->o.interval_ns : SLOT_MIN_NS;

	if (!s->runq_map) {
		if (!kp_hist_total(cum))
			return;
		s->runq_map = kp_heatmap__new(a->o.history_ns, col);
		if (!s->runq_map)
			return;
		if (s->prev_ns)
			kp_heatmap__push(s->runq_map, zero, s->prev_ns);
	}
	kp_heatmap__push(s->runq_map, cum, now);
}

/* Request latency per named port and "other", windowed (see portwin.h);
 * before update_one, which moves prev_ns on. */
static void feed_ports(struct kp_analysis *a, struct kp_astate *s,
		       const struct kp_container *k, uint64_t now)
{
	static struct kp_lat l;
	uint64_t slot = a->o.interval_ns > SLOT_MIN_NS ? a->o.interval_ns : SLOT_MIN_NS;

	if (!k->req[0] && !k->req[1])
		return;
	if (!s->ports && !(s->ports = kp_portwin__new(a->o.windows_ns[0], slot)))
		return;
	for (int dir = 0; dir < 2; dir++) {
		const struct kp_portset *ps = k->req[dir];

		for (unsigned int i = 0; ps && i < kp_portset__named_count(ps); i++) {
			uint16_t port = kp_portset__named(ps, i, &l);

			kp_portwin__push(s->ports, dir, port, l.hist, s->prev_ns, now);
		}
		if (ps && kp_portset__other(ps, &l))
			kp_portwin__push(s->ports, dir, KP_PORT_OTHER, l.hist, s->prev_ns, now);
	}
	kp_portwin__end_round(s->ports);
}

/* p50 (and p99 unless @s99 < 0) over the shortest window into their
 * series; no point while the window has no events. */
static void pct_series(struct kp_astate *s, int kind, int s50, int s99)
{
	if (isnan(s->win_p50[kind]))
		return;
	history_add(&s->hist[s50], &s->ticks, s->win_p50[kind]);
	if (s99 >= 0)
		history_add(&s->hist[s99], &s->ticks, s->win_p99[kind]);
}

/* Series only the dashboard's charts read. */
static void chart_series(struct kp_astate *s, const struct kp_mem_totals *m,
			 const struct kp_cpu_files *cpu, const struct kp_tcp_totals *tcp)
{
	static const int psi[][2] = {
		{ KP_PSI_CPU, KP_S_PSI_CPU }, { KP_PSI_MEMORY, KP_S_PSI_MEM },
		{ KP_PSI_IO, KP_S_PSI_IO },
	};

	pct_series(s, KP_L_RUNQ, KP_S_RUNQ_P50, -1);
	pct_series(s, KP_L_RTT, KP_S_RTT_P50, KP_S_RTT_P99);
	pct_series(s, KP_L_REQ_IN, KP_S_REQ_IN_P50, KP_S_REQ_IN_P99);
	pct_series(s, KP_L_REQ_OUT, KP_S_REQ_OUT_P50, KP_S_REQ_OUT_P99);
	if (m) {
		if (m->files.has_limit)
			history_add(&s->hist[KP_S_MEM_LIMIT], &s->ticks, (double)m->files.limit_bytes);
		if (m->files.has_stat)
			history_add(&s->hist[KP_S_MEM_WORKING_SET], &s->ticks,
				    (double)m->files.working_set_bytes);
		for (size_t i = 0; i < sizeof(psi) / sizeof(psi[0]); i++)
			if (m->files.has_psi[psi[i][0]] && m->files.psi[psi[i][0]].some.present)
				history_add(&s->hist[psi[i][1]], &s->ticks,
					    m->files.psi[psi[i][0]].some.avg10);
	}
	if (tcp) {
		history_add(&s->hist[KP_S_RX_RATE], &s->ticks, s->rx_rate);
		history_add(&s->hist[KP_S_TX_RATE], &s->ticks, s->tx_rate);
	}
	/* the limit and throttling only while there is a limit: no ring for
	 * the many containers without one */
	if (cpu && cpu->has_limit)
		history_add(&s->hist[KP_S_CPU_LIMIT], &s->ticks, kp_cpu_limit_cores(&cpu->limit));
	if (!isnan(s->throttled_pct))
		history_add(&s->hist[KP_S_THROTTLED_PCT], &s->ticks, s->throttled_pct);
}

double kp_history_delta(const struct kp_timeline *tl, const struct kp_history *h,
			uint64_t span_ns)
{
	uint32_t span = (uint32_t)(span_ns / 1000000000ull);
	uint32_t lo, hi, t_new, t;
	float last, v, v_old = 0;
	bool have_old = false;

	if (!h->v)	/* one value all along (or none): no change */
		return 0;
	if (!kp_history_range(tl, h, &lo, &hi) || !kp_history_at(tl, h, hi, &t_new, &last))
		return 0;
	/* the newest point at or before the window's start, else the oldest */
	for (uint32_t s = hi; s-- > lo;) {
		if (!kp_history_at(tl, h, s, &t, &v))
			continue;
		if (t_new - t >= span)
			return (double)last - v;
		v_old = v;
		have_old = true;
	}
	return have_old ? (double)last - v_old : 0;
}

/* A point of a cumulative series (differences give what happened in a
 * window). The first one after a rate, not a baseline, follows a zero at
 * the previous update @t0: the counters started from zero since (a new
 * cgroup, its first socket), and what they counted then - an OOM kill of a
 * container that just started - belongs in the window. */
static void cumulative_add(struct kp_history *h, const struct kp_timeline *tl, bool from_zero,
			   double v)
{
	if (!h->any && from_zero)
		kp_history_start_prev(tl, h, 0);	/* at the previous tick, t0's */
	history_add(h, tl, v);
}

/* Sum of request latency over every port of one direction. */
static void req_total(const struct kp_portset *ps, uint64_t *out)
{
	static struct kp_lat l;

	memset(out, 0, KP_HIST_BUCKETS * sizeof(*out));
	for (unsigned int i = 0; ps && i < kp_portset__named_count(ps); i++) {
		kp_portset__named(ps, i, &l);
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			out[b] += l.hist[b];
	}
	if (ps && kp_portset__other(ps, &l))
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			out[b] += l.hist[b];
}

double kp_analysis_throttled_pct(const struct kp_astate *s, uint64_t span_ns,
				 uint64_t now_ns)
{
	return s->thr ? kp_throttle__pct(s->thr, span_ns, now_ns) : NAN;
}

/* cpu.stat's counters into the container's throttle windows, made once it
 * has a limit (an unlimited cgroup is never throttled). */
static void feed_throttle(struct kp_analysis *a, struct kp_astate *s,
			  const struct kp_cpu_files *cpu, uint64_t now)
{
	if (!cpu || !cpu->has_throttle)
		return;
	if (!s->thr && (cpu->has_limit || cpu->throttle.throttled_periods)) {
		s->thr = kp_throttle__new(longest_window(&a->o),
					  a->o.interval_ns > SLOT_MIN_NS ? a->o.interval_ns : SLOT_MIN_NS);
		if (!s->thr)
			return;
	}
	if (s->thr)
		kp_throttle__push(s->thr, now, cpu->throttle.periods,
				  cpu->throttle.throttled_periods);
	s->throttled_pct = kp_analysis_throttled_pct(s, a->o.windows_ns[0], now);
}

/* The health factors' inputs (NAN: unknown) from the windows, history
 * and cgroup files. */
static void factor_values(struct kp_analysis *a, struct kp_astate *s,
			  const struct kp_mem_totals *m, const struct kp_tcp_totals *tcp,
			  uint64_t now, double *vals)
{
	uint64_t longest = longest_window(&a->o);

	for (int i = 0; i < KP_F_MAX; i++)
		vals[i] = NAN;
	vals[KP_F_RUNQ_P99] = s->win_p99[KP_L_RUNQ];
	vals[KP_F_REQUEST_P99] = s->win_p99[KP_L_REQ_IN];
	vals[KP_F_CPU_THROTTLED] = s->throttled_pct;
	if (m) {
		double window = (double)a->o.windows_ns[0] / 1e9, share;

		if (m->files.has_psi[KP_PSI_CPU])
			vals[KP_F_CPU_PRESSURE] = m->files.psi[KP_PSI_CPU].some.avg60;
		if (m->files.has_psi[KP_PSI_MEMORY])
			vals[KP_F_MEM_PRESSURE] = m->files.psi[KP_PSI_MEMORY].some.avg60;
		share = kp_history_delta(&s->ticks, &s->hist[KP_S_RECLAIM_SECONDS], a->o.windows_ns[0]) / window;
		vals[KP_F_RECLAIM_SHARE] = share > 1 ? 1 : share;
		s->oom_kills_window = kp_history_delta(&s->ticks, &s->hist[KP_S_OOM_KILLS], longest);
		vals[KP_F_OOM_KILLS] = s->oom_kills_window;
	}
	if (tcp) {
		double seg = kp_history_delta(&s->ticks, &s->hist[KP_S_TX_SEGMENTS], a->o.windows_ns[0]);
		double re = kp_history_delta(&s->ticks, &s->hist[KP_S_RETRANSMITS], a->o.windows_ns[0]);

		if (seg >= 1)
			vals[KP_F_RETRANSMIT_SHARE] = re / seg;
	}
}

/* Every latency window of one container (or the node) up to @now. */
static void feed_all(struct kp_analysis *a, struct kp_astate *s,
		     const struct kp_sched_totals *t, const struct kp_mem_totals *m,
		     const struct kp_tcp_totals *tcp, const uint64_t *req_in,
		     const uint64_t *req_out, uint64_t now)
{
	feed(a, s, KP_L_RUNQ, t->runq_hist, now);
	feed_heatmap(a, s, t->runq_hist, now);
	feed(a, s, KP_L_RECLAIM, m ? kp_mem_reclaim_hist(m) : NULL, now);
	feed(a, s, KP_L_RTT, tcp ? tcp->rtt_hist : NULL, now);
	feed(a, s, KP_L_CONNECT, tcp ? tcp->connect_hist : NULL, now);
	feed(a, s, KP_L_REQ_IN, req_in, now);
	feed(a, s, KP_L_REQ_OUT, req_out, now);
}

static void update_one(struct kp_analysis *a, struct kp_astate *s,
		       const struct kp_sched_totals *t, const struct kp_mem_totals *m,
		       const struct kp_cpu_files *cpu, const struct kp_tcp_totals *tcp,
		       const uint64_t *req_in, const uint64_t *req_out, uint64_t now)
{
	double vals[KP_F_MAX], dt = 0;
	uint32_t since = (uint32_t)((now - a->start_ns) / 1000000000ull);
	bool have_rate = s->prev_ns && now > s->prev_ns;
	uint32_t t0 = have_rate ? (uint32_t)((s->prev_ns - a->start_ns) / 1000000000ull) : 0;

	feed_all(a, s, t, m, tcp, req_in, req_out, now);
	feed_throttle(a, s, cpu, now);
	if (have_rate) {
		dt = (double)(now - s->prev_ns) / 1e9;
		s->cpu_cores = (double)(t->cpu_ns - s->prev_cpu_ns) / 1e9 / dt;
		s->vcsw_rate = (double)(t->nvcsw - s->prev_nvcsw) / dt;
		s->ivcsw_rate = (double)(t->nivcsw - s->prev_nivcsw) / dt;
		if (tcp) {
			s->rx_rate = (double)(tcp->rx_bytes - s->prev_rx) / dt;
			s->tx_rate = (double)(tcp->tx_bytes - s->prev_tx) / dt;
		}
	}
	s->prev_ns = now;
	s->prev_cpu_ns = t->cpu_ns;
	s->prev_nvcsw = t->nvcsw;
	s->prev_nivcsw = t->nivcsw;
	if (tcp) {
		s->prev_rx = tcp->rx_bytes;
		s->prev_tx = tcp->tx_bytes;
	}
	/* this update's tick (and, for a state new since the previous update,
	 * one at that update's time t0: the zero its cumulative series start
	 * from belongs there) */
	if (have_rate && (!s->ticks.seq || kp_timeline_last(&s->ticks) != t0))
		kp_timeline_tick(&s->ticks, t0);
	kp_timeline_tick(&s->ticks, since);
	/* cumulative series have a point at the baseline too */
	if (m) {
		cumulative_add(&s->hist[KP_S_OOM_KILLS], &s->ticks, have_rate, (double)m->oom_kills);
		cumulative_add(&s->hist[KP_S_RECLAIM_SECONDS], &s->ticks, have_rate,
			       (double)m->reclaim_sum_ns / 1e9);
	}
	if (tcp) {
		cumulative_add(&s->hist[KP_S_RETRANSMITS], &s->ticks, have_rate, (double)tcp->retrans);
		cumulative_add(&s->hist[KP_S_TX_SEGMENTS], &s->ticks, have_rate,
			       (double)tcp->tx_bytes / 1448);
	}
	if (!have_rate) {
		s->health.score = 100;
		s->health.worst = -1;
		for (int i = 0; i < KP_F_MAX; i++)
			s->health.f[i].value = NAN;
		return;		/* a baseline, not a figure */
	}

	history_add(&s->hist[KP_S_CPU_CORES], &s->ticks, s->cpu_cores);
	if (m) {
		if (m->files.has_usage)	/* no memory cgroup: no points, not zeros */
			history_add(&s->hist[KP_S_MEM_USAGE], &s->ticks,
				    (double)m->files.usage_bytes);
	}

	window_pcts(a, s, now);
	factor_values(a, s, m, tcp, now, vals);
	kp_health_score(vals, a->o.factors, &s->health);
	history_add(&s->hist[KP_S_RUNQ_P99],
		    &s->ticks, isnan(vals[KP_F_RUNQ_P99]) ? 0 : vals[KP_F_RUNQ_P99]);
	history_add(&s->hist[KP_S_HEALTH], &s->ticks, s->health.score);
	chart_series(s, m, cpu, tcp);
}

/* The state of @cgid, made when new (healthy until its first figures:
 * unknown factors cost nothing); NULL when out of memory. */
static struct entry *state_of(struct kp_analysis *a, uint64_t cgid)
{
	struct entry *e;

	HASH_FIND(hh, a->by_id, &cgid, sizeof(cgid), e);
	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e || state_init(a, &e->s, cgid)) {
		if (e)
			state_free(&e->s);
		free(e);
		return NULL;
	}
	e->s.gen = a->gen;
	e->s.health.score = 100;
	e->s.health.worst = -1;
	for (int i = 0; i < KP_F_MAX; i++)
		e->s.health.f[i].value = NAN;
	HASH_ADD(hh, a->by_id, s.cgid, sizeof(e->s.cgid), e);
	return e;
}

void kp_analysis__update(struct kp_analysis *a, const struct kp_model *m, uint64_t now)
{
	struct kp_container *k, *ktmp;
	struct entry *e, *tmp;

	a->gen++;
	KP_MODEL_FOR_EACH_SHOWN(m, k, ktmp) {
		if (!(e = state_of(a, k->cgid)))
			continue;
		e->s.gen = a->gen;
		feed_ports(a, &e->s, k, now);
		req_total(k->req[0], a->req_in);
		req_total(k->req[1], a->req_out);
		update_one(a, &e->s, &k->t, &k->mem, &k->cpu, k->tcp, k->req[0] ? a->req_in : NULL,
			   k->req[1] ? a->req_out : NULL, now);
	}
	/* cgroups the collector dropped */
	HASH_ITER(hh, a->by_id, e, tmp) {
		if (e->s.gen == a->gen)
			continue;
		HASH_DEL(a->by_id, e);
		state_free(&e->s);
		free(e);
	}
	update_one(a, &a->node.s, &m->node, &m->node_mem, NULL, &m->node_tcp, m->node_req[0].hist,
		   m->node_req[1].hist, now);
	kp_netrates_update(&a->net, m->nodefigs.have[KP_NODE_NETDEV] ? &m->nodefigs.net : NULL,
			   m->nodefigs.read_ns);
	a->last_ns = now;
}

void kp_analysis__feed_windows(struct kp_analysis *a, const struct kp_model *m, uint64_t now)
{
	struct kp_container *k, *ktmp;
	struct entry *e;

	KP_MODEL_FOR_EACH_SHOWN(m, k, ktmp) {
		/* new since the last tick: listed now, its rates at the next */
		if (!(e = state_of(a, k->cgid)))
			continue;
		feed_ports(a, &e->s, k, now);
		req_total(k->req[0], a->req_in);
		req_total(k->req[1], a->req_out);
		feed_all(a, &e->s, &k->t, &k->mem, k->tcp, k->req[0] ? a->req_in : NULL,
			 k->req[1] ? a->req_out : NULL, now);
	}
	if (a->node.s.prev_ns)
		feed_all(a, &a->node.s, &m->node, &m->node_mem, &m->node_tcp,
			 m->node_req[0].hist, m->node_req[1].hist, now);
}

const struct kp_astate *kp_analysis__get(const struct kp_analysis *a, uint64_t cgid)
{
	struct entry *e;

	if (!cgid)
		return &a->node.s;
	HASH_FIND(hh, a->by_id, &cgid, sizeof(cgid), e);
	return e ? &e->s : NULL;
}

const struct kp_analysis_opts *kp_analysis__opts(const struct kp_analysis *a)
{
	return &a->o;
}

const struct kp_netrates *kp_analysis__netrates(const struct kp_analysis *a)
{
	return &a->net;
}

uint64_t kp_analysis__start_ns(const struct kp_analysis *a)
{
	return a->start_ns;
}
