/* analysis.c - rates, windows, health and history per cgroup (see
 * analysis.h). Runs once per collection interval, never per scrape. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "analysis.h"
#include "collector.h"
#include "hist.h"
#include "window.h"

#define SLOT_MIN_NS 5000000000ull

const char *const kp_series_names[KP_S_MAX] = {
	[KP_S_CPU_CORES] = "cpu_cores",
	[KP_S_RUNQ_P99] = "runq_p99_seconds",
	[KP_S_HEALTH] = "health_score",
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
	static const uint64_t zero[KP_HIST_BUCKETS];

	uint64_t slot = a->o.interval_ns > SLOT_MIN_NS ? a->o.interval_ns : SLOT_MIN_NS;
	uint32_t cap = (uint32_t)(a->o.history_ns / a->o.interval_ns) + 1;

	s->cgid = id;
	s->runq = kp_window__new(longest_window(&a->o), slot);
	if (!s->runq)
		return -1;
	if (a->last_ns) {
		kp_window__push(s->runq, zero, a->last_ns);
		s->prev_ns = a->last_ns;
	}
	for (int i = 0; i < KP_S_MAX; i++) {
		s->hist[i].cap = cap;
		s->hist[i].t = calloc(cap, sizeof(uint32_t));
		s->hist[i].v = calloc(cap, sizeof(float));
		if (!s->hist[i].t || !s->hist[i].v)
			return -1;
	}
	return 0;
}

static void state_free(struct kp_astate *s)
{
	kp_window__free(s->runq);
	for (int i = 0; i < KP_S_MAX; i++) {
		free(s->hist[i].t);
		free(s->hist[i].v);
	}
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
	return kp_window__sum(w, span, now, out);
}

static void history_add(struct kp_history *h, uint32_t t, double v)
{
	h->t[h->head] = t;
	h->v[h->head] = (float)v;
	h->head = (h->head + 1) % h->cap;
	if (h->n < h->cap)
		h->n++;
}

static void update_one(struct kp_analysis *a, struct kp_astate *s,
		       const struct kp_sched_totals *t, uint64_t now)
{
	double vals[KP_F_MAX];
	uint32_t since = (uint32_t)((now - a->start_ns) / 1000000000ull);
	bool have_rate = s->prev_ns && now > s->prev_ns;

	if (have_rate) {
		double dt = (double)(now - s->prev_ns) / 1e9;

		s->cpu_cores = (double)(t->cpu_ns - s->prev_cpu_ns) / 1e9 / dt;
		s->vcsw_rate = (double)(t->nvcsw - s->prev_nvcsw) / dt;
		s->ivcsw_rate = (double)(t->nivcsw - s->prev_nivcsw) / dt;
	}
	s->prev_ns = now;
	s->prev_cpu_ns = t->cpu_ns;
	s->prev_nvcsw = t->nvcsw;
	s->prev_nivcsw = t->nivcsw;
	kp_window__push(s->runq, t->runq_hist, now);

	for (int i = 0; i < KP_F_MAX; i++)
		vals[i] = NAN;
	if (kp_analysis_window(s->runq, a->o.windows_ns[0], now, a->scratch) > 0)
		vals[KP_F_RUNQ_P99] = (double)kp_hist_quantile(a->scratch, 0.99) / 1e9;
	kp_health_score(vals, a->o.factors, &s->health);

	if (!have_rate)
		return;		/* a baseline, not a figure */
	history_add(&s->hist[KP_S_CPU_CORES], since, s->cpu_cores);
	history_add(&s->hist[KP_S_RUNQ_P99],
		    since, isnan(vals[KP_F_RUNQ_P99]) ? 0 : vals[KP_F_RUNQ_P99]);
	history_add(&s->hist[KP_S_HEALTH], since, s->health.score);
}

void kp_analysis__update(struct kp_analysis *a, const struct kp_collector *c,
			 uint64_t now)
{
	struct kp_container *k, *ktmp;
	struct entry *e, *tmp;

	a->gen++;
	HASH_ITER(hh, kp_collector__containers(c), k, ktmp) {
		if (!k->path)
			continue;
		HASH_FIND(hh, a->by_id, &k->cgid, sizeof(k->cgid), e);
		if (!e) {
			e = calloc(1, sizeof(*e));
			if (!e || state_init(a, &e->s, k->cgid)) {
				if (e)
					state_free(&e->s);
				free(e);
				continue;
			}
			HASH_ADD(hh, a->by_id, s.cgid, sizeof(e->s.cgid), e);
		}
		e->s.gen = a->gen;
		update_one(a, &e->s, &k->t, now);
	}
	/* cgroups the collector dropped */
	HASH_ITER(hh, a->by_id, e, tmp) {
		if (e->s.gen == a->gen)
			continue;
		HASH_DEL(a->by_id, e);
		state_free(&e->s);
		free(e);
	}
	update_one(a, &a->node.s, kp_collector__node(c), now);
	a->last_ns = now;
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

uint64_t kp_analysis__start_ns(const struct kp_analysis *a)
{
	return a->start_ns;
}
