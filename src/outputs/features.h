/* features.h - the oldest Linux each kernel feature and tracepoint kpulse
 * uses appeared in, as `kpulse check`, /health and README state it. One
 * table, so the three cannot disagree. */
#ifndef KPULSE_FEATURES_H
#define KPULSE_FEATURES_H

/* "5.8" for a feature name (btf, tp_btf, bpf_stats, ...) or a tracepoint
 * program's label (sched_switch, sock_send_length, ...); NULL when
 * unknown. */
const char *kp_feature_since(const char *name);

#endif
