/* alert_out.h - the alert engine's alerts for people and receivers. */
#ifndef KPULSE_ALERT_OUT_H
#define KPULSE_ALERT_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "analysis/alerts.h"

/* GET /api/v1/alerts: {"alerts": [firing, pending, then resolved, newest
 * first], "rules": [...], "dropped_total": n}. Times are unix seconds:
 * @to_unix_ns is added to the engine's clock. */
json_t *kp_alerts__json(const struct kp_alerts *e, int64_t to_unix_ns);
/* One alert as listed there. */
json_t *kp_alert_json(const struct kp_alert *a, int64_t to_unix_ns);
/* kpulse_alerts{alertname,severity,state} for every rule and the states
 * pending and firing (an acknowledged alert still fires), and
 * kpulse_alerts_dropped_total. */
void kp_alerts__prom(const struct kp_alerts *e, FILE *f);

/* One structured line per event: logfmt after "kpulse: ", or with @json one
 * JSON object, then a newline. */
void kp_alert_event_log(FILE *f, const struct kp_alert_event *ev, bool json,
			int64_t to_unix_ns);

/* Alertmanager v2 postable alert: labels (alertname, severity, the
 * instance's, then @extra, a list ended by a NULL name, or NULL),
 * annotations (summary, description, kpulse_id), startsAt, endsAt when
 * resolved, generatorURL. */
json_t *kp_alert_am_json(const struct kp_alert *a, const struct kp_label *extra,
			 const char *generator_url, int64_t to_unix_ns);

/* RFC 3339 UTC with milliseconds, "2024-05-01T12:00:00.000Z". */
void kp_rfc3339(int64_t unix_ns, char *buf, size_t len);

#endif
