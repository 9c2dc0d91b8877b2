/* health_prom.h - the health scores on /metrics. */
#ifndef KPULSE_HEALTH_PROM_H
#define KPULSE_HEALTH_PROM_H

#include <stdio.h>

struct kp_analysis;
struct kp_metrics;
struct kp_model;

/* kpulse_container_health_score per shown container the analysis has
 * scored, and kpulse_node_health_score; after kp_metrics__render of the
 * same scrape (its label sets are reused). */
void kp_health_prom(FILE *f, struct kp_metrics *mx, const struct kp_model *m,
		    const struct kp_analysis *an);

#endif
