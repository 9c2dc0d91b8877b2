/* alert_rules.h - what an alert rule is: the figures it can watch, its
 * scope, direction, levels and severity, and the rules that apply when
 * the config says nothing about alerts. The config file fills rules
 * (app/config.c); the alert engine (alerts.h) runs them. */
#ifndef KPULSE_ALERT_RULES_H
#define KPULSE_ALERT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#define KP_CFG_NAME_MAX 64
#define KP_CFG_TEXT_MAX 256

enum kp_scope { KP_SCOPE_CONTAINER = 0, KP_SCOPE_NODE };
enum kp_severity { KP_SEV_INFO = 0, KP_SEV_WARNING, KP_SEV_CRITICAL };
enum kp_op { KP_OP_ABOVE = 0, KP_OP_BELOW };

/* What an alert rule can watch. The daemon computes the values; units are
 * those of the JSON API. */
enum kp_metric {
	KP_M_RUNQ_P99 = 0,	/* s: p99 run-queue latency over the rule's window */
	KP_M_CPU_PRESSURE,	/* %: PSI cpu some avg10 */
	KP_M_MEMORY_PRESSURE,	/* %: PSI memory some avg10 */
	KP_M_IO_PRESSURE,	/* %: PSI io some avg10 */
	KP_M_OOM_KILLS,		/* kills within the rule's window */
	KP_M_CPU_CORES,		/* cores busy over the last interval */
	KP_M_HEALTH_SCORE,	/* 0..100 */
	KP_M_CPU_THROTTLED,	/* %: CFS periods throttled over the rule's window */
	KP_M_MAX,
};

struct kp_metric_info {
	const char *name;
	const char *unit;	/* "s" accepts durations ("50ms") */
	bool windowed;		/* the rule's `window` applies */
};
extern const struct kp_metric_info kp_metric_infos[KP_M_MAX];

const char *kp_severity_name(enum kp_severity s);
const char *kp_scope_name(enum kp_scope s);

struct kp_rule {
	char name[KP_CFG_NAME_MAX];	/* the alertname */
	enum kp_metric metric;
	enum kp_scope scope;
	char match[KP_CFG_TEXT_MAX];	/* containers: fnmatch glob */
	enum kp_op op;
	double threshold;		/* fires past this (in the metric's unit) */
	double clear;			/* resolves only back past this */
	uint64_t for_ns;		/* past threshold this long before firing */
	uint64_t window_ns;		/* windowed metrics; never 0 after load */
	enum kp_severity severity;
	char summary[KP_CFG_TEXT_MAX];
};

/* Used when the config says nothing about alerts; window 0 = the first of
 * the configured windows. */
extern const struct kp_rule kp_builtin_rules[];
extern const unsigned int kp_builtin_rules_n;

#endif
