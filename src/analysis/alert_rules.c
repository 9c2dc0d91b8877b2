/* alert_rules.c - names of the alert domain and the built-in rules (see
 * alert_rules.h). */
#include "analysis/alert_rules.h"

const struct kp_metric_info kp_metric_infos[KP_M_MAX] = {
	[KP_M_RUNQ_P99] = { "runq_p99", "s", true },
	[KP_M_CPU_PRESSURE] = { "cpu_pressure", "%", false },
	[KP_M_MEMORY_PRESSURE] = { "memory_pressure", "%", false },
	[KP_M_IO_PRESSURE] = { "io_pressure", "%", false },
	[KP_M_OOM_KILLS] = { "oom_kills", "kills", true },
	[KP_M_CPU_CORES] = { "cpu_cores", "cores", false },
	[KP_M_HEALTH_SCORE] = { "health_score", "score", false },
	[KP_M_CPU_THROTTLED] = { "cpu_throttled", "%", true },
};

static const char *const severity_names[] = { "info", "warning", "critical" };
static const char *const scope_names[] = { "container", "node" };

const char *kp_severity_name(enum kp_severity s)
{
	return (unsigned int)s < 3 ? severity_names[s] : "unknown";
}

const char *kp_scope_name(enum kp_scope s)
{
	return (unsigned int)s < 2 ? scope_names[s] : "unknown";
}

const struct kp_rule kp_builtin_rules[] = {
	{ .name = "ContainerRunqueueLatencyHigh", .metric = KP_M_RUNQ_P99, .scope = KP_SCOPE_CONTAINER,
	  .match = "*", .op = KP_OP_ABOVE, .threshold = 0.050, .clear = 0.025, .for_ns = 60ull * 1000000000,
	  .severity = KP_SEV_WARNING,
	  .summary = "p99 run-queue latency of the container's tasks is above 50 ms" },
	{ .name = "ContainerMemoryPressureHigh", .metric = KP_M_MEMORY_PRESSURE, .scope = KP_SCOPE_CONTAINER,
	  .match = "*", .op = KP_OP_ABOVE, .threshold = 20, .clear = 10, .for_ns = 60ull * 1000000000,
	  .severity = KP_SEV_WARNING,
	  .summary = "the container's tasks stall on memory more than 20% of the time (PSI some avg10)" },
	{ .name = "ContainerOOMKill", .metric = KP_M_OOM_KILLS, .scope = KP_SCOPE_CONTAINER,
	  .match = "*", .op = KP_OP_ABOVE, .threshold = 0, .clear = 0, .for_ns = 0,
	  .window_ns = 300ull * 1000000000, .severity = KP_SEV_CRITICAL,
	  .summary = "a task of the container was OOM-killed in the last 5 minutes" },
	{ .name = "ContainerCPUThrottlingHigh", .metric = KP_M_CPU_THROTTLED, .scope = KP_SCOPE_CONTAINER,
	  .match = "*", .op = KP_OP_ABOVE, .threshold = 25, .clear = 10, .for_ns = 120ull * 1000000000,
	  .severity = KP_SEV_WARNING,
	  .summary = "the container's CPU limit throttled it in more than 25% of CFS periods" },
	{ .name = "NodeCPUPressureHigh", .metric = KP_M_CPU_PRESSURE, .scope = KP_SCOPE_NODE,
	  .match = "", .op = KP_OP_ABOVE, .threshold = 50, .clear = 30, .for_ns = 300ull * 1000000000,
	  .severity = KP_SEV_WARNING,
	  .summary = "runnable tasks wait for a CPU more than 50% of the time host-wide (PSI some avg10)" },
};
const unsigned int kp_builtin_rules_n = sizeof(kp_builtin_rules) / sizeof(kp_builtin_rules[0]);
