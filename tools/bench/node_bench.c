/* node_bench.c - CPU and bytes of the node_exporter-style series, measured
 * on the real code: kp_noderead__read on this host's files (what a tick
 * adds), and kp_node_metrics_render of those figures and of figures at
 * every bound (256 interfaces, 64 disks, 256 mounts with kubelet-length
 * paths), which is what a scrape adds. CPU is the process's CPU clock, so
 * the statfs pass threads count.
 *
 * usage: node_bench [OPS=2000] [ROUNDS=7]; one JSON object per line:
 * {"what": ..., "us_per_op": [round, ...], "bytes": N, "series": N} */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collect/noderead.h"
#include "outputs/node_metrics.h"
#include "outputs/prom.h"

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static size_t render(const struct kp_node_figs *n, size_t *lines)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_prom_begin(f, false);
	kp_node_metrics_render(f, n);
	kp_prom_end(f);
	fclose(f);
	if (lines) {
		*lines = 0;
		for (char *p = buf; p && *p; p = strchr(p, '\n') + 1) {
			if (*p != '#')
				(*lines)++;
			if (!strchr(p, '\n'))
				break;
		}
	}
	free(buf);
	return len;
}

static void add_fs(struct kp_node_fslist *l, const char *dev, const char *mnt)
{
	struct kp_node_fs *m = &l->m[l->n++];
	const char *s[3] = { dev, mnt, "tmpfs" };
	uint32_t *off[3] = { &m->device, &m->mountpoint, &m->fstype };

	for (int i = 0; i < 3; i++) {
		*off[i] = l->pool_used;
		strcpy(&l->pool[l->pool_used], s[i]);
		l->pool_used += strlen(s[i]) + 1;
	}
	m->state = KP_FS_OK;
	m->size = 1ull << 40;
	m->free = m->avail = 1ull << 39;
	m->files = 1u << 24;
	m->files_free = 1u << 23;
}

/* The host's meminfo/loadavg/stat, and every other kind at its bound with
 * long names and large values. */
static void fill_max(struct kp_node_figs *n)
{
	n->disks.n = KP_NODE_MAX_DISKS;
	for (unsigned int i = 0; i < n->disks.n; i++) {
		snprintf(n->disks.d[i].name, sizeof(n->disks.d[i].name), "nvme%un1", i);
		n->disks.d[i].nstats = KP_NODE_DISK_STATS;
		for (int k = 0; k < KP_NODE_DISK_STATS; k++)
			n->disks.d[i].v[k] = 123456789012ull + k;
	}
	n->net.n = KP_NODE_MAX_NETDEVS;
	for (unsigned int i = 0; i < n->net.n; i++) {
		snprintf(n->net.d[i].name, sizeof(n->net.d[i].name), "veth%08x", i * 2654435761u);
		for (int k = 0; k < KP_NODE_NETDEV_STATS; k++)
			n->net.d[i].v[k] = 987654321098ull + k;
	}
	n->fs.n = n->fs.pool_used = 0;
	for (unsigned int i = 0; i < KP_NODE_MAX_MOUNTS; i++) {
		char mnt[200];

		snprintf(mnt, sizeof(mnt), "/var/lib/kubelet/pods/%08x-1c2d-4e5f-8a9b-0c1d2e3f4a5b/"
			 "volumes/kubernetes.io~projected/kube-api-access-%05u", i, i);
		add_fs(&n->fs, "tmpfs", mnt);
	}
	for (int i = 0; i < KP_NODE_FILES; i++)
		n->have[i] = true;
}

static void bench(const char *what, struct kp_noderead *r, struct kp_node_figs *n, int ops,
		  int rounds)
{
	size_t lines = 0, bytes = render(n, &lines);

	printf("{\"what\": \"%s\", \"bytes\": %zu, \"series\": %zu, \"us_per_op\": [", what, bytes,
	       lines);
	for (int k = 0; k < rounds; k++) {
		double t0 = cpu_us();

		for (int i = 0; i < ops; i++) {
			if (r)
				kp_noderead__read(r, n, 1 + i);
			else
				render(n, NULL);
		}
		printf("%s%.3f", k ? ", " : "", (cpu_us() - t0) / ops);
		fflush(stdout);
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	int ops = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 7;
	struct kp_noderead *r = kp_noderead__new();
	struct kp_node_figs *n = calloc(1, sizeof(*n));

	if (!r || !n || ops <= 0 || rounds <= 0) {
		fprintf(stderr, "node_bench: out of memory or bad arguments\n");
		return 1;
	}
	kp_noderead__read(r, n, 1);
	bench("tick_host", r, n, ops, rounds);	/* reads the files each op */
	bench("render_host", NULL, n, ops, rounds);
	fill_max(n);
	bench("render_bounds", NULL, n, ops / 4 ? ops / 4 : 1, rounds);
	kp_noderead__free(r);
	free(n);
	return 0;
}
