/* analysis.h - what the daemon derives from the model after each
 * collection: rates, sliding-window latency distributions, health scores
 * and a bounded history of a few figures per container and for the node.
 * Kept beside the collector's model, keyed by cgroup id, and pruned when the
 * collector drops a cgroup. */
#ifndef KPULSE_ANALYSIS_H
#define KPULSE_ANALYSIS_H

#include <stdint.h>
#include "analysis/health.h"
#include "analysis/history.h"

struct kp_model;
struct kp_window;
struct kp_throttle;
struct kp_heatmap;
struct kp_portwin;
struct kp_netrates;

#define KP_MAX_WINDOWS 4

enum kp_series {	/* figures kept in the history ring */
	KP_S_CPU_CORES = 0,
	KP_S_RUNQ_P99,
	KP_S_HEALTH,
	KP_S_MEM_USAGE,		/* bytes */
	KP_S_OOM_KILLS,		/* cumulative: differences give kills in a window */
	KP_S_RECLAIM_SECONDS,	/* cumulative */
	KP_S_RETRANSMITS,	/* cumulative */
	KP_S_TX_SEGMENTS,	/* cumulative bytes sent / 1448, a segment estimate */
	/* for the dashboard's charts; a ring is made at its first point */
	KP_S_RUNQ_P50,
	KP_S_MEM_LIMIT,		/* bytes, while there is a limit */
	KP_S_PSI_CPU,		/* % some avg10 */
	KP_S_PSI_MEM,
	KP_S_PSI_IO,
	KP_S_RTT_P50,		/* seconds, over the shortest window */
	KP_S_RTT_P99,
	KP_S_REQ_IN_P50,	/* every port */
	KP_S_REQ_IN_P99,
	KP_S_REQ_OUT_P50,
	KP_S_REQ_OUT_P99,
	KP_S_RX_RATE,		/* bytes per second */
	KP_S_TX_RATE,
	KP_S_CPU_LIMIT,		/* cores, while there is a limit */
	KP_S_THROTTLED_PCT,	/* % of periods throttled over the first window */
	KP_S_MEM_WORKING_SET,	/* bytes, from memory.stat */
	KP_S_MAX,
};

/* Latency distributions kept over sliding windows. */
enum kp_lat_kind {
	KP_L_RUNQ = 0,
	KP_L_RECLAIM,
	KP_L_RTT,
	KP_L_CONNECT,
	KP_L_REQ_IN,
	KP_L_REQ_OUT,
	KP_L_MAX,
};
extern const char *const kp_lat_names[KP_L_MAX];
extern const char *const kp_series_names[KP_S_MAX];

struct kp_astate {
	uint64_t cgid;
	uint64_t gen;
	/* made when the cgroup first has that kind of event (NULL before) */
	struct kp_window *lat[KP_L_MAX];
	uint64_t prev_ns, prev_cpu_ns, prev_nvcsw, prev_nivcsw;
	double cpu_cores, vcsw_rate, ivcsw_rate;
	uint64_t prev_rx, prev_tx;
	double rx_rate, tx_rate;	/* bytes per second */
	double oom_kills_window;	/* in the longest window */
	/* CFS periods throttled by the CPU limit: made when the container has
	 * a limit or periods; the % over the first window, NAN before */
	struct kp_throttle *thr;
	double throttled_pct;
	/* p50 and p99 (seconds) of each kind over the first window, as of the
	 * update at win_ns; NAN without events in it */
	double win_p50[KP_L_MAX], win_p99[KP_L_MAX];
	uint64_t win_ns;
	struct kp_health health;
	struct kp_timeline ticks;	/* seconds since the analysis started */
	struct kp_history hist[KP_S_MAX];	/* on ticks (history.h) */
	struct kp_heatmap *runq_map;	/* made at the first run-queue event */
	struct kp_portwin *ports;	/* request latency by port, windowed */
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
/* After each collection: rates, windows, health and history from the
 * model as of @now_ns; states of containers no longer in it are dropped. */
void kp_analysis__update(struct kp_analysis *a, const struct kp_model *m, uint64_t now_ns);
/* Between ticks: only the latency windows, with what the model has now,
 * so a JSON answer holds everything read up to it (rates, health and
 * history move at ticks only). */
void kp_analysis__feed_windows(struct kp_analysis *a, const struct kp_model *m, uint64_t now_ns);

/* State of a cgroup (0 = the node); NULL when unknown. */
const struct kp_astate *kp_analysis__get(const struct kp_analysis *a, uint64_t cgid);
const struct kp_analysis_opts *kp_analysis__opts(const struct kp_analysis *a);
uint64_t kp_analysis__start_ns(const struct kp_analysis *a);
/* Rates of the node's network interfaces as of the last tick. */
const struct kp_netrates *kp_analysis__netrates(const struct kp_analysis *a);

/* Change of a cumulative series over the last @span_ns (0 when unknown). */
double kp_history_delta(const struct kp_timeline *tl, const struct kp_history *h,
			uint64_t span_ns);

/* % of CFS periods throttled over the last @span_ns; NAN when the
 * container has no CPU limit (nothing to throttle) or one read so far. */
double kp_analysis_throttled_pct(const struct kp_astate *s, uint64_t span_ns,
				 uint64_t now_ns);

/* p99 (seconds) of latency @kind over the last @span_ns as of @now_ns, 0
 * when nothing happened in it; over the first window at an update's own
 * time, the figure that update made. @scratch holds KP_HIST_BUCKETS. */
double kp_analysis_p99(const struct kp_analysis *a, const struct kp_astate *s, int kind,
		       uint64_t span_ns, uint64_t now_ns, uint64_t *scratch);

/* Dense histogram of the last @span_ns of a window into @out (zeroed here);
 * a NULL window (no events of that kind yet) gives 0 events. */
uint64_t kp_analysis_window(const struct kp_window *w, uint64_t span_ns,
			    uint64_t now_ns, uint64_t *out);

#endif
