/* health.c - the health score (see health.h for the formula). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "analysis/health.h"

const struct kp_factor_cfg kp_factor_defaults[KP_F_MAX] = {
	[KP_F_RUNQ_P99] = { "runq_p99", 0.002, 0.050, 30, "s" },
	[KP_F_CPU_PRESSURE] = { "cpu_pressure", 5, 50, 20, "%" },
	[KP_F_MEM_PRESSURE] = { "memory_pressure", 5, 40, 25, "%" },
	[KP_F_RECLAIM_SHARE] = { "reclaim_share", 0.01, 0.20, 15, "share" },
	[KP_F_OOM_KILLS] = { "oom_kills", 0, 1, 40, "kills" },
	[KP_F_RETRANSMIT_SHARE] = { "retransmit_share", 0.001, 0.05, 15, "share" },
	[KP_F_REQUEST_P99] = { "request_p99", 0.2, 1.0, 25, "s" },
	[KP_F_CPU_THROTTLED] = { "cpu_throttled", 5, 50, 30, "%" },
};

static void describe(enum kp_factor f, double v, double penalty, char *buf, size_t len)
{
	int p = (int)lround(penalty);

	switch (f) {
	case KP_F_RUNQ_P99:
		snprintf(buf, len, "p99 run-queue latency %.3g ms (-%d)", v * 1e3, p);
		break;
	case KP_F_CPU_PRESSURE:
		snprintf(buf, len, "CPU pressure %.1f%% (-%d)", v, p);
		break;
	case KP_F_MEM_PRESSURE:
		snprintf(buf, len, "memory pressure %.1f%% (-%d)", v, p);
		break;
	case KP_F_RECLAIM_SHARE:
		snprintf(buf, len, "%.1f%% of time stalled in reclaim (-%d)", v * 100, p);
		break;
	case KP_F_OOM_KILLS:
		snprintf(buf, len, "%.0f OOM kill%s (-%d)", v, v == 1 ? "" : "s", p);
		break;
	case KP_F_RETRANSMIT_SHARE:
		snprintf(buf, len, "TCP retransmits %.2f%% (-%d)", v * 100, p);
		break;
	case KP_F_REQUEST_P99:
		snprintf(buf, len, "p99 request latency %.3g ms (-%d)", v * 1e3, p);
		break;
	case KP_F_CPU_THROTTLED:
		snprintf(buf, len, "CPU throttled by its limit in %.0f%% of periods (-%d)", v, p);
		break;
	default:
		buf[0] = 0;
	}
}

/* The penalty of one factor for @v (0 when unknown or at good). */
static double penalty(const struct kp_factor_cfg *c, double v)
{
	double x;

	if (isnan(v) || c->weight <= 0)
		return 0;
	if (c->bad <= c->good)
		x = v > c->good ? 1 : 0;
	else
		x = (v - c->good) / (c->bad - c->good);
	if (x <= 0)
		return 0;
	return c->weight * (x > 1 ? 1 : x);
}

/* Waiting for a CPU while throttled is the limit's doing (see health.h). */
static bool excused(int f, const struct kp_factor_result *r)
{
	return (f == KP_F_RUNQ_P99 || f == KP_F_CPU_PRESSURE) &&
	       r[KP_F_CPU_THROTTLED].penalty > 0;
}

void kp_health_score(const double *values, const struct kp_factor_cfg *cfg,
		     struct kp_health *out)
{
	double total = 0, worst = 0;

	memset(out, 0, sizeof(*out));
	out->worst = -1;
	for (int i = 0; i < KP_F_MAX; i++) {
		out->f[i].value = values[i];
		out->f[i].penalty = penalty(&cfg[i], values[i]);
	}
	for (int i = 0; i < KP_F_MAX; i++) {
		struct kp_factor_result *r = &out->f[i];

		if (r->penalty <= 0)
			continue;
		if (excused(i, out->f)) {
			r->penalty = 0;
			snprintf(r->reason, sizeof(r->reason), "%s",
				 i == KP_F_RUNQ_P99 ? "run-queue waits of a throttled container: its CPU limit"
						    : "CPU pressure of a throttled container: its CPU limit");
			continue;
		}
		describe((enum kp_factor)i, r->value, r->penalty, r->reason, sizeof(r->reason));
		total += r->penalty;
		if (r->penalty > worst) {
			worst = r->penalty;
			out->worst = i;
		}
	}
	out->score = total >= 100 ? 0 : 100 - total;
}
