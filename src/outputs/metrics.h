/* metrics.h - renders the model as Prometheus series (text 0.0.4 or
 * OpenMetrics, see prom.h): per-container and node figures, kpulse's own
 * kernel cost and the process_* figures. A kp_metrics keeps each
 * container's label set escaped once, so a scrape of a thousand containers
 * costs formatting numbers, not escaping names. */
#ifndef KPULSE_METRICS_H
#define KPULSE_METRICS_H

#include <stdio.h>

struct kp_model;
struct kp_metrics;

struct kp_metrics *kp_metrics__new(void);
void kp_metrics__free(struct kp_metrics *mx);
/* Every family of @m into @f (process_* when the model has the process's
 * figures). Label sets of containers no longer in @m are forgotten. */
void kp_metrics__render(struct kp_metrics *mx, FILE *f, const struct kp_model *m);
/* The escaped label set of container @k, as kp_metrics__render writes it:
 * for other families of the same scrape (the health scores). */
struct kp_container;
const char *kp_metrics__labels(struct kp_metrics *mx, const struct kp_container *k);

#endif
