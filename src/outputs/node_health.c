/* node_health.c - see node_health.h. The figures are those of the
 * kpulse_node_series_left_out, _read_errors_total, _mounts_stuck and
 * _statfs_stale_ticks_total series, for a person or a probe that reads
 * /health rather than /metrics. */
#include <stdio.h>
#include "outputs/node_health.h"

static const char *const file_names[KP_NODE_FILES] = {
	[KP_NODE_MEMINFO] = "meminfo", [KP_NODE_LOADAVG] = "loadavg", [KP_NODE_STAT] = "stat",
	[KP_NODE_DISKSTATS] = "diskstats", [KP_NODE_NETDEV] = "net/dev",
	[KP_NODE_MOUNTINFO] = "mountinfo", [KP_NODE_PIDS] = "pids",
};

static void reason(json_t *probs, const char *what, const char *series)
{
	json_array_append_new(probs, json_pack("{s:s, s:s}", "reason", what, "series", series));
}

void kp_node_health_reasons(const struct kp_node_figs *n, json_t *probs, json_t *notes)
{
	const struct {
		const char *kind, *what;
		unsigned int left, bound;
	} bounds[] = {
		{ "meminfo", "/proc/meminfo fields", n->mem.left_out, KP_NODE_MAX_MEMINFO },
		{ "disk", "disks", n->disks.left_out, KP_NODE_MAX_DISKS },
		{ "netdev", "network interfaces", n->net.left_out, KP_NODE_MAX_NETDEVS },
		{ "mount", "mounts", n->fs.left_out, KP_NODE_MAX_MOUNTS },
	};
	char what[256], series[96];

	if (!n->read_ns)
		return;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		if (!bounds[i].left)
			continue;
		snprintf(what, sizeof(what), "%u %s over kpulse's bound of %u have no kpulse_node_ "
			 "series", bounds[i].left, bounds[i].what, bounds[i].bound);
		snprintf(series, sizeof(series), "kpulse_node_series_left_out{kind=\"%s\"}",
			 bounds[i].kind);
		reason(probs, what, series);
	}
	for (int f = 0; f < KP_NODE_FILES; f++) {
		if (n->have[f] || !n->read_errors[f])
			continue;
		snprintf(what, sizeof(what), "%s could not be read at the last tick: its "
			 "kpulse_node_ series are missing", file_names[f]);
		snprintf(series, sizeof(series), "kpulse_node_read_errors_total{file=\"%s\"}",
			 file_names[f]);
		reason(probs, what, series);
	}
	if (n->fs_stuck >= KP_NODE_MAX_STUCK)
		reason(probs, "as many mounts are stuck as kpulse keeps threads for: the other "
		       "filesystems' figures are not refreshed", "kpulse_node_mounts_stuck");
	if (n->fs_stuck) {
		snprintf(what, sizeof(what), "%u mounts have not answered statfs for 5 s or more "
			 "(a hung NFS or FUSE server?): shown with device_error 1 and skipped",
			 n->fs_stuck);
		json_array_append_new(notes, json_string(what));
	}
}

json_t *kp_node_health_json(const struct kp_node_figs *n)
{
	json_t *errs;

	if (!n || !n->read_ns)
		return json_null();
	errs = json_object();
	for (int f = 0; f < KP_NODE_FILES; f++)
		json_object_set_new(errs, file_names[f], json_integer((json_int_t)n->read_errors[f]));
	return json_pack("{s:{s:i, s:i, s:i, s:i}, s:o, s:i, s:I}",
			 "left_out", "meminfo", (int)n->mem.left_out, "disk", (int)n->disks.left_out,
			 "netdev", (int)n->net.left_out, "mount", (int)n->fs.left_out,
			 "read_errors", errs,
			 "mounts_stuck", (int)n->fs_stuck,
			 "statfs_stale_ticks", (json_int_t)n->fs_stale_ticks);
}
