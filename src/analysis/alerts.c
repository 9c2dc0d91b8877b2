/* alerts.c - the alert state machine and its outputs (see alerts.h).
 *
 * Active alerts (pending, firing) live in a hash keyed by a 64-bit FNV-1a
 * of the rule name and the instance labels; resolved ones move to a ring of
 * the last KP_ALERTS_RESOLVED_KEPT. Every transition goes through one
 * function, which calls the owner's event callback, so a log line or a
 * delivery can never be missed or doubled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "analysis/alerts.h"

struct kp_alerts {
	struct kp_alerts_opts o;
	char token[KP_CFG_TEXT_MAX];
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

static uint64_t alert_key(const char *rule, const struct kp_label *labels)
{
	uint64_t h = fnv(FNV_OFFSET, rule);

	for (const struct kp_label *l = labels; l && l->name; l++)
		h = fnv(fnv(h, l->name), l->value ? l->value : "");
	return h;
}

bool kp_alerts_match(const char *pattern, const struct kp_label *labels)
{
	if (!pattern || !*pattern)
		return true;
	for (const struct kp_label *l = labels; l && l->name; l++) {
		if (!l->value || (strcmp(l->name, "container") && strcmp(l->name, "container_id") &&
				  strcmp(l->name, "cgroup")))
			continue;
		if (!fnmatch(pattern, l->value, 0))
			return true;
		/* a glob without the leading slash matches the cgroup path too */
		if (!strcmp(l->name, "cgroup") && l->value[0] == '/' &&
		    !fnmatch(pattern, l->value + 1, 0))
			return true;
	}
	return false;
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
	key = alert_key(r->name, labels);
	HASH_FIND(hh, e->active, &key, sizeof(key), a);
	if (a) {
		if (a->seen_gen == e->gen)
			return;	/* the same instance twice: the first counts */
		a->seen_gen = e->gen;
	}
	if (isnan(v))
		return;		/* unknown: hold */
	past = r->op == KP_OP_ABOVE ? v > r->threshold : v < r->threshold;
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

	if (e->token[0]) {
		if (!token || !*token)
			return -EACCES;
		if (!token_equal(e->token, token))
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

/* ---- outputs ----------------------------------------------------------- */

void kp_rfc3339(int64_t unix_ns, char *buf, size_t len)
{
	time_t t = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(unix_ns % 1000000000 / 1000000));
}

static json_t *unix_s(uint64_t ns, int64_t to_unix)
{
	return ns ? json_real((double)((int64_t)ns + to_unix) / 1e9) : json_null();
}

static json_t *labels_json(const struct kp_alert *a)
{
	json_t *l = json_object();

	for (unsigned int i = 0; i < a->n_labels; i++)
		json_object_set_new(l, a->label_name[i], json_string(a->label_value[i]));
	return l;
}

json_t *kp_alert_json(const struct kp_alert *a, int64_t to_unix)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:f, s:f, s:o, s:s}",
			      "id", a->id, "alertname", a->rule,
			      "severity", kp_severity_name(a->severity),
			      "state", kp_alert_state_name(a->state), "acknowledged", a->acked,
			      "metric", kp_metric_infos[a->metric].name,
			      "op", a->op == KP_OP_ABOVE ? "above" : "below",
			      "value", isfinite(a->value) ? json_real(a->value) : json_null(),
			      "threshold", a->threshold, "clear", a->clear,
			      "labels", labels_json(a), "summary", a->summary);

	json_object_set_new(j, "pending_since", unix_s(a->pending_ns, to_unix));
	json_object_set_new(j, "firing_since", unix_s(a->firing_ns, to_unix));
	json_object_set_new(j, "resolved_at", unix_s(a->resolved_ns, to_unix));
	json_object_set_new(j, "acknowledged_at", unix_s(a->acked_ns, to_unix));
	return j;
}

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

json_t *kp_alerts__json(const struct kp_alerts *e, int64_t to_unix)
{
	json_t *list = json_array(), *rules = json_array();
	const struct kp_alert **v = e->n_active ? malloc(e->n_active * sizeof(*v)) : NULL;
	const struct kp_alert *a, *tmp;
	unsigned int n = 0;

	if (v) {
		HASH_ITER(hh, e->active, a, tmp)
			v[n++] = a;
		qsort(v, n, sizeof(*v), by_state_then_age);
		for (unsigned int i = 0; i < n; i++)
			json_array_append_new(list, kp_alert_json(v[i], to_unix));
		free(v);
	}
	for (unsigned int i = 1; i <= e->res_n; i++)
		json_array_append_new(list, kp_alert_json(e->resolved[(e->res_head + KP_ALERTS_RESOLVED_KEPT - i) %
							       KP_ALERTS_RESOLVED_KEPT], to_unix));
	for (unsigned int i = 0; i < e->n_rules; i++) {
		const struct kp_rule *r = &e->rules[i];

		json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:s}",
			"name", r->name, "metric", kp_metric_infos[r->metric].name,
			"scope", kp_scope_name(r->scope), "match", r->match,
			"op", r->op == KP_OP_ABOVE ? "above" : "below",
			"threshold", r->threshold, "clear", r->clear,
			"for_seconds", (double)r->for_ns / 1e9,
			"window_seconds", (double)r->window_ns / 1e9,
			"severity", kp_severity_name(r->severity), "summary", r->summary));
	}
	return json_pack("{s:o, s:o, s:I}", "alerts", list, "rules", rules,
			 "dropped_total", (json_int_t)e->dropped);
}

void kp_alerts__prom(const struct kp_alerts *e, FILE *f)
{
	static const enum kp_alert_state shown[] = { KP_ALERT_PENDING, KP_ALERT_FIRING };
	struct kp_label l[4] = { { "alertname", NULL }, { "severity", NULL }, { "state", NULL },
				 { NULL, NULL } };
	const struct kp_alert *a, *tmp;

	kp_prom_family(f, "kpulse_alerts", "gauge",
		       "Alerts per rule in each state; an acknowledged alert still counts as firing.");
	for (unsigned int i = 0; i < e->n_rules; i++) {
		const struct kp_rule *r = &e->rules[i];

		for (size_t s = 0; s < sizeof(shown) / sizeof(shown[0]); s++) {
			unsigned int n = 0;

			HASH_ITER(hh, e->active, a, tmp)
				n += a->state == shown[s] && !strcmp(a->rule, r->name);
			l[0].value = r->name;
			l[1].value = kp_severity_name(r->severity);
			l[2].value = kp_alert_state_name(shown[s]);
			kp_prom_sample_u64(f, "kpulse_alerts", l, n);
		}
	}
	kp_prom_family(f, "kpulse_alerts_dropped_total", "counter",
		       "Evaluations where an instance past its threshold was not tracked: max_alerts were already active.");
	kp_prom_sample_u64(f, "kpulse_alerts_dropped_total", NULL, e->dropped);
}

/* logfmt value: bare when safe, else quoted with \" \\ \n escaped */
static void logfmt_value(FILE *f, const char *s)
{
	bool bare = *s != 0;

	for (const char *c = s; *c && bare; c++)
		bare = (unsigned char)*c > ' ' && *c != '"' && *c != '=' && *c != '\\' &&
		       (unsigned char)*c < 0x7f;
	if (bare) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < ' ' || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *event_name(const struct kp_alert_event *ev)
{
	switch (ev->kind) {
	case KP_AEV_ACK:
		return "acknowledged";
	case KP_AEV_RESEND:
		return "resent";
	default:
		return "state_change";
	}
}

void kp_alert_event_log(FILE *f, const struct kp_alert_event *ev, enum kp_log_format fmt,
			int64_t to_unix)
{
	const struct kp_alert *a = ev->alert;
	char ts[40], val[32];

	kp_rfc3339((int64_t)ev->now_ns + to_unix, ts, sizeof(ts));
	if (fmt == KP_LOG_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:f, s:f, s:o}",
				      "time", ts, "level", ev->to == KP_ALERT_FIRING ? "warn" : "info",
				      "msg", "alert", "event", event_name(ev), "alertname", a->rule,
				      "id", a->id, "from", kp_alert_state_name(ev->from),
				      "state", kp_alert_state_name(ev->to),
				      "severity", kp_severity_name(a->severity),
				      "value", isfinite(a->value) ? json_real(a->value) : json_null(),
				      "threshold", a->threshold, "clear", a->clear,
				      "labels", labels_json(a));
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

		if (s)
			fprintf(f, "%s\n", s);
		free(s);
		json_decref(j);
		return;
	}
	snprintf(val, sizeof(val), "%g", a->value);
	fprintf(f, "kpulse: alert event=%s alertname=", event_name(ev));
	logfmt_value(f, a->rule);
	fprintf(f, " id=%s from=%s state=%s severity=%s value=%s threshold=%g clear=%g",
		a->id, kp_alert_state_name(ev->from), kp_alert_state_name(ev->to),
		kp_severity_name(a->severity), val, a->threshold, a->clear);
	for (unsigned int i = 0; i < a->n_labels; i++) {
		fprintf(f, " %s=", a->label_name[i]);
		logfmt_value(f, a->label_value[i]);
	}
	fprintf(f, " time=%s\n", ts);
}

static const char *unit_text(enum kp_metric m, double v, char *buf, size_t len)
{
	const char *u = kp_metric_infos[m].unit;

	if (!strcmp(u, "s"))
		snprintf(buf, len, "%.3g ms", v * 1e3);
	else if (!strcmp(u, "%"))
		snprintf(buf, len, "%.3g%%", v);
	else
		snprintf(buf, len, "%.4g %s", v, u);
	return buf;
}

json_t *kp_alert_am_json(const struct kp_alert *a, const struct kp_cfg_label *extra,
			 unsigned int n_extra, const char *generator_url, int64_t to_unix)
{
	json_t *labels = json_pack("{s:s, s:s}", "alertname", a->rule,
				   "severity", kp_severity_name(a->severity));
	char ts[40], desc[256], v[48], t[48];
	json_t *j;

	for (unsigned int i = 0; i < a->n_labels; i++)
		json_object_set_new(labels, a->label_name[i], json_string(a->label_value[i]));
	for (unsigned int i = 0; i < n_extra; i++)
		if (!json_object_get(labels, extra[i].name))
			json_object_set_new(labels, extra[i].name, json_string(extra[i].value));
	snprintf(desc, sizeof(desc), "%s is %s (%s %s, clears %s %s)",
		 kp_metric_infos[a->metric].name,
		 isfinite(a->value) ? unit_text(a->metric, a->value, v, sizeof(v)) : "unknown",
		 a->op == KP_OP_ABOVE ? "above" : "below",
		 unit_text(a->metric, a->threshold, t, sizeof(t)),
		 a->op == KP_OP_ABOVE ? "at or below" : "at or above",
		 unit_text(a->metric, a->clear, ts, sizeof(ts)));
	kp_rfc3339((int64_t)(a->firing_ns ? a->firing_ns : a->pending_ns) + to_unix, ts, sizeof(ts));
	j = json_pack("{s:o, s:{s:s, s:s, s:s}, s:s}", "labels", labels,
		      "annotations", "summary", a->summary, "description", desc,
		      "kpulse_id", a->id, "startsAt", ts);
	if (a->state == KP_ALERT_RESOLVED) {
		kp_rfc3339((int64_t)a->resolved_ns + to_unix, ts, sizeof(ts));
		json_object_set_new(j, "endsAt", json_string(ts));
	}
	if (generator_url && *generator_url)
		json_object_set_new(j, "generatorURL", json_string(generator_url));
	return j;
}
