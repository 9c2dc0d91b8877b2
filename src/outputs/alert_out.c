/* alert_out.c - what is made of the alert engine's alerts (see
 * alert_out.h): the /api/v1/alerts document, the kpulse_alerts series, one
 * log line per event and Alertmanager's postable alerts. */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "outputs/alert_out.h"
#include "outputs/prom.h"

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

json_t *kp_alerts__json(const struct kp_alerts *e, int64_t to_unix)
{
	json_t *list = json_array(), *rules = json_array();
	const struct kp_alert **v;
	unsigned int n = kp_alerts__list(e, &v), nr;
	const struct kp_rule *rl = kp_alerts__rules(e, &nr);

	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(list, kp_alert_json(v[i], to_unix));
	free(v);
	for (unsigned int i = 0; i < nr; i++) {
		const struct kp_rule *r = &rl[i];

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
			 "dropped_total", (json_int_t)kp_alerts__dropped(e));
}

void kp_alerts__prom(const struct kp_alerts *e, FILE *f)
{
	static const enum kp_alert_state shown[] = { KP_ALERT_PENDING, KP_ALERT_FIRING };
	struct kp_label l[4] = { { "alertname", NULL }, { "severity", NULL }, { "state", NULL },
				 { NULL, NULL } };
	unsigned int nr;
	const struct kp_rule *rl = kp_alerts__rules(e, &nr);

	kp_prom_family(f, "kpulse_alerts", "gauge",
		       "Alerts per rule in each state; an acknowledged alert still counts as firing.");
	for (unsigned int i = 0; i < nr; i++) {
		const struct kp_rule *r = &rl[i];

		for (size_t s = 0; s < sizeof(shown) / sizeof(shown[0]); s++) {
			unsigned int n = kp_alerts__count_rule(e, r->name, shown[s]);

			l[0].value = r->name;
			l[1].value = kp_severity_name(r->severity);
			l[2].value = kp_alert_state_name(shown[s]);
			kp_prom_sample_u64(f, "kpulse_alerts", l, n);
		}
	}
	kp_prom_family(f, "kpulse_alerts_dropped_total", "counter",
		       "Evaluations where an instance past its threshold was not tracked: max_alerts were already active.");
	kp_prom_sample_u64(f, "kpulse_alerts_dropped_total", NULL, kp_alerts__dropped(e));
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

void kp_alert_event_log(FILE *f, const struct kp_alert_event *ev, bool json,
			int64_t to_unix)
{
	const struct kp_alert *a = ev->alert;
	char ts[40], val[32];

	kp_rfc3339((int64_t)ev->now_ns + to_unix, ts, sizeof(ts));
	if (json) {
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

json_t *kp_alert_am_json(const struct kp_alert *a, const struct kp_label *extra,
			 const char *generator_url, int64_t to_unix)
{
	json_t *labels = json_pack("{s:s, s:s}", "alertname", a->rule,
				   "severity", kp_severity_name(a->severity));
	char ts[40], desc[256], v[48], t[48];
	json_t *j;

	for (unsigned int i = 0; i < a->n_labels; i++)
		json_object_set_new(labels, a->label_name[i], json_string(a->label_value[i]));
	for (const struct kp_label *x = extra; x && x->name; x++)
		if (!json_object_get(labels, x->name))
			json_object_set_new(labels, x->name, json_string(x->value));
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
