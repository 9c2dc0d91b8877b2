/* analysis.h - what the daemon derives from the model after each
 * collection: rates, sliding-window latency distributions, health scores
 * and a bounded history of a few figures per container and for the node.
 * Kept beside the collector's model, keyed by cgroup id, and pruned when the
 * collector drops a cgroup. */
#ifndef KPULSE_ANALYSIS_H
#define KPULSE_ANALYSIS_H

#include <stdint.h>
#include "health.h"

struct kp_collector;
struct kp_container;
struct kp_window;

#define KP_MAX_WINDOWS 4

enum kp_series {	/* figures kept in the history ring */
	KP_S_CPU_CORES = 0,
	KP_S_RUNQ_P99,
	KP_S_HEALTH,
	KP_S_MAX,
};
extern const char *const kp_series_names[KP_S_MAX];

struct kp_history {
	uint32_t cap, n, head;	/* head: next write */
	uint32_t *t;		/* seconds since the analysis started */
	float *v;
};

struct kp_astate {
	uint64_t cgid;
	uint64_t gen;
	struct kp_window *runq;
	uint64_t prev_ns, prev_cpu_ns, prev_nvcsw, prev_nivcsw;
	double cpu_cores, vcsw_rate, ivcsw_rate;
	struct kp_health health;
	struct kp_history hist[KP_S_MAX];
};

struct kp_analysis_opts {
	uint64_t windows_ns[KP_MAX_WINDOWS];	/* ascending; 0 ends the list */
	uint64_t history_ns;
	uint64_t interval_ns;
	struct kp_factor_cfg factors[KP_F_MAX];
};

struct kp_analysis;

void kp_analysis_opts_default(struct kp_analysis_opts *o, uint64_t interval_ns);
struct kp_analysis *kp_analysis__new(const struct kp_analysis_opts *o, uint64_t now_ns);
void kp_analysis__free(struct kp_analysis *a);
void kp_analysis__update(struct kp_analysis *a, const struct kp_collector *c,
			 uint64_t now_ns);
/* State of a cgroup (0 = the node); NULL when unknown. */
const struct kp_astate *kp_analysis__get(const struct kp_analysis *a, uint64_t cgid);
const struct kp_analysis_opts *kp_analysis__opts(const struct kp_analysis *a);
uint64_t kp_analysis__start_ns(const struct kp_analysis *a);

/* Dense histogram of the last @span_ns of a window into @out (zeroed here). */
uint64_t kp_analysis_window(const struct kp_window *w, uint64_t span_ns,
			    uint64_t now_ns, uint64_t *out);

#endif
