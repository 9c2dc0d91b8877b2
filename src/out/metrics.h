/* metrics.h - renders the model as Prometheus text exposition 0.0.4. */
#ifndef KPULSE_METRICS_H
#define KPULSE_METRICS_H

#include <stdio.h>

struct kp_collector;
struct kp_loader;
struct kp_cgroups;

void kp_metrics_render(FILE *f, const struct kp_collector *c,
		       const struct kp_loader *l, const struct kp_cgroups *cg);

#endif
