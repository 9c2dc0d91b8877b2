/* alerts.h - the alert rule state machine (what is made of its alerts for
 * people and receivers is out/alert_out.h). Pure: time is a parameter (one monotonic
 * clock; an offset turns it into wall time for output), values come from
 * the caller, nothing here reads a clock, a file or a socket.
 *
 * An alert is one rule applied to one instance of its scope: the node, or
 * one container matching the rule's glob. Its id is stable (a hash of the
 * host's id seed, the rule name and the instance labels), so the same
 * container crossing the same rule again gets the same id, and another
 * host's ids cannot be guessed from the rule and labels alone.
 *
 *   inactive --value past threshold--> pending --still past clear after
 *   `for`, and past threshold--> firing --value back past clear--> resolved
 *
 * Between the clear level and the threshold nothing changes (hysteresis),
 * in either direction: a value hovering at the threshold cannot flap. A
 * pending alert whose value goes back past clear is dropped (it never
 * fired; nothing was sent). An instance that disappears (a container gone)
 * resolves its firing alert. An unknown value (NaN) holds the state.
 */
#ifndef KPULSE_ALERTS_H
#define KPULSE_ALERTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <uthash.h>
#include "analysis/alert_rules.h"
#include "model/label.h"

#define KP_ALERT_MAX_LABELS 8
#define KP_ALERTS_RESOLVED_KEPT 100

enum kp_alert_state {
	KP_ALERT_INACTIVE = 0,
	KP_ALERT_PENDING,
	KP_ALERT_FIRING,
	KP_ALERT_RESOLVED,
};
const char *kp_alert_state_name(enum kp_alert_state s);

struct kp_alert {
	uint64_t key;			/* hash of rule name + labels */
	char id[17];			/* key in hex: the API's id */
	char rule[KP_CFG_NAME_MAX];
	enum kp_metric metric;
	enum kp_severity severity;
	enum kp_op op;
	double threshold, clear;
	char summary[KP_CFG_TEXT_MAX];
	enum kp_alert_state state;
	bool acked;
	double value;			/* last known value */
	unsigned int n_labels;		/* instance labels, in the caller's order */
	char *label_name[KP_ALERT_MAX_LABELS];
	char *label_value[KP_ALERT_MAX_LABELS];
	uint64_t pending_ns;		/* first past threshold */
	uint64_t firing_ns;		/* 0 until firing */
	uint64_t resolved_ns;		/* 0 until resolved */
	uint64_t acked_ns;
	uint64_t sent_ns;		/* last handed to the receivers */
	uint64_t seen_gen;
	UT_hash_handle hh;
};

enum kp_alert_event_kind {
	KP_AEV_STATE,		/* from -> to: log it; deliver firing/resolved */
	KP_AEV_RESEND,		/* still firing, not acknowledged: deliver again */
	KP_AEV_ACK,		/* acknowledged through the API: log it */
};

struct kp_alert_event {
	enum kp_alert_event_kind kind;
	enum kp_alert_state from, to;
	const struct kp_alert *alert;	/* valid during the callback only */
	uint64_t now_ns;
};

/* Should this event go to the receivers? (firing, resolved after firing,
 * resends; never pending) */
bool kp_alert_event_delivers(const struct kp_alert_event *ev);

typedef void (*kp_alerts_event_fn)(void *ctx, const struct kp_alert_event *ev);

struct kp_alerts_opts {
	unsigned int max_active;	/* more alerts are dropped, and counted */
	uint64_t resend_ns;		/* 0: never resend */
	const char *admin_token;	/* NULL or "": acks are refused... */
	bool open;			/* ...unless this is set: then anyone may ack */
	uint64_t id_seed;		/* the host's identity; taken at _new only */
};

struct kp_alerts;

struct kp_alerts *kp_alerts__new(const struct kp_alerts_opts *o, kp_alerts_event_fn fn,
				 void *ctx);
void kp_alerts__free(struct kp_alerts *e);
/* Options may change at run time (a reloaded config). */
void kp_alerts__set_opts(struct kp_alerts *e, const struct kp_alerts_opts *o);
/* Replace the rules (copied). Alerts of a rule that is gone resolve (or,
 * pending, are dropped); alerts of a rule that stays keep their state and
 * take its new threshold, clear level and `for`. Returns 0 or -ENOMEM. */
int kp_alerts__set_rules(struct kp_alerts *e, const struct kp_rule *rules, unsigned int n,
			 uint64_t now_ns);

/* Evaluation. For each rule, @sample is called once and reports, through
 * kp_alerts_put, the current value of every instance of the rule's scope:
 * the node once (labels NULL or empty), or every container it knows
 * (labels like container=..., container_id=..., cgroup=...; only those
 * whose container, container_id or cgroup label matches the rule's glob
 * are taken). Labels are a kp_label list ended by a NULL name. */
struct kp_alerts_sink;
typedef void (*kp_alerts_sample_fn)(void *ctx, const struct kp_rule *rule,
				    struct kp_alerts_sink *sink);
void kp_alerts_put(struct kp_alerts_sink *sink, const struct kp_label *labels, double value);
void kp_alerts__eval(struct kp_alerts *e, uint64_t now_ns, kp_alerts_sample_fn sample,
		     void *ctx);

/* Does the container that @labels name match @pattern? The one rule of
 * kp_match (model.h) on its container, container_id and cgroup labels. */
bool kp_alerts_match(const char *pattern, const struct kp_label *labels);

/* Acknowledge alert @id. 0 on success (also when already acknowledged);
 * -ENOKEY when no admin token is configured (acks are off) and the
 * engine is not open;
 * -EACCES: a token is configured and @token is NULL or empty (401);
 * -EPERM: wrong token (403); -ENOENT: no such alert (404); -EBUSY: the
 * alert is pending or resolved, nothing to acknowledge (409). On any error
 * nothing changes. */
int kp_alerts__ack(struct kp_alerts *e, const char *id, const char *token, uint64_t now_ns);

/* Active alerts and the recently resolved ones, for reading. */
unsigned int kp_alerts__count(const struct kp_alerts *e, enum kp_alert_state s);
const struct kp_alert *kp_alerts__find(const struct kp_alerts *e, const char *id);
uint64_t kp_alerts__dropped(const struct kp_alerts *e);

/* Every alert: the active ones, firing first then pending, oldest first
 * within each, then the resolved ones, newest first. *@out is malloc'd
 * (the caller frees it; NULL and 0 when out of memory). */
unsigned int kp_alerts__list(const struct kp_alerts *e, const struct kp_alert ***out);
const struct kp_rule *kp_alerts__rules(const struct kp_alerts *e, unsigned int *n);
/* Active alerts of rule @rule in state @s. */
unsigned int kp_alerts__count_rule(const struct kp_alerts *e, const char *rule,
				   enum kp_alert_state s);

#endif
