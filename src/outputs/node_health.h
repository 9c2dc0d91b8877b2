/* node_health.h - the node series' part of /health (health_doc.c): a
 * bound that left entries out or a host file that cannot be read makes
 * kpulse `degraded`, with the series that shows it; mounts whose statfs
 * hangs are a note (the host's trouble, shown as device_error 1); and a
 * "node" object with the figures themselves. */
#ifndef KPULSE_NODE_HEALTH_H
#define KPULSE_NODE_HEALTH_H

#include <jansson.h>
#include "model/nodefigs.h"

/* {"reason", "series"} objects into @probs, strings into @notes. */
void kp_node_health_reasons(const struct kp_node_figs *n, json_t *probs, json_t *notes);

/* {"left_out": {...}, "read_errors": {...}, "mounts_stuck": N,
 *  "statfs_stale_ticks": N}; JSON null before the first tick. */
json_t *kp_node_health_json(const struct kp_node_figs *n);

#endif
