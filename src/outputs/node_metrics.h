/* node_metrics.h - the host's node_exporter-compatible series
 * (kpulse_node_memory_*, load, stat, processes, disk, network, filesystem)
 * from the figures of the last tick. */
#ifndef KPULSE_NODE_METRICS_H
#define KPULSE_NODE_METRICS_H

#include <stdio.h>
#include "model/nodefigs.h"

/* Nothing before the first tick (@n NULL or never read). */
void kp_node_metrics_render(FILE *f, const struct kp_node_figs *n);

#endif
