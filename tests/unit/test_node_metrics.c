/* test_node_metrics.c - the node_exporter-named series from figures built
 * here (the fixtures of this machine through the real parsers, and mounts
 * set by hand): names, units as node_exporter converts them, label
 * escaping, which series a failed or stuck mount has, and nothing for a
 * file that could not be read. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "collect/nodefiles.h"
#include "outputs/node_metrics.h"
#include "outputs/prom.h"

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	char *buf = malloc(1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%.*s/fixtures/node/%s",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	assert_non_null(f);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void parse_fixture(const char *name, int (*fn)(const char *, size_t, void *), void *out)
{
	size_t len;
	char *t = fixture(name, &len);

	assert_int_equal(fn(t, len, out), 0);
	free(t);
}

static int p_mem(const char *b, size_t n, void *o) { return kp_meminfo_parse(b, n, o); }
static int p_load(const char *b, size_t n, void *o) { return kp_loadavg_parse(b, n, o); }
static int p_stat(const char *b, size_t n, void *o) { return kp_kstat_parse(b, n, o); }
static int p_net(const char *b, size_t n, void *o) { return kp_netdev_parse(b, n, o); }
static int p_disk(const char *b, size_t n, void *o)
{
	return kp_node_diskstats_parse(b, n, NULL, NULL, o);
}

static void add_fs(struct kp_node_fslist *l, const char *dev, const char *mnt, const char *type,
		   enum kp_fs_state st, bool ro, uint64_t size)
{
	struct kp_node_fs *m = &l->m[l->n++];
	const char *s[3] = { dev, mnt, type };
	uint32_t *off[3] = { &m->device, &m->mountpoint, &m->fstype };

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 3; i++) {
		*off[i] = l->pool_used;
		strcpy(&l->pool[l->pool_used], s[i]);
		l->pool_used += strlen(s[i]) + 1;
	}
	m->state = st;
	m->readonly = ro;
	m->size = size;
	m->free = size / 2;
	m->avail = size / 4;
	m->files = 1000;
	m->files_free = 10;
}

static struct kp_node_figs *figs(void)
{
	struct kp_node_figs *n = calloc(1, sizeof(*n));

	parse_fixture("meminfo", p_mem, &n->mem);
	parse_fixture("loadavg", p_load, &n->load);
	parse_fixture("stat", p_stat, &n->stat);
	parse_fixture("net_dev", p_net, &n->net);
	parse_fixture("diskstats", p_disk, &n->disks);
	for (int i = 0; i < KP_NODE_FILES; i++)
		n->have[i] = true;
	n->pids = 118;
	n->max_threads = 192724;
	n->max_pids = 32768;
	add_fs(&n->fs, "/dev/vda", "/", "ext4", KP_FS_OK, false, 270553174016ull);
	add_fs(&n->fs, "tmpfs", "/mnt/a\"b\\c\nd", "tmpfs", KP_FS_OK, true, 4096);
	add_fs(&n->fs, "srv:/export", "/mnt/nfs", "nfs4", KP_FS_STUCK, false, 0);
	add_fs(&n->fs, "/dev/sdz", "/mnt/gone", "xfs", KP_FS_ERROR, false, 0);
	n->net.left_out = 3;
	n->read_errors[KP_NODE_DISKSTATS] = 2;
	n->fs_stuck = 1;
	n->read_ns = 1;
	return n;
}

static char *render(const struct kp_node_figs *n, bool om)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_prom_begin(f, om);
	kp_node_metrics_render(f, n);
	kp_prom_end(f);
	fclose(f);
	return buf;
}

/* @line appears as a whole line of @text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, line)                                                    \
	do {                                                                       \
		if (!has_line(text, line))                                         \
			fail_msg("no line \"%s\"", line);                          \
	} while (0)

static void test_names_and_units(void **s)
{
	struct kp_node_figs *n = figs();
	char *t = render(n, false);

	(void)s;
	assert_line(t, "# TYPE kpulse_node_memory_MemTotal_bytes gauge");
	assert_line(t, "kpulse_node_memory_MemTotal_bytes 25276071936");	/* kB * 1024 */
	assert_line(t, "kpulse_node_memory_Active_anon_bytes 1712128");
	assert_line(t, "kpulse_node_memory_HugePages_Total 0");		/* a count */
	assert_line(t, "kpulse_node_load1 7.9");
	assert_line(t, "kpulse_node_load15 3.92");
	assert_line(t, "kpulse_node_boot_time_seconds 1796302059");
	assert_line(t, "# TYPE kpulse_node_forks_total counter");
	assert_line(t, "kpulse_node_forks_total 29829");
	assert_line(t, "kpulse_node_intr_total 1893195");
	assert_line(t, "kpulse_node_procs_running 17");
	assert_line(t, "kpulse_node_cpus 2");
	assert_line(t, "kpulse_node_processes_threads 141");
	assert_line(t, "kpulse_node_processes_pids 118");
	assert_line(t, "kpulse_node_processes_max_processes 32768");
	/* sectors * 512, milliseconds as exact seconds */
	assert_line(t, "kpulse_node_disk_read_bytes_total{device=\"vda\"} 106570200064");
	assert_line(t, "kpulse_node_disk_read_time_seconds_total{device=\"vda\"} 443.563");
	assert_line(t, "kpulse_node_disk_io_time_seconds_total{device=\"vda\"} 97.020");
	assert_line(t, "kpulse_node_disk_flush_requests_time_seconds_total{device=\"vda\"} 0.457");
	assert_line(t, "kpulse_node_disk_discarded_sectors_total{device=\"vda\"} 5191016");
	assert_line(t, "kpulse_node_disk_io_now{device=\"loop0\"} 0");	/* no filter given */
	assert_line(t, "# TYPE kpulse_node_disk_io_now gauge");
	assert_line(t, "kpulse_node_network_receive_bytes_total{device=\"lo\"} 1608742831");
	assert_line(t, "kpulse_node_network_transmit_packets_total{device=\"eth0\"} 3615");
	assert_line(t, "kpulse_node_network_transmit_colls_total{device=\"eth0\"} 0");
	assert_line(t, "kpulse_node_series_left_out{kind=\"netdev\"} 3");
	assert_line(t, "kpulse_node_read_errors_total{file=\"diskstats\"} 2");
	assert_line(t, "kpulse_node_mounts_stuck 1");
	/* kpulse's own series keep these names; node_exporter's are not used */
	assert_null(strstr(t, "kpulse_node_context_switches_total"));
	assert_null(strstr(t, "kpulse_node_cpu_seconds_total"));
	free(t);
	free(n);
}

static void test_filesystems(void **s)
{
	struct kp_node_figs *n = figs();
	char *t = render(n, false);

	(void)s;
	assert_line(t, "kpulse_node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\","
		    "mountpoint=\"/\"} 270553174016");
	assert_line(t, "kpulse_node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\","
		    "mountpoint=\"/\"} 67638293504");
	assert_line(t, "kpulse_node_filesystem_device_error{device=\"/dev/vda\",fstype=\"ext4\","
		    "mountpoint=\"/\"} 0");
	/* quote, backslash and newline escaped in the label value */
	assert_line(t, "kpulse_node_filesystem_readonly{device=\"tmpfs\",fstype=\"tmpfs\","
		    "mountpoint=\"/mnt/a\\\"b\\\\c\\nd\"} 1");
	/* stuck or failed: device_error 1 and nothing else, as node_exporter */
	assert_line(t, "kpulse_node_filesystem_device_error{device=\"srv:/export\",fstype=\"nfs4\","
		    "mountpoint=\"/mnt/nfs\"} 1");
	assert_line(t, "kpulse_node_filesystem_device_error{device=\"/dev/sdz\",fstype=\"xfs\","
		    "mountpoint=\"/mnt/gone\"} 1");
	assert_null(strstr(t, "kpulse_node_filesystem_size_bytes{device=\"srv:/export\""));
	assert_null(strstr(t, "kpulse_node_filesystem_files{device=\"/dev/sdz\""));
	free(t);
	free(n);
}

static void test_missing_files(void **s)
{
	struct kp_node_figs *n = figs();
	const char *old = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n";
	char *t;

	(void)s;
	n->have[KP_NODE_LOADAVG] = false;
	n->have[KP_NODE_MEMINFO] = false;
	n->have[KP_NODE_MOUNTINFO] = false;
	assert_int_equal(kp_node_diskstats_parse(old, strlen(old), NULL, NULL, &n->disks), 0);
	t = render(n, false);
	assert_null(strstr(t, "kpulse_node_load1"));
	assert_null(strstr(t, "kpulse_node_processes_threads"));	/* from loadavg */
	assert_null(strstr(t, "kpulse_node_memory_"));
	assert_null(strstr(t, "kpulse_node_filesystem_"));
	assert_line(t, "kpulse_node_boot_time_seconds 1796302059");
	/* a kernel before 4.18: no discard or flush series for its disk */
	assert_line(t, "kpulse_node_disk_io_time_weighted_seconds_total{device=\"sda\"} 0.011");
	assert_null(strstr(t, "kpulse_node_disk_discards_completed_total{"));
	assert_null(strstr(t, "kpulse_node_disk_flush_requests_total{"));
	free(t);
	n->read_ns = 0;	/* before the first tick: nothing at all */
	t = render(n, false);
	assert_string_equal(t, "");
	free(t);
	t = render(NULL, false);
	assert_string_equal(t, "");
	free(t);
	free(n);
}

static void test_openmetrics(void **s)
{
	struct kp_node_figs *n = figs();
	char *t = render(n, true);

	(void)s;
	assert_line(t, "# TYPE kpulse_node_forks counter");
	assert_line(t, "kpulse_node_forks_total 29829");
	assert_line(t, "# TYPE kpulse_node_network_receive_bytes counter");
	assert_line(t, "# EOF");
	free(t);
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_units),
		cmocka_unit_test(test_filesystems),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_openmetrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
