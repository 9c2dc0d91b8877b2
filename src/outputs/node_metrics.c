/* node_metrics.c - the node_exporter-compatible host series on /metrics:
 * node_exporter 1.5's names and labels with kpulse_node_ in place of
 * node_, values converted as it converts them (kB and sectors to bytes,
 * milliseconds to seconds), so that a dashboard or alert ports by
 * swapping the prefix. Figures are those of the last tick
 * (src/model/nodefigs.h); a file the tick could not read has no series.
 * Two node_exporter names are not used because kpulse has its own series
 * under them: node_context_switches_total and node_cpu_seconds_total.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "outputs/node_metrics.h"
#include "outputs/prom.h"

#define NAME_CAP 96

/* A label set per entry, escaped once per scrape. */
static char **prepare_all(unsigned int n, const char *(*label)(const void *, unsigned int, int),
			  const void *ctx, int npairs, const char *const *names)
{
	char **p = calloc(n ? n : 1, sizeof(*p));

	for (unsigned int i = 0; p && i < n; i++) {
		struct kp_label l[4] = { { 0 } };

		for (int j = 0; j < npairs; j++) {
			l[j].name = names[j];
			l[j].value = label(ctx, i, j);
		}
		p[i] = kp_prom_prepare(l);
	}
	return p;
}

static void free_all(char **p, unsigned int n)
{
	for (unsigned int i = 0; p && i < n; i++)
		free(p[i]);
	free(p);
}

static void render_memory(FILE *f, const struct kp_meminfo *m)
{
	char name[NAME_CAP], help[NAME_CAP + 48];

	for (unsigned int i = 0; i < m->n; i++) {
		const struct kp_meminfo_field *x = &m->f[i];
		size_t kl = strlen(x->key);
		bool counter = kl > 6 && !strcmp(x->key + kl - 6, "_total");

		snprintf(name, sizeof(name), "kpulse_node_memory_%s%s", x->key,
			 x->bytes ? "_bytes" : "");
		snprintf(help, sizeof(help), "Memory information field %s%s (/proc/meminfo).",
			 x->key, x->bytes ? "_bytes" : "");
		kp_prom_family(f, name, counter ? "counter" : "gauge", help);
		kp_prom_sample_u64_p(f, name, NULL, NULL, x->value);
	}
}

static void one_u64(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	kp_prom_family(f, name, type, help);
	kp_prom_sample_u64_p(f, name, NULL, NULL, v);
}

static void render_load_stat(FILE *f, const struct kp_node_figs *n)
{
	static const char *const load[3] = { "kpulse_node_load1", "kpulse_node_load5",
					     "kpulse_node_load15" };
	static const char *const lhelp[3] = { "1m load average.", "5m load average.",
					      "15m load average." };

	for (int i = 0; n->have[KP_NODE_LOADAVG] && i < 3; i++) {
		kp_prom_family(f, load[i], "gauge", lhelp[i]);
		kp_prom_sample_p(f, load[i], NULL, NULL, n->load.load[i]);
	}
	if (n->have[KP_NODE_STAT]) {
		const struct kp_kstat *s = &n->stat;

		one_u64(f, "kpulse_node_boot_time_seconds", "gauge", "Node boot time, in unixtime.",
			s->boot_time);
		one_u64(f, "kpulse_node_forks_total", "counter", "Total number of forks.", s->forks);
		one_u64(f, "kpulse_node_intr_total", "counter",
			"Total number of interrupts serviced.", s->intr);
		one_u64(f, "kpulse_node_procs_running", "gauge",
			"Number of processes in runnable state.", s->procs_running);
		one_u64(f, "kpulse_node_procs_blocked", "gauge",
			"Number of processes blocked waiting for I/O to complete.", s->procs_blocked);
		one_u64(f, "kpulse_node_cpus", "gauge",
			"Online CPUs (the cpuN lines of /proc/stat; node_exporter: "
			"count(node_cpu_seconds_total{mode=\"idle\"})).", s->cpus);
	}
	if (n->have[KP_NODE_PIDS])
		one_u64(f, "kpulse_node_processes_pids", "gauge", "Number of PIDs", n->pids);
	if (n->have[KP_NODE_LOADAVG])
		one_u64(f, "kpulse_node_processes_threads", "gauge",
			"Allocated threads in system", n->load.threads);
	if (n->max_threads)
		one_u64(f, "kpulse_node_processes_max_threads", "gauge",
			"Limit of threads in the system", n->max_threads);
	if (n->max_pids)
		one_u64(f, "kpulse_node_processes_max_processes", "gauge",
			"Number of max PIDs limit", n->max_pids);
}

/* /proc/diskstats fields in order, as node_exporter names and converts
 * them. */
enum conv { RAW, SECTORS, MILLIS };
static const struct {
	const char *name, *type, *help;
	enum conv conv;
} disk_fields[KP_NODE_DISK_STATS] = {
	{ "reads_completed_total", "counter", "The total number of reads completed successfully.", RAW },
	{ "reads_merged_total", "counter", "The total number of reads merged.", RAW },
	{ "read_bytes_total", "counter", "The total number of bytes read successfully.", SECTORS },
	{ "read_time_seconds_total", "counter", "The total number of seconds spent by all reads.", MILLIS },
	{ "writes_completed_total", "counter", "The total number of writes completed successfully.", RAW },
	{ "writes_merged_total", "counter", "The number of writes merged.", RAW },
	{ "written_bytes_total", "counter", "The total number of bytes written successfully.", SECTORS },
	{ "write_time_seconds_total", "counter", "This is the total number of seconds spent by all writes.", MILLIS },
	{ "io_now", "gauge", "The number of I/Os currently in progress.", RAW },
	{ "io_time_seconds_total", "counter", "Total seconds spent doing I/Os.", MILLIS },
	{ "io_time_weighted_seconds_total", "counter", "The weighted # of seconds spent doing I/Os.", MILLIS },
	{ "discards_completed_total", "counter", "The total number of discards completed successfully.", RAW },
	{ "discards_merged_total", "counter", "The total number of discards merged.", RAW },
	{ "discarded_sectors_total", "counter", "The total number of sectors discarded successfully.", RAW },
	{ "discard_time_seconds_total", "counter", "This is the total number of seconds spent by all discards.", MILLIS },
	{ "flush_requests_total", "counter", "The total number of flush requests completed successfully", RAW },
	{ "flush_requests_time_seconds_total", "counter", "This is the total number of seconds spent by all flush requests.", MILLIS },
};

static const char *disk_label(const void *ctx, unsigned int i, int j)
{
	return ((const struct kp_node_disks *)ctx)->d[i].name;
}

static void render_disks(FILE *f, const struct kp_node_disks *d)
{
	static const char *const names[] = { "device" };
	char **prep = prepare_all(d->n, disk_label, d, 1, names);
	char name[NAME_CAP];

	for (int k = 0; prep && k < KP_NODE_DISK_STATS; k++) {
		snprintf(name, sizeof(name), "kpulse_node_disk_%s", disk_fields[k].name);
		kp_prom_family(f, name, disk_fields[k].type, disk_fields[k].help);
		for (unsigned int i = 0; i < d->n; i++) {
			uint64_t v = d->d[i].v[k];

			if ((unsigned int)k >= d->d[i].nstats || !prep[i])
				continue;
			if (disk_fields[k].conv == MILLIS)
				kp_prom_sample_milli_p(f, name, prep[i], NULL, v);
			else if (disk_fields[k].conv == SECTORS && v > UINT64_MAX / 512)
				kp_prom_sample_p(f, name, prep[i], NULL, (double)v * 512);
			else
				kp_prom_sample_u64_p(f, name, prep[i], NULL,
						     disk_fields[k].conv == SECTORS ? v * 512 : v);
		}
	}
	free_all(prep, d->n);
}

/* /proc/net/dev columns in order, as node_exporter names them. */
static const char *const net_fields[KP_NODE_NETDEV_STATS] = {
	"receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo",
	"receive_frame", "receive_compressed", "receive_multicast", "transmit_bytes",
	"transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo", "transmit_colls",
	"transmit_carrier", "transmit_compressed",
};

static const char *net_label(const void *ctx, unsigned int i, int j)
{
	return ((const struct kp_netdevs *)ctx)->d[i].name;
}

static void render_net(FILE *f, const struct kp_netdevs *d)
{
	static const char *const names[] = { "device" };
	char **prep = prepare_all(d->n, net_label, d, 1, names);
	char name[NAME_CAP], help[NAME_CAP];

	for (int k = 0; prep && k < KP_NODE_NETDEV_STATS; k++) {
		snprintf(name, sizeof(name), "kpulse_node_network_%s_total", net_fields[k]);
		snprintf(help, sizeof(help), "Network device statistic %s.", net_fields[k]);
		kp_prom_family(f, name, "counter", help);
		for (unsigned int i = 0; i < d->n; i++)
			if (prep[i])
				kp_prom_sample_u64_p(f, name, prep[i], NULL, d->d[i].v[k]);
	}
	free_all(prep, d->n);
}

static const char *fs_label(const void *ctx, unsigned int i, int j)
{
	const struct kp_node_fslist *l = ctx;
	const struct kp_node_fs *m = &l->m[i];

	return kp_node_fs_str(l, j == 0 ? m->device : j == 1 ? m->fstype : m->mountpoint);
}

/* node_exporter's order: device_error for every mount, the figures only
 * for those whose statfs answered. */
static void render_fs(FILE *f, const struct kp_node_fslist *l)
{
	static const char *const names[] = { "device", "fstype", "mountpoint" };
	static const struct {
		const char *name, *help;
		size_t off;
	} fields[] = {
		{ "size_bytes", "Filesystem size in bytes.", offsetof(struct kp_node_fs, size) },
		{ "free_bytes", "Filesystem free space in bytes.", offsetof(struct kp_node_fs, free) },
		{ "avail_bytes", "Filesystem space available to non-root users in bytes.",
		  offsetof(struct kp_node_fs, avail) },
		{ "files", "Filesystem total file nodes.", offsetof(struct kp_node_fs, files) },
		{ "files_free", "Filesystem total free file nodes.",
		  offsetof(struct kp_node_fs, files_free) },
	};
	char **prep = prepare_all(l->n, fs_label, l, 3, names);
	char name[NAME_CAP];

	if (!prep)
		return;
	kp_prom_family(f, "kpulse_node_filesystem_device_error", "gauge",
		       "Whether an error occurred while getting statistics for the given device.");
	for (unsigned int i = 0; i < l->n; i++)
		if (prep[i] && l->m[i].state != KP_FS_PENDING)
			kp_prom_sample_u64_p(f, "kpulse_node_filesystem_device_error", prep[i], NULL,
					     l->m[i].state != KP_FS_OK);
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		snprintf(name, sizeof(name), "kpulse_node_filesystem_%s", fields[k].name);
		kp_prom_family(f, name, "gauge", fields[k].help);
		for (unsigned int i = 0; i < l->n; i++)
			if (prep[i] && l->m[i].state == KP_FS_OK)
				kp_prom_sample_u64_p(f, name, prep[i], NULL,
						     *(const uint64_t *)((const char *)&l->m[i] +
									 fields[k].off));
	}
	kp_prom_family(f, "kpulse_node_filesystem_readonly", "gauge", "Filesystem read-only status.");
	for (unsigned int i = 0; i < l->n; i++)
		if (prep[i] && l->m[i].state == KP_FS_OK)
			kp_prom_sample_u64_p(f, "kpulse_node_filesystem_readonly", prep[i], NULL,
					     l->m[i].readonly);
	free_all(prep, l->n);
}

/* What the bounds left out and what could not be read: kpulse's own. */
static void render_self(FILE *f, const struct kp_node_figs *n)
{
	static const char *const files[KP_NODE_FILES] = {
		[KP_NODE_MEMINFO] = "meminfo", [KP_NODE_LOADAVG] = "loadavg",
		[KP_NODE_STAT] = "stat", [KP_NODE_DISKSTATS] = "diskstats",
		[KP_NODE_NETDEV] = "net/dev", [KP_NODE_MOUNTINFO] = "mountinfo",
		[KP_NODE_PIDS] = "pids",
	};
	const struct {
		const char *kind;
		unsigned int v;
	} left[] = {
		{ "meminfo", n->mem.left_out }, { "disk", n->disks.left_out },
		{ "netdev", n->net.left_out }, { "mount", n->fs.left_out },
	};
	char extra[48];

	kp_prom_family(f, "kpulse_node_series_left_out", "gauge",
		       "Entries over kpulse's bounds at the last tick, by kind (their series are not shown).");
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		snprintf(extra, sizeof(extra), "kind=\"%s\"", left[i].kind);
		kp_prom_sample_u64_p(f, "kpulse_node_series_left_out", NULL, extra, left[i].v);
	}
	kp_prom_family(f, "kpulse_node_read_errors_total", "counter",
		       "Reads of a host file behind the kpulse_node_ series that failed or held lines that did not parse.");
	for (int i = 0; i < KP_NODE_FILES; i++) {
		snprintf(extra, sizeof(extra), "file=\"%s\"", files[i]);
		kp_prom_sample_u64_p(f, "kpulse_node_read_errors_total", NULL, extra,
				     n->read_errors[i]);
	}
	one_u64(f, "kpulse_node_mounts_stuck", "gauge",
		"Mounts whose statfs has not returned after 5 s; skipped until it does.", n->fs_stuck);
	one_u64(f, "kpulse_node_statfs_stale_ticks_total", "counter",
		"Ticks that showed an earlier statfs pass because this tick's was not done in 20 ms.",
		n->fs_stale_ticks);
}

void kp_node_metrics_render(FILE *f, const struct kp_node_figs *n)
{
	if (!n || !n->read_ns)
		return;
	if (n->have[KP_NODE_MEMINFO])
		render_memory(f, &n->mem);
	render_load_stat(f, n);
	if (n->have[KP_NODE_DISKSTATS])
		render_disks(f, &n->disks);
	if (n->have[KP_NODE_NETDEV])
		render_net(f, &n->net);
	if (n->have[KP_NODE_MOUNTINFO])
		render_fs(f, &n->fs);
	render_self(f, n);
}
