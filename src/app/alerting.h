/* alerting.h - the daemon's alerting: the alert engine fed from the model
 * after each collection, its log lines, and delivery to the configured
 * receivers. This is the glue; the state machine (alerts.h) and delivery
 * (notify.h) know nothing of the collector. */
#ifndef KPULSE_ALERTING_H
#define KPULSE_ALERTING_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "app/config.h"

struct kp_alerting;
struct kp_model;
struct kp_analysis;

/* @generator_url: where an alert links back to (this daemon's API). */
int kp_alerting__new(struct kp_alerting **out, const struct kp_config *cfg,
		     const char *generator_url, uint64_t now_ns);
void kp_alerting__free(struct kp_alerting *a);
/* Take rules, receivers, token, labels and log format from a reloaded
 * config; alerts of rules that stay keep their state. */
int kp_alerting__reconfigure(struct kp_alerting *a, const struct kp_config *cfg, uint64_t now_ns);
/* Evaluate every rule against the model as of @now_ns (after the
 * collection and the analysis of that tick). */
void kp_alerting__eval(struct kp_alerting *a, const struct kp_model *m,
		       const struct kp_analysis *an, uint64_t now_ns);

json_t *kp_alerting__json(const struct kp_alerting *a);
/* POST /api/v1/alerts/{id}/ack: an HTTP status and, on success, the alert
 * (else NULL with @msg set). @authorization is the header's value. */
unsigned int kp_alerting__ack(struct kp_alerting *a, const char *id, const char *authorization,
			      uint64_t now_ns, json_t **alert, const char **msg);
/* kpulse_alerts{...} and the delivery counters. */
void kp_alerting__prom(const struct kp_alerting *a, FILE *f);

#endif
