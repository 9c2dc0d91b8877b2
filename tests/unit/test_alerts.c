/* test_alerts.c - the alert state machine driven by an injected clock:
 * pending, firing, resolved; `for`; hysteresis at the threshold; vanished
 * instances; acknowledgement and its token; resends; bounds; rule reloads;
 * and the documents made from alerts (API JSON, /metrics, log lines,
 * Alertmanager objects). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "analysis/alerts.h"
#include "app/config.h"
#include "outputs/alert_out.h"

#define S 1000000000ull
#define MAX_INST 300

/* What the "collector" reports this round: instances per rule. */
struct inst {
	const char *rule;
	char name[64];
	char cgroup[64];
	double value;
	bool node;
};

static struct inst insts[MAX_INST];
static unsigned int n_insts;

struct ev {
	enum kp_alert_event_kind kind;
	enum kp_alert_state from, to;
	char id[17];
	char rule[64];
	bool delivers;
};

static struct ev evs[1024];
static unsigned int n_evs;

static void on_event(void *ctx, const struct kp_alert_event *e)
{
	(void)ctx;
	assert_true(n_evs < 1024);
	evs[n_evs] = (struct ev){ e->kind, e->from, e->to, "", "", kp_alert_event_delivers(e) };
	snprintf(evs[n_evs].id, sizeof(evs[n_evs].id), "%s", e->alert->id);
	snprintf(evs[n_evs].rule, sizeof(evs[n_evs].rule), "%s", e->alert->rule);
	n_evs++;
}

static void sample(void *ctx, const struct kp_rule *r, struct kp_alerts_sink *sink)
{
	(void)ctx;
	for (unsigned int i = 0; i < n_insts; i++) {
		struct kp_label l[4] = { { "container", insts[i].name },
					 { "cgroup", insts[i].cgroup },
					 { "runtime", "cgroup" }, { NULL, NULL } };

		if (strcmp(insts[i].rule, r->name))
			continue;
		kp_alerts_put(sink, insts[i].node ? NULL : l, insts[i].value);
	}
}

static void set(const char *rule, const char *name, double v)
{
	for (unsigned int i = 0; i < n_insts; i++)
		if (!strcmp(insts[i].rule, rule) && !strcmp(insts[i].name, name)) {
			insts[i].value = v;
			return;
		}
	assert_true(n_insts < MAX_INST);
	insts[n_insts].rule = rule;
	snprintf(insts[n_insts].name, sizeof(insts[n_insts].name), "%s", name);
	snprintf(insts[n_insts].cgroup, sizeof(insts[n_insts].cgroup), "/test/%s", name);
	insts[n_insts].value = v;
	insts[n_insts].node = !strcmp(name, "node");
	n_insts++;
}

static void drop(const char *rule, const char *name)
{
	for (unsigned int i = 0; i < n_insts; i++)
		if (!strcmp(insts[i].rule, rule) && !strcmp(insts[i].name, name)) {
			insts[i] = insts[--n_insts];
			return;
		}
}

static struct kp_rule mkrule(const char *name, double thr, double clear, uint64_t for_ns)
{
	struct kp_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.metric = KP_M_RUNQ_P99;
	r.scope = KP_SCOPE_CONTAINER;
	snprintf(r.match, sizeof(r.match), "*");
	r.op = KP_OP_ABOVE;
	r.threshold = thr;
	r.clear = clear;
	r.for_ns = for_ns;
	r.window_ns = 60 * S;
	r.severity = KP_SEV_WARNING;
	snprintf(r.summary, sizeof(r.summary), "%s summary", name);
	return r;
}

static struct kp_alerts *engine(const struct kp_rule *rules, unsigned int n, const char *token,
				unsigned int max)
{
	struct kp_alerts_opts o = { .max_active = max ? max : 1000, .resend_ns = 60 * S,
				    .admin_token = token };
	struct kp_alerts *e = kp_alerts__new(&o, on_event, NULL);

	assert_non_null(e);
	assert_int_equal(kp_alerts__set_rules(e, rules, n, 0), 0);
	return e;
}

static int setup(void **s)
{
	(void)s;
	n_insts = 0;
	n_evs = 0;
	return 0;
}

static void eval(struct kp_alerts *e, uint64_t t)
{
	kp_alerts__eval(e, t, sample, NULL);
}

/* The only alert of @rule on container @name, or NULL. */
static const struct kp_alert *alert_of(struct kp_alerts *e, const char *rule, const char *name)
{
	json_t *j = kp_alerts__json(e, 0), *a;
	const struct kp_alert *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(j, "alerts"), i, a) {
		const char *c = json_string_value(json_object_get(json_object_get(a, "labels"), "container"));
		const char *st = json_string_value(json_object_get(a, "state"));

		if (strcmp(json_string_value(json_object_get(a, "alertname")), rule) ||
		    strcmp(c ? c : "node", name) || !strcmp(st, "resolved"))
			continue;
		found = kp_alerts__find(e, json_string_value(json_object_get(a, "id")));
		break;
	}
	json_decref(j);
	return found;
}

static void expect_event(unsigned int i, enum kp_alert_event_kind kind, enum kp_alert_state from,
			 enum kp_alert_state to)
{
	assert_true(i < n_evs);
	assert_int_equal(evs[i].kind, kind);
	assert_int_equal(evs[i].from, from);
	assert_int_equal(evs[i].to, to);
}

static void test_pending_then_firing_after_for(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 0.050, 0.025, 60 * S);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);
	const struct kp_alert *a;

	(void)s;
	set("RunqHigh", "web", 0.010);
	eval(e, 0);
	assert_int_equal(n_evs, 0);
	set("RunqHigh", "web", 0.080);
	eval(e, 10 * S);
	assert_int_equal(n_evs, 1);
	expect_event(0, KP_AEV_STATE, KP_ALERT_INACTIVE, KP_ALERT_PENDING);
	assert_false(evs[0].delivers);		/* pending is never sent */
	a = alert_of(e, "RunqHigh", "web");
	assert_non_null(a);
	assert_int_equal(a->state, KP_ALERT_PENDING);
	assert_int_equal(strlen(a->id), 16);
	eval(e, 69 * S);			/* 59 s past threshold: not yet */
	assert_int_equal(n_evs, 1);
	eval(e, 70 * S);			/* 60 s: fires */
	assert_int_equal(n_evs, 2);
	expect_event(1, KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_FIRING);
	assert_true(evs[1].delivers);
	assert_string_equal(evs[1].id, evs[0].id);
	a = alert_of(e, "RunqHigh", "web");
	assert_int_equal(a->firing_ns, 70 * S);
	assert_int_equal(a->pending_ns, 10 * S);
	assert_true(a->value == 0.080);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	set("RunqHigh", "web", 0.020);		/* below clear */
	eval(e, 80 * S);
	assert_int_equal(n_evs, 3);
	expect_event(2, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	assert_true(evs[2].delivers);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 0);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_RESOLVED), 1);
	a = kp_alerts__find(e, evs[0].id);
	assert_non_null(a);
	assert_int_equal(a->state, KP_ALERT_RESOLVED);
	assert_int_equal(a->resolved_ns, 80 * S);
	kp_alerts__free(e);
}

static void test_for_zero_fires_at_once(void **s)
{
	struct kp_rule r = mkrule("Oom", 0, 0, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);

	(void)s;
	set("Oom", "db", 1);
	eval(e, 5 * S);
	assert_int_equal(n_evs, 1);
	expect_event(0, KP_AEV_STATE, KP_ALERT_INACTIVE, KP_ALERT_FIRING);
	assert_true(evs[0].delivers);
	set("Oom", "db", 0);			/* clear == threshold: at it clears */
	eval(e, 6 * S);
	expect_event(1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	kp_alerts__free(e);
}

static void test_hysteresis_no_flapping_at_threshold(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);
	uint64_t t = 0;

	(void)s;
	set("RunqHigh", "web", 51);
	eval(e, t += S);
	assert_int_equal(n_evs, 1);		/* firing */
	/* hovering around the threshold, and anywhere above clear: nothing */
	for (int i = 0; i < 100; i++) {
		set("RunqHigh", "web", i % 2 ? 49.9 : 50.1);
		eval(e, t += S);
		set("RunqHigh", "web", 25.01 + i % 20);
		eval(e, t += S);
	}
	assert_int_equal(n_evs, 1 + 3);		/* + resends each minute, nothing else */
	for (unsigned int i = 1; i < n_evs; i++)
		assert_int_equal(evs[i].kind, KP_AEV_RESEND);
	set("RunqHigh", "web", 25);		/* at clear: resolves */
	eval(e, t += S);
	expect_event(n_evs - 1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	/* back in the band: not past threshold, so no new alert */
	set("RunqHigh", "web", 40);
	eval(e, t += S);
	expect_event(n_evs - 1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	kp_alerts__free(e);
}

static void test_pending_holds_in_band_and_drops_below_clear(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 60 * S);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);

	(void)s;
	set("RunqHigh", "web", 60);
	eval(e, 0);
	expect_event(0, KP_AEV_STATE, KP_ALERT_INACTIVE, KP_ALERT_PENDING);
	set("RunqHigh", "web", 40);		/* in the band: still pending */
	eval(e, 30 * S);
	assert_int_equal(n_evs, 1);
	eval(e, 65 * S);			/* `for` is over, but not past threshold */
	assert_int_equal(n_evs, 1);
	set("RunqHigh", "web", 55);
	eval(e, 66 * S);			/* past threshold again: fires */
	expect_event(1, KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_FIRING);
	set("RunqHigh", "web", 10);
	eval(e, 67 * S);
	expect_event(2, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);

	/* pending that goes below clear is forgotten: no resolved entry */
	set("RunqHigh", "web", 60);
	eval(e, 100 * S);
	expect_event(3, KP_AEV_STATE, KP_ALERT_INACTIVE, KP_ALERT_PENDING);
	set("RunqHigh", "web", 20);
	eval(e, 110 * S);
	expect_event(4, KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_INACTIVE);
	assert_false(evs[4].delivers);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_RESOLVED), 1);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_PENDING), 0);
	/* and a new excursion starts its `for` from scratch */
	set("RunqHigh", "web", 60);
	eval(e, 120 * S);
	eval(e, 179 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 0);
	eval(e, 180 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	kp_alerts__free(e);
}

static void test_below_rule(void **s)
{
	struct kp_rule r = mkrule("HealthLow", 50, 70, 10 * S);
	struct kp_alerts *e;

	(void)s;
	r.op = KP_OP_BELOW;
	r.metric = KP_M_HEALTH_SCORE;
	r.scope = KP_SCOPE_NODE;
	r.match[0] = 0;
	e = engine(&r, 1, NULL, 0);
	set("HealthLow", "node", 60);
	eval(e, 0);
	assert_int_equal(n_evs, 0);
	set("HealthLow", "node", 40);
	eval(e, S);
	eval(e, 11 * S);
	expect_event(1, KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_FIRING);
	assert_int_equal(alert_of(e, "HealthLow", "node")->n_labels, 0);
	set("HealthLow", "node", 69);
	eval(e, 12 * S);
	assert_int_equal(n_evs, 2);
	set("HealthLow", "node", 70);
	eval(e, 13 * S);
	expect_event(2, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	kp_alerts__free(e);
}

static void test_vanished_and_unknown(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 10 * S);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);

	(void)s;
	set("RunqHigh", "a", 60);
	set("RunqHigh", "b", 60);
	eval(e, 0);
	eval(e, 10 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 2);
	set("RunqHigh", "a", NAN);		/* unknown: holds */
	eval(e, 11 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 2);
	assert_true(alert_of(e, "RunqHigh", "a")->value == 60);
	drop("RunqHigh", "b");			/* container gone: resolves */
	eval(e, 12 * S);
	expect_event(n_evs - 1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	set("RunqHigh", "c", 60);
	eval(e, 13 * S);
	drop("RunqHigh", "c");			/* pending and gone: dropped */
	eval(e, 14 * S);
	expect_event(n_evs - 1, KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_INACTIVE);
	kp_alerts__free(e);
}

static void test_match_glob(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_label web[] = { { "container", "web-1" }, { "cgroup", "/k/web-1" }, { NULL, NULL } };
	struct kp_label db[] = { { "container", "db" }, { "container_id", "abc123" },
				 { "cgroup", "/k/db" }, { NULL, NULL } };
	struct kp_alerts *e;

	(void)s;
	assert_true(kp_alerts_match("web*", web));
	assert_false(kp_alerts_match("web*", db));
	assert_true(kp_alerts_match("abc*", db));
	assert_true(kp_alerts_match("/k/*", db));
	assert_true(kp_alerts_match("k/*", db));	/* cgroup without its leading / */
	assert_true(kp_alerts_match("*", db));
	assert_true(kp_alerts_match("", db));
	assert_false(kp_alerts_match("runtime*", db));	/* only the identity labels */
	snprintf(r.match, sizeof(r.match), "web*");
	e = engine(&r, 1, NULL, 0);
	set("RunqHigh", "web-1", 60);
	set("RunqHigh", "db", 60);
	eval(e, S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	assert_non_null(alert_of(e, "RunqHigh", "web-1"));
	kp_alerts__free(e);
}

static void test_stable_ids(void **s)
{
	struct kp_rule r[2] = { mkrule("A", 50, 25, 0), mkrule("B", 50, 25, 0) };
	struct kp_alerts *e = engine(r, 2, NULL, 0);
	char first[17];

	(void)s;
	set("A", "web", 60);
	set("B", "web", 60);
	set("A", "db", 60);
	eval(e, S);
	assert_int_equal(n_evs, 3);
	assert_string_not_equal(evs[0].id, evs[1].id);
	assert_string_not_equal(evs[0].id, evs[2].id);
	assert_string_not_equal(evs[1].id, evs[2].id);
	snprintf(first, sizeof(first), "%s", alert_of(e, "A", "web")->id);
	set("A", "web", 0);
	eval(e, 2 * S);
	set("A", "web", 60);
	eval(e, 3 * S);
	assert_string_equal(alert_of(e, "A", "web")->id, first);	/* same again */
	kp_alerts__free(e);
}

static void test_ack_and_token(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 10 * S);
	struct kp_alerts *e = engine(&r, 1, "s3cret-token", 0);
	const struct kp_alert *a;
	char id[17];
	unsigned int before;

	(void)s;
	set("RunqHigh", "web", 60);
	eval(e, 0);
	a = alert_of(e, "RunqHigh", "web");
	snprintf(id, sizeof(id), "%s", a->id);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-token", S), -EBUSY);	/* pending */
	eval(e, 10 * S);
	assert_int_equal(a->state, KP_ALERT_FIRING);
	before = n_evs;
	assert_int_equal(kp_alerts__ack(e, id, NULL, 11 * S), -EACCES);
	assert_int_equal(kp_alerts__ack(e, id, "", 11 * S), -EACCES);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-tokeN", 11 * S), -EPERM);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-token-and-more", 11 * S), -EPERM);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret", 11 * S), -EPERM);
	assert_false(a->acked);			/* nothing changed */
	assert_int_equal(n_evs, before);
	/* the token is checked before the id, so ids cannot be probed */
	assert_int_equal(kp_alerts__ack(e, "0000000000000000", "wrong", 11 * S), -EPERM);
	assert_int_equal(kp_alerts__ack(e, "0000000000000000", "s3cret-token", 11 * S), -ENOENT);
	assert_int_equal(kp_alerts__ack(e, "xyz", "s3cret-token", 11 * S), -ENOENT);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-token", 12 * S), 0);
	assert_true(a->acked);
	assert_int_equal(a->acked_ns, 12 * S);
	expect_event(n_evs - 1, KP_AEV_ACK, KP_ALERT_FIRING, KP_ALERT_FIRING);
	assert_false(evs[n_evs - 1].delivers);
	before = n_evs;
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-token", 13 * S), 0);	/* idempotent */
	assert_int_equal(n_evs, before);
	assert_int_equal(a->acked_ns, 12 * S);

	/* acknowledged: still listed, still firing, but never re-sent */
	eval(e, 300 * S);
	assert_int_equal(n_evs, before);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	/* and its resolution is sent */
	set("RunqHigh", "web", 0);
	eval(e, 301 * S);
	expect_event(n_evs - 1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	assert_true(evs[n_evs - 1].delivers);
	assert_true(kp_alerts__find(e, id)->acked);
	assert_int_equal(kp_alerts__ack(e, id, "s3cret-token", 302 * S), -EBUSY);	/* resolved */
	/* a new excursion is a new alert, not acknowledged */
	set("RunqHigh", "web", 60);
	eval(e, 400 * S);
	eval(e, 410 * S);
	assert_false(alert_of(e, "RunqHigh", "web")->acked);
	kp_alerts__free(e);
}

/* Safe by default: without an admin token acks are off, whatever is sent. */
static void test_ack_without_token_configured(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts *e = engine(&r, 1, "", 0);
	const char *id;

	(void)s;
	set("RunqHigh", "web", 60);
	eval(e, 0);
	id = alert_of(e, "RunqHigh", "web")->id;
	assert_int_equal(kp_alerts__ack(e, id, NULL, S), -ENOKEY);
	assert_int_equal(kp_alerts__ack(e, id, "", S), -ENOKEY);
	assert_int_equal(kp_alerts__ack(e, id, "anything-at-all", S), -ENOKEY);
	assert_false(alert_of(e, "RunqHigh", "web")->acked);
	kp_alerts__free(e);
}

/* Configured open on purpose (acks_open: on): no token needed. */
static void test_ack_open(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts_opts o = { .max_active = 10, .open = true };
	struct kp_alerts *e = kp_alerts__new(&o, on_event, NULL);

	(void)s;
	assert_int_equal(kp_alerts__set_rules(e, &r, 1, 0), 0);
	set("RunqHigh", "web", 60);
	eval(e, 0);
	assert_int_equal(kp_alerts__ack(e, alert_of(e, "RunqHigh", "web")->id, NULL, S), 0);
	assert_true(alert_of(e, "RunqHigh", "web")->acked);
	kp_alerts__free(e);
}

/* The same rule and labels give the same id on one host (one seed) and
 * another id on another host. */
static void test_ids_depend_on_host(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts_opts o = { .max_active = 10, .id_seed = 0x1234 };
	struct kp_alerts *a = kp_alerts__new(&o, on_event, NULL), *b, *c;
	char ida[17];

	(void)s;
	o.id_seed = 0x5678;
	b = kp_alerts__new(&o, on_event, NULL);
	o.id_seed = 0x1234;
	c = kp_alerts__new(&o, on_event, NULL);
	assert_int_equal(kp_alerts__set_rules(a, &r, 1, 0), 0);
	assert_int_equal(kp_alerts__set_rules(b, &r, 1, 0), 0);
	assert_int_equal(kp_alerts__set_rules(c, &r, 1, 0), 0);
	set("RunqHigh", "web", 60);
	eval(a, 0);
	eval(b, 0);
	eval(c, 0);
	snprintf(ida, sizeof(ida), "%s", alert_of(a, "RunqHigh", "web")->id);
	assert_string_not_equal(ida, alert_of(b, "RunqHigh", "web")->id);
	assert_string_equal(ida, alert_of(c, "RunqHigh", "web")->id);
	kp_alerts__free(a);
	kp_alerts__free(b);
	kp_alerts__free(c);
}

static void test_resend_interval(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);
	unsigned int resends = 0;

	(void)s;
	set("RunqHigh", "web", 60);
	for (uint64_t t = 0; t <= 300; t += 2)
		eval(e, t * S);
	for (unsigned int i = 0; i < n_evs; i++)
		if (evs[i].kind == KP_AEV_RESEND) {
			resends++;
			assert_true(evs[i].delivers);
		}
	assert_int_equal(resends, 5);		/* at 60, 120, 180, 240, 300 s */
	kp_alerts__free(e);
}

static void test_bounds(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 50, 25, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 10);
	char name[32];

	(void)s;
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		set("RunqHigh", name, 60);
	}
	eval(e, S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 10);
	assert_int_equal(kp_alerts__dropped(e), 5);
	/* the resolved list keeps the newest KP_ALERTS_RESOLVED_KEPT */
	kp_alerts__free(e);
	e = engine(&r, 1, NULL, 1000);
	n_insts = 0;
	for (int i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		set("RunqHigh", name, 60);
	}
	eval(e, S);
	for (unsigned int i = 0; i < n_insts; i++)
		insts[i].value = 0;
	eval(e, 2 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_RESOLVED), KP_ALERTS_RESOLVED_KEPT);
	{
		json_t *j = kp_alerts__json(e, 0);

		assert_int_equal(json_array_size(json_object_get(j, "alerts")), KP_ALERTS_RESOLVED_KEPT);
		json_decref(j);
	}
	kp_alerts__free(e);
}

static void test_rule_reload(void **s)
{
	struct kp_rule r[2] = { mkrule("A", 50, 25, 0), mkrule("B", 50, 25, 0) };
	struct kp_alerts *e = engine(r, 2, NULL, 0);

	(void)s;
	set("A", "web", 60);
	set("B", "web", 60);
	eval(e, S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 2);
	n_evs = 0;
	r[0].threshold = 100;	/* A stays (tighter now), B goes */
	r[0].clear = 70;
	assert_int_equal(kp_alerts__set_rules(e, r, 1, 2 * S), 0);
	assert_int_equal(n_evs, 1);
	expect_event(0, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	assert_string_equal(evs[0].rule, "B");
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 1);
	assert_true(alert_of(e, "A", "web")->threshold == 100);
	eval(e, 3 * S);				/* 60 <= new clear 70: resolves */
	expect_event(1, KP_AEV_STATE, KP_ALERT_FIRING, KP_ALERT_RESOLVED);
	assert_int_equal(kp_alerts__set_rules(e, NULL, 0, 4 * S), 0);
	eval(e, 5 * S);
	assert_int_equal(kp_alerts__count(e, KP_ALERT_FIRING), 0);
	kp_alerts__free(e);
	kp_alerts__free(NULL);
}

static char *render_prom(struct kp_alerts *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_alerts__prom(e, f);
	fclose(f);
	return buf;
}

static void test_prom_json_log_am(void **s)
{
	struct kp_rule r[2] = { mkrule("RunqHigh", 0.05, 0.025, 10 * S), mkrule("Other", 1, 1, 0) };
	struct kp_alerts *e;
	char *text;
	json_t *j, *al;

	(void)s;
	r[1].severity = KP_SEV_CRITICAL;
	e = engine(r, 2, NULL, 0);
	set("RunqHigh", "web \"1\"", 0.08);
	set("RunqHigh", "db", 0.08);
	eval(e, 100 * S);
	eval(e, 110 * S);
	set("RunqHigh", "web \"1\"", 0.01);
	set("RunqHigh", "db", 0.04);
	eval(e, 120 * S);

	text = render_prom(e);
	assert_non_null(strstr(text, "# TYPE kpulse_alerts gauge\n"));
	assert_non_null(strstr(text, "kpulse_alerts{alertname=\"RunqHigh\",severity=\"warning\",state=\"pending\"} 0\n"));
	assert_non_null(strstr(text, "kpulse_alerts{alertname=\"RunqHigh\",severity=\"warning\",state=\"firing\"} 1\n"));
	assert_non_null(strstr(text, "kpulse_alerts{alertname=\"Other\",severity=\"critical\",state=\"firing\"} 0\n"));
	assert_non_null(strstr(text, "kpulse_alerts_dropped_total 0\n"));
	free(text);

	/* API document: firing first, then the resolved one, with wall times */
	j = kp_alerts__json(e, 1000 * (int64_t)S);
	al = json_object_get(j, "alerts");
	assert_int_equal(json_array_size(al), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(al, 0), "state")), "firing");
	assert_string_equal(json_string_value(json_object_get(json_array_get(al, 1), "state")), "resolved");
	assert_true(json_real_value(json_object_get(json_array_get(al, 0), "firing_since")) == 1110.0);
	assert_true(json_real_value(json_object_get(json_array_get(al, 1), "resolved_at")) == 1120.0);
	assert_true(json_is_null(json_object_get(json_array_get(al, 0), "resolved_at")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(al, 1), "labels"),
							      "container")), "web \"1\"");
	assert_false(json_is_true(json_object_get(json_array_get(al, 0), "acknowledged")));
	assert_int_equal(json_array_size(json_object_get(j, "rules")), 2);
	assert_true(json_real_value(json_object_get(json_array_get(json_object_get(j, "rules"), 0),
						    "for_seconds")) == 10.0);
	json_decref(j);

	kp_alerts__free(e);
}

static void test_log_lines(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 0.05, 0.025, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);
	const struct kp_alert *a;
	struct kp_alert_event ev;
	char *buf = NULL, want[512];
	size_t len = 0;
	FILE *f;
	json_t *j;

	(void)s;
	set("RunqHigh", "web \"1\"", 0.08);
	eval(e, 10 * S);
	a = alert_of(e, "RunqHigh", "web \"1\"");
	ev = (struct kp_alert_event){ KP_AEV_STATE, KP_ALERT_PENDING, KP_ALERT_FIRING, a, 10 * S };
	f = open_memstream(&buf, &len);
	kp_alert_event_log(f, &ev, KP_LOG_TEXT, 1700000000 * (int64_t)S);
	fclose(f);
	snprintf(want, sizeof(want), "kpulse: alert event=state_change alertname=RunqHigh id=%s "
		 "from=pending state=firing severity=warning value=0.08 threshold=0.05 clear=0.025 "
		 "container=\"web \\\"1\\\"\" cgroup=\"/test/web \\\"1\\\"\" runtime=cgroup "
		 "time=2023-11-14T22:13:30.000Z\n", a->id);
	assert_string_equal(buf, want);
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);	/* one line */
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	kp_alert_event_log(f, &ev, KP_LOG_JSON, 1700000000 * (int64_t)S);
	fclose(f);
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "event")), "state_change");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "firing");
	assert_string_equal(json_string_value(json_object_get(j, "from")), "pending");
	assert_string_equal(json_string_value(json_object_get(j, "alertname")), "RunqHigh");
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2023-11-14T22:13:30.000Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "labels"), "container")),
			    "web \"1\"");
	json_decref(j);
	free(buf);
	kp_alerts__free(e);
}

static void test_alertmanager_object(void **s)
{
	struct kp_rule r = mkrule("RunqHigh", 0.05, 0.025, 0);
	struct kp_alerts *e = engine(&r, 1, NULL, 0);
	struct kp_label extra[3] = { { "cluster", "prod" }, { "container", "not-this" }, { NULL, NULL } };
	const struct kp_alert *a;
	char id[17];
	json_t *j, *l;

	(void)s;
	set("RunqHigh", "web", 0.08);
	eval(e, 10 * S);
	a = alert_of(e, "RunqHigh", "web");
	snprintf(id, sizeof(id), "%s", a->id);
	j = kp_alert_am_json(a, extra, "http://host:9477/api/v1/alerts", 1700000000 * (int64_t)S);
	l = json_object_get(j, "labels");
	assert_string_equal(json_string_value(json_object_get(l, "alertname")), "RunqHigh");
	assert_string_equal(json_string_value(json_object_get(l, "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(l, "container")), "web");	/* instance wins */
	assert_string_equal(json_string_value(json_object_get(l, "cgroup")), "/test/web");
	assert_string_equal(json_string_value(json_object_get(l, "cluster")), "prod");
	assert_string_equal(json_string_value(json_object_get(j, "startsAt")), "2023-11-14T22:13:30.000Z");
	assert_null(json_object_get(j, "endsAt"));
	assert_string_equal(json_string_value(json_object_get(j, "generatorURL")),
			    "http://host:9477/api/v1/alerts");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "annotations"), "kpulse_id")), id);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "annotations"), "summary")),
			    "RunqHigh summary");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "annotations"),
								  "description")), "80 ms"));
	json_decref(j);
	set("RunqHigh", "web", 0.01);
	eval(e, 15 * S);
	a = kp_alerts__find(e, id);
	j = kp_alert_am_json(a, NULL, NULL, 1700000000 * (int64_t)S);
	assert_string_equal(json_string_value(json_object_get(j, "endsAt")), "2023-11-14T22:13:35.000Z");
	assert_string_equal(json_string_value(json_object_get(j, "startsAt")), "2023-11-14T22:13:30.000Z");
	assert_null(json_object_get(j, "generatorURL"));
	json_decref(j);
	kp_alerts__free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_pending_then_firing_after_for, setup),
		cmocka_unit_test_setup(test_for_zero_fires_at_once, setup),
		cmocka_unit_test_setup(test_hysteresis_no_flapping_at_threshold, setup),
		cmocka_unit_test_setup(test_pending_holds_in_band_and_drops_below_clear, setup),
		cmocka_unit_test_setup(test_below_rule, setup),
		cmocka_unit_test_setup(test_vanished_and_unknown, setup),
		cmocka_unit_test_setup(test_match_glob, setup),
		cmocka_unit_test_setup(test_stable_ids, setup),
		cmocka_unit_test_setup(test_ack_and_token, setup),
		cmocka_unit_test_setup(test_ack_without_token_configured, setup),
		cmocka_unit_test_setup(test_ack_open, setup),
		cmocka_unit_test_setup(test_ids_depend_on_host, setup),
		cmocka_unit_test_setup(test_resend_interval, setup),
		cmocka_unit_test_setup(test_bounds, setup),
		cmocka_unit_test_setup(test_rule_reload, setup),
		cmocka_unit_test_setup(test_prom_json_log_am, setup),
		cmocka_unit_test_setup(test_log_lines, setup),
		cmocka_unit_test_setup(test_alertmanager_object, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
