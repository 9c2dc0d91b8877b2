/* alerts.c - the alert state machine (see alerts.h); what is made of its
 * alerts for people and receivers is out/alert_out.c.
 *
 * Active alerts (pending, firing) live in a hash keyed by a 64-bit FNV-1a
 * of the rule name and the instance labels; resolved ones move to a ring of
 * the last KP_ALERTS_RESOLVED_KEPT. Every transition goes through one
 * function, which calls the owner's event callback, so a log line or a
 * delivery can never be missed or doubled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "analysis/alerts.h"
#include "model/model.h"

struct kp_alerts {
	struct kp_alerts_opts o;
	char token[KP_CFG_TEXT_MAX];
	uint64_t seed;			/* id_seed at creation */
	struct kp_rule *rules;
	unsigned int n_rules;
	struct kp_alert *active;	/* uthash by key */
	unsigned int n_active;
	struct kp_alert *resolved[KP_ALERTS_RESOLVED_KEPT];	/* ring */
	unsigned int res_head, res_n;	/* head: next write */
	uint64_t gen;
	uint64_t dropped;
	kp_alerts_event_fn fn;
	void *ctx;
};

struct kp_alerts_sink {
	struct kp_alerts *e;
	const struct kp_rule *rule;
	uint64_t now;
};

static const char *const state_names[] = {
	[KP_ALERT_INACTIVE] = "inactive",
	[KP_ALERT_PENDING] = "pending",
	[KP_ALERT_FIRING] = "firing",
	[KP_ALERT_RESOLVED] = "resolved",
};

const char *kp_alert_state_name(enum kp_alert_state s)
{
	return (unsigned int)s <= KP_ALERT_RESOLVED ? state_names[s] : "unknown";
}

bool kp_alert_event_delivers(const struct kp_alert_event *ev)
{
	if (ev->kind == KP_AEV_RESEND)
		return true;
	if (ev->kind != KP_AEV_STATE)
		return false;
	return ev->to == KP_ALERT_FIRING ||
	       (ev->to == KP_ALERT_RESOLVED && ev->from == KP_ALERT_FIRING);
}

/* ---- lifetime ---------------------------------------------------------- */

static void alert_free(struct kp_alert *a)
{
	if (!a)
		return;
	for (unsigned int i = 0; i < a->n_labels; i++) {
		free(a->label_name[i]);
		free(a->label_value[i]);
	}
	free(a);
}

void kp_alerts__set_opts(struct kp_alerts *e, const struct kp_alerts_opts *o)
{
	e->o = *o;
	snprintf(e->token, sizeof(e->token), "%s", o->admin_token ? o->admin_token : "");
	e->o.admin_token = e->token;
}

struct kp_alerts *kp_alerts__new(const struct kp_alerts_opts *o, kp_alerts_event_fn fn,
				 void *ctx)
{
	struct kp_alerts *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	kp_alerts__set_opts(e, o);
	e->seed = o->id_seed;
	e->fn = fn;
	e->ctx = ctx;
	return e;
}

void kp_alerts__free(struct kp_alerts *e)
{
	struct kp_alert *a, *tmp;

	if (!e)
		return;
	HASH_ITER(hh, e->active, a, tmp) {
		HASH_DEL(e->active, a);
		alert_free(a);
	}
	for (unsigned int i = 0; i < KP_ALERTS_RESOLVED_KEPT; i++)
		alert_free(e->resolved[i]);
	free(e->rules);
	free(e);
}

/* ---- transitions ------------------------------------------------------ */

static void emit(struct kp_alerts *e, enum kp_alert_event_kind kind, struct kp_alert *a,
		 enum kp_alert_state from, uint64_t now)
{
	struct kp_alert_event ev = { kind, from, a->state, a, now };

	if (e->fn)
		e->fn(e->ctx, &ev);
}

/* Move @a to @to, tell the owner, and file it where it now belongs. */
static void transition(struct kp_alerts *e, struct kp_alert *a, enum kp_alert_state to,
		       uint64_t now)
{
	enum kp_alert_state from = a->state;

	a->state = to;
	if (to == KP_ALERT_FIRING) {
		a->firing_ns = now;
		a->sent_ns = now;
	} else if (to == KP_ALERT_RESOLVED) {
		a->resolved_ns = now;
	}
	emit(e, KP_AEV_STATE, a, from, now);
	if (to != KP_ALERT_INACTIVE && to != KP_ALERT_RESOLVED)
		return;
	HASH_DEL(e->active, a);
	e->n_active--;
	if (to == KP_ALERT_INACTIVE) {
		alert_free(a);
		return;
	}
	alert_free(e->resolved[e->res_head]);
	e->resolved[e->res_head] = a;
	e->res_head = (e->res_head + 1) % KP_ALERTS_RESOLVED_KEPT;
	if (e->res_n < KP_ALERTS_RESOLVED_KEPT)
		e->res_n++;
}

/* Resolve a firing alert, forget a pending one. */
static void end(struct kp_alerts *e, struct kp_alert *a, uint64_t now)
{
	transition(e, a, a->state == KP_ALERT_FIRING ? KP_ALERT_RESOLVED : KP_ALERT_INACTIVE, now);
}

/* ---- rules ------------------------------------------------------------- */

static const struct kp_rule *rule_named(const struct kp_alerts *e, const char *name)
{
	for (unsigned int i = 0; i < e->n_rules; i++)
		if (!strcmp(e->rules[i].name, name))
			return &e->rules[i];
	return NULL;
}

static void take_rule(struct kp_alert *a, const struct kp_rule *r)
{
	a->metric = r->metric;
	a->op = r->op;
	a->threshold = r->threshold;
	a->clear = r->clear;
	memcpy(a->summary, r->summary, sizeof(a->summary));
}

int kp_alerts__set_rules(struct kp_alerts *e, const struct kp_rule *rules, unsigned int n,
			 uint64_t now)
{
	struct kp_rule *copy = n ? malloc(n * sizeof(*copy)) : NULL;
	struct kp_alert *a, *tmp;

	if (n && !copy)
		return -ENOMEM;
	if (n)
		memcpy(copy, rules, n * sizeof(*copy));
	free(e->rules);
	e->rules = copy;
	e->n_rules = n;
	HASH_ITER(hh, e->active, a, tmp) {
		const struct kp_rule *r = rule_named(e, a->rule);

		if (r)
			take_rule(a, r);
		else
			end(e, a, now);
	}
	return 0;
}

/* ---- evaluation ------------------------------------------------------ */

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV_PRIME;
	return (h ^ 0xff) * FNV_PRIME;	/* a separator no string contains */
}

static uint64_t alert_key(uint64_t seed, const char *rule, const struct kp_label *labels)
{
	uint64_t h = fnv(FNV_OFFSET ^ seed, rule);

	for (const struct kp_label *l = labels; l && l->name; l++)
		h = fnv(fnv(h, l->name), l->value ? l->value : "");
	return h;
}

bool kp_alerts_match(const char *pattern, const struct kp_label *labels)
{
	const char *name = NULL, *id = NULL, *path = NULL;

	for (const struct kp_label *l = labels; l && l->name; l++) {
		if (!strcmp(l->name, "container"))
			name = l->value;
		else if (!strcmp(l->name, "container_id"))
			id = l->value;
		else if (!strcmp(l->name, "cgroup"))
			path = l->value;
	}
	/* the same rule as -c and ?container= everywhere */
	return kp_match(pattern, name, id, path);
}

static struct kp_alert *alert_new(struct kp_alerts *e, const struct kp_rule *r,
				  const struct kp_label *labels, uint64_t key, uint64_t now)
{
	struct kp_alert *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->key = key;
	snprintf(a->id, sizeof(a->id), "%016llx", (unsigned long long)key);
	snprintf(a->rule, sizeof(a->rule), "%s", r->name);
	a->severity = r->severity;
	take_rule(a, r);
	a->state = KP_ALERT_INACTIVE;
	a->pending_ns = now;
	for (const struct kp_label *l = labels; l && l->name && a->n_labels < KP_ALERT_MAX_LABELS; l++) {
		a->label_name[a->n_labels] = strdup(l->name);
		a->label_value[a->n_labels] = strdup(l->value ? l->value : "");
		if (!a->label_name[a->n_labels] || !a->label_value[a->n_labels]) {
			free(a->label_name[a->n_labels]);
			free(a->label_value[a->n_labels]);
			alert_free(a);
			return NULL;
		}
		a->n_labels++;
	}
	HASH_ADD(hh, e->active, key, sizeof(a->key), a);
	e->n_active++;
	return a;
}

void kp_alerts_put(struct kp_alerts_sink *s, const struct kp_label *labels, double v)
{
	struct kp_alerts *e = s->e;
	const struct kp_rule *r = s->rule;
	bool past, cleared;
	struct kp_alert *a;
	uint64_t key;

	if (r->scope == KP_SCOPE_CONTAINER && !kp_alerts_match(r->match, labels))
		return;
	if (r->scope == KP_SCOPE_NODE)
		labels = NULL;
	/* false for NAN (unknown) too */
	past = r->op == KP_OP_ABOVE ? v > r->threshold : v < r->threshold;
	/* nothing active, so nothing to find: an instance that is not past
	 * its threshold changes nothing, and its key (a hash of every label,
	 * for every rule and container each tick) is not worth making */
	if (!e->n_active && !past)
		return;
	key = alert_key(e->seed, r->name, labels);
	HASH_FIND(hh, e->active, &key, sizeof(key), a);
	if (a) {
		if (a->seen_gen == e->gen)
			return;	/* the same instance twice: the first counts */
		a->seen_gen = e->gen;
	}
	if (isnan(v))
		return;		/* unknown: hold */
	cleared = r->op == KP_OP_ABOVE ? v <= r->clear : v >= r->clear;
	if (!a) {
		if (!past)
			return;
		if (e->n_active >= e->o.max_active) {
			e->dropped++;
			return;
		}
		a = alert_new(e, r, labels, key, s->now);
		if (!a) {
			e->dropped++;
			return;
		}
		a->seen_gen = e->gen;
		a->value = v;
		transition(e, a, r->for_ns ? KP_ALERT_PENDING : KP_ALERT_FIRING, s->now);
		return;
	}
	a->value = v;
	if (cleared) {
		end(e, a, s->now);
		return;
	}
	if (a->state == KP_ALERT_PENDING && past && s->now - a->pending_ns >= r->for_ns)
		transition(e, a, KP_ALERT_FIRING, s->now);
}

void kp_alerts__eval(struct kp_alerts *e, uint64_t now, kp_alerts_sample_fn sample, void *ctx)
{
	struct kp_alerts_sink s = { e, NULL, now };
	struct kp_alert *a, *tmp;

	e->gen++;
	for (unsigned int i = 0; i < e->n_rules; i++) {
		s.rule = &e->rules[i];
		sample(ctx, s.rule, &s);
	}
	HASH_ITER(hh, e->active, a, tmp) {
		if (a->seen_gen != e->gen) {
			end(e, a, now);		/* its instance is gone */
			continue;
		}
		if (a->state == KP_ALERT_FIRING && !a->acked && e->o.resend_ns &&
		    now - a->sent_ns >= e->o.resend_ns) {
			a->sent_ns = now;
			emit(e, KP_AEV_RESEND, a, a->state, now);
		}
	}
}

/* ---- acknowledgement and lookups ------------------------------------- */

/* Compares every byte whatever the first difference, so the time taken
 * does not tell how much of a guess was right. */
static bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)(lb ? b[i % lb] : 0);
	return !d;
}

static struct kp_alert *find_active(const struct kp_alerts *e, const char *id)
{
	struct kp_alert *a;
	uint64_t key;
	char *end;

	if (strlen(id) != 16)
		return NULL;
	errno = 0;
	key = strtoull(id, &end, 16);
	if (*end || errno)
		return NULL;
	HASH_FIND(hh, e->active, &key, sizeof(key), a);
	return a;
}

/* The newest resolved alert with @id. */
static struct kp_alert *find_resolved(const struct kp_alerts *e, const char *id)
{
	for (unsigned int i = 1; i <= e->res_n; i++) {
		struct kp_alert *a = e->resolved[(e->res_head + KP_ALERTS_RESOLVED_KEPT - i) %
						 KP_ALERTS_RESOLVED_KEPT];

		if (!strcmp(a->id, id))
			return a;
	}
	return NULL;
}

int kp_alerts__ack(struct kp_alerts *e, const char *id, const char *token, uint64_t now)
{
	struct kp_alert *a;

	if (!e->token[0]) {
		if (!e->o.open)
			return -ENOKEY;
	} else if (!token || !*token) {
		return -EACCES;
	} else if (!token_equal(e->token, token)) {
		return -EPERM;
	}
	a = find_active(e, id);
	if (!a)
		return find_resolved(e, id) ? -EBUSY : -ENOENT;
	if (a->state != KP_ALERT_FIRING)
		return -EBUSY;
	if (a->acked)
		return 0;
	a->acked = true;
	a->acked_ns = now;
	emit(e, KP_AEV_ACK, a, a->state, now);
	return 0;
}

const struct kp_alert *kp_alerts__find(const struct kp_alerts *e, const char *id)
{
	const struct kp_alert *a = find_active(e, id);

	return a ? a : find_resolved(e, id);
}

unsigned int kp_alerts__count(const struct kp_alerts *e, enum kp_alert_state s)
{
	const struct kp_alert *a, *tmp;
	unsigned int n = 0;

	if (s == KP_ALERT_RESOLVED)
		return e->res_n;
	HASH_ITER(hh, e->active, a, tmp)
		n += a->state == s;
	return n;
}

uint64_t kp_alerts__dropped(const struct kp_alerts *e)
{
	return e->dropped;
}

/* Firing first, then pending, the oldest first within each. */
static int by_state_then_age(const void *x, const void *y)
{
	const struct kp_alert *a = *(const struct kp_alert *const *)x;
	const struct kp_alert *b = *(const struct kp_alert *const *)y;

	if (a->state != b->state)
		return a->state == KP_ALERT_FIRING ? -1 : 1;
	if (a->pending_ns != b->pending_ns)
		return a->pending_ns < b->pending_ns ? -1 : 1;
	return strcmp(a->id, b->id);
}

unsigned int kp_alerts__list(const struct kp_alerts *e, const struct kp_alert ***out)
{
	const struct kp_alert **v = malloc((e->n_active + e->res_n + 1) * sizeof(*v));
	const struct kp_alert *a, *tmp;
	unsigned int n = 0;

	*out = v;
	if (!v)
		return 0;
	HASH_ITER(hh, e->active, a, tmp)
		v[n++] = a;
	qsort(v, n, sizeof(*v), by_state_then_age);
	for (unsigned int i = 1; i <= e->res_n; i++)
		v[n++] = e->resolved[(e->res_head + KP_ALERTS_RESOLVED_KEPT - i) %
				     KP_ALERTS_RESOLVED_KEPT];
	return n;
}

const struct kp_rule *kp_alerts__rules(const struct kp_alerts *e, unsigned int *n)
{
	*n = e->n_rules;
	return e->rules;
}

unsigned int kp_alerts__count_rule(const struct kp_alerts *e, const char *rule,
				   enum kp_alert_state s)
{
	const struct kp_alert *a, *tmp;
	unsigned int n = 0;

	HASH_ITER(hh, e->active, a, tmp)
		n += a->state == s && !strcmp(a->rule, rule);
	return n;
}
