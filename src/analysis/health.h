/* health.h - a 0-100 health score from named factors, each with its own
 * penalty and a one-line reason a person can read ("p99 run-queue latency
 * 14 ms (-22)"). Pure: values in, score out.
 *
 * Each factor has a `good` and a `bad` level and a weight: at or below good
 * it costs nothing, at or above bad it costs the whole weight, linearly in
 * between. Score = 100 - sum of penalties, floored at 0. Factors whose input
 * is unknown (NaN) cost nothing and are listed as unavailable.
 *
 * A container held back by its own CPU limit waits on the run queue and
 * shows CPU pressure without any contention: while cpu_throttled costs
 * something, runq_p99 and cpu_pressure cost nothing (their reason says
 * why), so the score counts that wait once and its reason names the
 * limit. */
#ifndef KPULSE_HEALTH_H
#define KPULSE_HEALTH_H

enum kp_factor {
	KP_F_RUNQ_P99 = 0,	/* seconds, windowed p99 run-queue latency */
	KP_F_CPU_PRESSURE,	/* % (PSI cpu some avg60) */
	KP_F_MEM_PRESSURE,	/* % (PSI memory some avg60) */
	KP_F_RECLAIM_SHARE,	/* share of wall time stalled in reclaim */
	KP_F_OOM_KILLS,		/* kills in the window */
	KP_F_RETRANSMIT_SHARE,	/* retransmits per connection-second... see README */
	KP_F_REQUEST_P99,	/* seconds, windowed p99 request latency */
	KP_F_CPU_THROTTLED,	/* % of CFS periods throttled, over the window */
	KP_F_MAX,
};

struct kp_factor_cfg {
	const char *name;	/* config and JSON key */
	double good, bad, weight;
	const char *unit;	/* "s", "%", "share", "kills" */
};

/* The documented defaults; a config file may override good/bad/weight. */
extern const struct kp_factor_cfg kp_factor_defaults[KP_F_MAX];

struct kp_factor_result {
	double value;		/* NAN when unknown */
	double penalty;		/* 0..weight */
	char reason[96];	/* "" when the factor costs nothing */
};

struct kp_health {
	double score;
	struct kp_factor_result f[KP_F_MAX];
	int worst;		/* factor with the largest penalty, -1 if none */
};

/* @values: KP_F_MAX inputs (NAN = unknown); @cfg: KP_F_MAX factor settings. */
void kp_health_score(const double *values, const struct kp_factor_cfg *cfg,
		     struct kp_health *out);

#endif
