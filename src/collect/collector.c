/* collector.c - map reader.
 *
 * Kernel values are cumulative per CPU since the cgroup's entry was made, so
 * a read sums the CPUs and the difference to the previous read is the delta;
 * deltas also feed the node totals, which therefore outlive the cgroups that
 * made them. On-CPU time of slices still running is added from the per-CPU
 * slot map, and the exported figure is kept monotonic.
 * The memory map (reclaim stalls, OOM kills) is read the same way; a cgroup
 * may be in either map or both. Each collection also reads the PSI, usage
 * and limit files of every shown container (memread.c), and drains the OOM
 * event ring buffer into the bounded recent-kills list.
 * The TCP map too; request latency comes per (cgroup, direction, port) and
 * goes through each container's portsets (ports.h), which bound the ports
 * shown and keep every series monotonic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect/collector.h"
#include "collect/cgroup.h"
#include "kernel/hotslots.h"
#include "kernel/loader.h"
#include "app/log.h"
#include "collect/memread.h"

#define BATCH_BYTES (4u << 20)
#define UNRESOLVED_GIVE_UP 3

struct kp_collector {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	int stats_fd, slot_fd, drops_fd, mem_fd;
	int tcp_fd, hist_fd, req_fd;
	size_t tcp_vsz, hist_vsz, req_vsz;	/* per-CPU value strides */
	struct kp_req_key *req_keys;	/* batch keys of req_stats */
	struct kp_hot *hot;		/* hot slots; NULL without the TCP unit */
	unsigned int max_ports;
	uint64_t files_every_ns;	/* cgroup files: how often per container */
	struct kp_disks disks;		/* host disk I/O, read with the files */
	bool disks_reported;
	unsigned int files_per_collection;	/* and how many at most (0: all) */
	struct kp_tcp_totals node_tcp, tcp_tmp;
	struct kp_lat node_req[2], lat_tmp, lat_delta;
	int ncpus;
	/* cpu_slot as read right after cg_stats, and right before it */
	struct kp_cpu_slot *slots, *slots_before;
	size_t vsz;		/* per-CPU value stride, cg_stats */
	size_t mem_vsz;		/* the same, mem_stats */
	unsigned int batch;	/* keys per batch lookup, for the larger value */
	__u64 *keys;
	void *vals;
	bool batch_ok;
	struct kp_container *by_id;
	struct kp_sched_totals node;
	struct kp_mem_totals node_mem;
	struct kp_memread *mr;
	struct ring_buffer *rb;
	struct kp_oom_list *ooms;
	FILE *oom_log;
	long page_size;
	/* cgroups removed lately: their figures still pending on an idle CPU
	 * must not bring them back */
	uint64_t gone[64];
	unsigned int gone_next;
	uint64_t gen;
	struct kp_collector_stats st;
};

static int on_oom(void *ctx, void *data, size_t size);

uint64_t kp_now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int kp_collector__new(struct kp_collector **out, struct kp_loader *l,
		      struct kp_cgroups *cg)
{
	struct kp_collector *c = calloc(1, sizeof(*c));
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	size_t vmax;
	int fd;

	if (!c)
		return -ENOMEM;
	c->loader = l;
	c->cg = cg;
	c->stats_fd = kp_loader__map_fd(l, "cg_stats");
	c->slot_fd = kp_loader__map_fd(l, "cpu_slot");
	c->drops_fd = kp_loader__map_fd(l, "drops");
	c->mem_fd = kp_loader__map_fd(l, "mem_stats");
	c->tcp_fd = kp_loader__map_fd(l, "tcp_stats");
	c->hist_fd = kp_loader__map_fd(l, "tcp_hist");
	c->req_fd = kp_loader__map_fd(l, "req_stats");
	c->max_ports = 16;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		c->ncpus = 1;
	c->hot = kp_hot__new(kp_loader__map_fd(l, "hot_owner"), kp_loader__map_fd(l, "hot_vals"),
			     c->ncpus);
	c->vsz = (sizeof(struct kp_cg_stats) + 7) & ~7ul;
	c->mem_vsz = (sizeof(struct kp_mem_stats) + 7) & ~7ul;
	c->tcp_vsz = (sizeof(struct kp_tcp_stats) + 7) & ~7ul;
	c->hist_vsz = (sizeof(struct kp_tcp_hist) + 7) & ~7ul;
	c->req_vsz = (sizeof(struct kp_req_stats) + 7) & ~7ul;
	vmax = c->vsz > c->mem_vsz ? c->vsz : c->mem_vsz;
	if (c->hist_vsz > vmax)
		vmax = c->hist_vsz;
	if (c->req_vsz > vmax)
		vmax = c->req_vsz;
	c->batch = BATCH_BYTES / (vmax * c->ncpus);
	if (c->batch < 1)
		c->batch = 1;
	if (c->batch > 256)
		c->batch = 256;
	c->keys = calloc(c->batch, sizeof(*c->keys));
	c->vals = malloc(c->batch * vmax * c->ncpus);
	c->req_keys = calloc(c->batch, sizeof(*c->req_keys));
	c->slots = calloc(c->ncpus, sizeof(*c->slots));
	c->slots_before = calloc(c->ncpus, sizeof(*c->slots_before));
	c->mr = kp_memread__new(kp_cgroups__root(cg));
	c->ooms = calloc(1, sizeof(*c->ooms));
	if (!c->keys || !c->vals || !c->req_keys || !c->slots || !c->slots_before || !c->mr ||
	    !c->ooms) {
		kp_collector__free(c);
		return -ENOMEM;
	}
	c->page_size = sysconf(_SC_PAGESIZE);
	c->batch_ok = true;
	if (c->stats_fd >= 0 && !bpf_obj_get_info_by_fd(c->stats_fd, &info, &len))
		c->st.map_max_entries = info.max_entries;
	len = sizeof(info);
	if (c->mem_fd >= 0 && !bpf_obj_get_info_by_fd(c->mem_fd, &info, &len))
		c->st.mem_map_max_entries = info.max_entries;
	len = sizeof(info);
	if (c->tcp_fd >= 0 && !bpf_obj_get_info_by_fd(c->tcp_fd, &info, &len))
		c->st.tcp_map_max_entries = info.max_entries;
	len = sizeof(info);
	if (c->hist_fd >= 0 && !bpf_obj_get_info_by_fd(c->hist_fd, &info, &len))
		c->st.hist_map_max_entries = info.max_entries;
	len = sizeof(info);
	if (c->req_fd >= 0 && !bpf_obj_get_info_by_fd(c->req_fd, &info, &len))
		c->st.req_map_max_entries = info.max_entries;
	fd = kp_loader__map_fd(l, "oom_events");
	if (fd >= 0) {
		c->rb = ring_buffer__new(fd, on_oom, c, NULL);
		if (!c->rb)
			kp_err("collector: cannot read OOM events: %s; OOM kills are "
			       "still counted, not listed", strerror(errno));
	}
	*out = c;
	return 0;
}

void kp_container_labels(const struct kp_container *k,
			 struct kp_label l[KP_CONTAINER_LABELS + 1])
{
	int n = 0;

	l[n++] = (struct kp_label){ "container", k->ident.name };
	l[n++] = (struct kp_label){ "container_id", k->ident.id[0] ? k->ident.id : k->cgid_str };
	l[n++] = (struct kp_label){ "runtime", kp_runtime_name(k->ident.runtime) };
	l[n++] = (struct kp_label){ "cgroup", k->path };
	if (k->ident.pod_uid[0])
		l[n++] = (struct kp_label){ "pod_uid", k->ident.pod_uid };
	l[n] = (struct kp_label){ NULL, NULL };
}

static void container_free(struct kp_container *k)
{
	free(k->path);
	free(k->prom_labels);
	free(k->tcp);
	kp_portset__free(k->req[0]);
	kp_portset__free(k->req[1]);
	free(k);
}

void kp_collector__free(struct kp_collector *c)
{
	struct kp_container *k, *tmp;

	if (!c)
		return;
	HASH_ITER(hh, c->by_id, k, tmp) {
		HASH_DEL(c->by_id, k);
		container_free(k);
	}
	ring_buffer__free(c->rb);
	kp_hot__free(c->hot);
	kp_memread__free(c->mr);
	free(c->ooms);
	free(c->keys);
	free(c->req_keys);
	free(c->slots);
	free(c->slots_before);
	free(c->vals);
	free(c);
}

static struct kp_container *container_get(struct kp_collector *c, uint64_t id)
{
	struct kp_container *k;

	HASH_FIND(hh, c->by_id, &id, sizeof(id), k);
	if (k)
		return k;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->cgid = id;
	snprintf(k->cgid_str, sizeof(k->cgid_str), "%llu", (unsigned long long)id);
	HASH_ADD(hh, c->by_id, cgid, sizeof(k->cgid), k);
	return k;
}

static void resolve(struct kp_collector *c, struct kp_container *k, uint64_t now)
{
	uint64_t walks = kp_cgroups__walks(c->cg);
	const char *p = kp_cgroups__path(c->cg, k->cgid, now);

	if (!p) {
		/* walks are rate-limited: only a walk that missed the id counts,
		 * else scrapes in quick succession give up on a new cgroup (and
		 * delete its map entries) before any walk could have seen it */
		if (kp_cgroups__walks(c->cg) != walks)
			k->unresolved_tries++;
		return;
	}
	k->path = strdup(p);
	if (k->path)
		kp_identity_from_path(k->path, &k->ident);
}

/* Sum one key's per-CPU cg_stats values into its container's `kern`;
 * finalize() adds what is pending on the CPUs and updates the totals. */
static void account(struct kp_collector *c, __u64 id, const void *percpu,
		    uint64_t now)
{
	struct kp_container *k = container_get(c, id);
	struct kp_sched_totals *sum;

	if (!k)
		return;
	sum = &k->kern;
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		const struct kp_cg_stats *v = (const void *)((const char *)percpu + cpu * c->vsz);

		sum->cpu_ns += v->cpu_ns;
		sum->nvcsw += v->nvcsw;
		sum->nivcsw += v->nivcsw;
		sum->runq_sum_ns += v->runq_sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			sum->runq_hist[b] += v->runq_hist[b];
	}
	k->seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, now);
}

/* Fold one key's per-CPU memory values into its container and the node. */
static void account_mem(struct kp_collector *c, __u64 id, const void *percpu,
			uint64_t now)
{
	struct kp_container *k = container_get(c, id);
	struct kp_mem_totals sum = {}, *t;

	if (!k)
		return;
	t = &k->mem;
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		const struct kp_mem_stats *v = (const void *)((const char *)percpu + cpu * c->mem_vsz);

		sum.direct_reclaims += v->direct_reclaims;
		sum.direct_reclaim_ns += v->direct_reclaim_ns;
		sum.memcg_reclaims += v->memcg_reclaims;
		sum.memcg_reclaim_ns += v->memcg_reclaim_ns;
		sum.oom_kills += v->oom_kills;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			sum.reclaim_hist[b] += v->reclaim_hist[b];
	}
	sum.reclaim_sum_ns = sum.direct_reclaim_ns + sum.memcg_reclaim_ns;
	/* deltas to the node; kernel values only grow for a given entry */
	c->node_mem.direct_reclaims += sum.direct_reclaims - t->direct_reclaims;
	c->node_mem.direct_reclaim_ns += sum.direct_reclaim_ns - t->direct_reclaim_ns;
	c->node_mem.memcg_reclaims += sum.memcg_reclaims - t->memcg_reclaims;
	c->node_mem.memcg_reclaim_ns += sum.memcg_reclaim_ns - t->memcg_reclaim_ns;
	c->node_mem.oom_kills += sum.oom_kills - t->oom_kills;
	c->node_mem.reclaim_sum_ns += sum.reclaim_sum_ns - t->reclaim_sum_ns;
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		c->node_mem.reclaim_hist[b] += sum.reclaim_hist[b] - t->reclaim_hist[b];
	sum.files = t->files;
	*t = sum;
	k->seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, now);
}

typedef void (*account_fn)(struct kp_collector *c, __u64 id, const void *percpu,
			   uint64_t now);

static int read_batch(struct kp_collector *c, int fd, size_t vsz, account_fn fn,
		      uint64_t now, uint64_t *entries)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u64 token = 0;
	bool first = true;

	for (;;) {
		__u32 n = c->batch;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &token,
					       &token, c->keys, c->vals, &n, &o);

		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < n; i++)
			fn(c, c->keys[i], (char *)c->vals + (size_t)i * vsz * c->ncpus, now);
		*entries += n;
		if (err)	/* ENOENT: that was the last batch */
			return 0;
		first = false;
	}
}

static int read_iter(struct kp_collector *c, int fd, account_fn fn, uint64_t now,
		     uint64_t *entries)
{
	__u64 key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(fd, &next, c->vals) == 0) {
			fn(c, next, c->vals, now);
			(*entries)++;
		}
		key = next;
		prev = &key;
	}
	return 0;
}

/* One map, by batches when the kernel can, else key by key. */
static int read_map(struct kp_collector *c, int fd, size_t vsz, account_fn fn,
		    uint64_t now, uint64_t *entries)
{
	int err;

	*entries = 0;
	if (fd < 0)
		return 0;
	if (c->batch_ok) {
		err = read_batch(c, fd, vsz, fn, now, entries);
		if (!err)
			return 0;
		kp_debug("collector: batch lookup unsupported (%s), iterating",
			 strerror(-err));
		c->batch_ok = false;
		*entries = 0;
	}
	return read_iter(c, fd, fn, now, entries);
}

static int on_oom(void *ctx, void *data, size_t size)
{
	struct kp_collector *c = ctx;
	struct kp_oom_record r;
	struct kp_container *k;
	struct timespec rt;
	const char *path;
	uint64_t now = kp_now_mono_ns();

	if (size < sizeof(struct kp_oom_event))
		return 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	kp_oom_record_from_event(&r, data, (uint64_t)c->page_size, now,
				 (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec);
	HASH_FIND(hh, c->by_id, &r.cgid, sizeof(r.cgid), k);
	path = k && k->path ? k->path : kp_cgroups__path(c->cg, r.cgid, now);
	kp_oom_record_set_cgroup(&r, path);
	kp_oom_list_push(c->ooms, &r);
	if (c->oom_log)
		kp_oom_record_log(c->oom_log, &r);
	return 0;
}

/* ---- TCP and request latency (tcp.bpf.c) ---- */

/* Figures of a container with TCP activity; allocated on first sight, so
 * cgroups without sockets cost nothing. */
static struct kp_tcp_totals *tcp_of(struct kp_container *k)
{
	if (!k->tcp)
		k->tcp = calloc(1, sizeof(*k->tcp));
	return k->tcp;
}

/* Fold one key's per-CPU TCP counters into its container and the node. */
static void account_tcp(struct kp_collector *c, __u64 id, const void *percpu,
			uint64_t now)
{
	struct kp_container *k = container_get(c, id);
	struct kp_tcp_totals *t, *n = &c->node_tcp;
	struct kp_tcp_stats sum = {};
	int64_t est = 0;

	if (!k || !(t = tcp_of(k)))
		return;
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		const struct kp_tcp_stats *v = (const void *)((const char *)percpu + cpu * c->tcp_vsz);

		sum.conn_in += v->conn_in;
		sum.conn_out += v->conn_out;
		est += (int64_t)v->established;
		sum.retrans += v->retrans;
		sum.rst_sent += v->rst_sent;
		sum.rst_recv += v->rst_recv;
		sum.rx_bytes += v->rx_bytes;
		sum.tx_bytes += v->tx_bytes;
	}
	/* deltas to the node; the gauge's too, so sockets that outlive
	 * their cgroup's entry still close out node-wide */
	n->conn_in += sum.conn_in - t->conn_in;
	n->conn_out += sum.conn_out - t->conn_out;
	n->established += est - t->established;
	n->retrans += sum.retrans - t->retrans;
	n->rst_sent += sum.rst_sent - t->rst_sent;
	n->rst_recv += sum.rst_recv - t->rst_recv;
	n->rx_bytes += sum.rx_bytes - t->rx_bytes_stats;
	n->tx_bytes += sum.tx_bytes - t->tx_bytes_stats;
	t->rx_bytes += sum.rx_bytes - t->rx_bytes_stats;
	t->tx_bytes += sum.tx_bytes - t->tx_bytes_stats;
	t->conn_in = sum.conn_in;
	t->conn_out = sum.conn_out;
	t->established = est;
	t->retrans = sum.retrans;
	t->rst_sent = sum.rst_sent;
	t->rst_recv = sum.rst_recv;
	t->rx_bytes_stats = sum.rx_bytes;
	t->tx_bytes_stats = sum.tx_bytes;
	k->seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, now);
}

/* The same for the RTT and connect histograms: tcp_hist (@percpu, NULL
 * when the cgroup has no entry) and its RTT hot slot. */
static void account_tcp_hist(struct kp_collector *c, __u64 id, const void *percpu,
			     uint64_t now)
{
	struct kp_container *k = container_get(c, id);
	struct kp_tcp_totals *t, *sum = &c->tcp_tmp, *n = &c->node_tcp;
	const struct kp_req_stats *hot;

	if (!k || !(t = tcp_of(k)))
		return;
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; percpu && cpu < c->ncpus; cpu++) {
		const struct kp_tcp_hist *v = (const void *)((const char *)percpu + cpu * c->hist_vsz);

		sum->rtt_sum_ns += v->rtt_sum_ns;
		sum->connect_sum_ns += v->connect_sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++) {
			sum->rtt_hist[b] += v->rtt_hist[b];
			sum->connect_hist[b] += v->connect_hist[b];
		}
	}
	if ((hot = kp_hot__take(c->hot, id, KP_HOT_TAG(KP_HOT_RTT, 0, 0)))) {
		sum->rtt_sum_ns += hot->sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			sum->rtt_hist[b] += hot->hist[b];
	}
	n->rtt_sum_ns += sum->rtt_sum_ns - t->rtt_sum_ns;
	n->connect_sum_ns += sum->connect_sum_ns - t->connect_sum_ns;
	for (int b = 0; b < KP_HIST_BUCKETS; b++) {
		n->rtt_hist[b] += sum->rtt_hist[b] - t->rtt_hist[b];
		n->connect_hist[b] += sum->connect_hist[b] - t->connect_hist[b];
	}
	t->rtt_sum_ns = sum->rtt_sum_ns;
	t->connect_sum_ns = sum->connect_sum_ns;
	memcpy(t->rtt_hist, sum->rtt_hist, sizeof(t->rtt_hist));
	memcpy(t->connect_hist, sum->connect_hist, sizeof(t->connect_hist));
	k->seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, now);
}

static void lat_add_stats(struct kp_lat *a, const struct kp_req_stats *v)
{
	a->sum_ns += v->sum_ns;
	a->rx_bytes += v->rx_bytes;
	a->tx_bytes += v->tx_bytes;
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		a->hist[b] += v->hist[b];
}

/* One (cgroup, direction, port) key into the container's portset: its
 * req_stats entry (@percpu, NULL when it has none) and hot slot. */
static void account_req(struct kp_collector *c, const struct kp_req_key *key,
			const void *percpu, uint64_t now)
{
	struct kp_lat *sum = &c->lat_tmp, *d = &c->lat_delta;
	const struct kp_req_stats *hot;
	struct kp_tcp_totals *t;
	struct kp_container *k;
	struct kp_portset **ps;
	unsigned int dir = key->dir - 1u;

	if (dir > 1 || !(k = container_get(c, key->cgid)))
		return;
	ps = &k->req[dir];
	if (!*ps && !(*ps = kp_portset__new(c->max_ports)))
		return;
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; percpu && cpu < c->ncpus; cpu++)
		lat_add_stats(sum, (const void *)((const char *)percpu + cpu * c->req_vsz));
	hot = kp_hot__take(c->hot, key->cgid, KP_HOT_TAG(KP_HOT_REQ, key->dir, key->port));
	if (hot)
		lat_add_stats(sum, hot);
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		sum->count += sum->hist[b];
	if (!kp_portset__update(*ps, key->port, sum, d)) {
		kp_lat_add(&c->node_req[dir], d);
		/* the socket bytes handed over with these requests */
		if ((t = tcp_of(k))) {
			t->rx_bytes += d->rx_bytes;
			t->tx_bytes += d->tx_bytes;
			c->node_tcp.rx_bytes += d->rx_bytes;
			c->node_tcp.tx_bytes += d->tx_bytes;
		}
	}
	k->seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, now);
}

/* Keys of @kind that only hot slots hold this round. */
static void account_hot_only(struct kp_collector *c, __u32 kind, uint64_t now)
{
	unsigned int it = 0;
	__u64 cgid;
	__u32 tag;

	while (kp_hot__next_untaken(c->hot, &it, kind, &cgid, &tag)) {
		struct kp_req_key key = { .cgid = cgid, .dir = (__u8)(tag >> 16),
					  .port = (__u16)tag };

		if (kind == KP_HOT_RTT)
			account_tcp_hist(c, cgid, NULL, now);
		else
			account_req(c, &key, NULL, now);
	}
}

/* req_stats has struct keys: its own batch loop, key by key as fallback. */
static int read_req(struct kp_collector *c, uint64_t now, uint64_t *entries)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	struct kp_container *k, *tmp;
	struct kp_req_key key, next, *prev = NULL;
	__u64 token = 0;
	bool first = true;

	*entries = 0;
	if (c->req_fd < 0)
		return 0;
	while (c->batch_ok) {
		__u32 n = c->batch;
		int err = bpf_map_lookup_batch(c->req_fd, first ? NULL : &token, &token,
					       c->req_keys, c->vals, &n, &o);

		if (err && errno != ENOENT) {
			*entries = 0;
			c->batch_ok = false;
			break;
		}
		for (__u32 i = 0; i < n; i++)
			account_req(c, &c->req_keys[i],
				    (char *)c->vals + (size_t)i * c->req_vsz * c->ncpus, now);
		*entries += n;
		if (err)
			goto settle;
		first = false;
	}
	while (bpf_map_get_next_key(c->req_fd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(c->req_fd, &next, c->vals) == 0) {
			account_req(c, &next, c->vals, now);
			(*entries)++;
		}
		key = next;
		prev = &key;
	}
settle:
	account_hot_only(c, KP_HOT_REQ, now);
	HASH_ITER(hh, c->by_id, k, tmp)
		for (int d = 0; d < 2; d++)
			if (k->req[d])
				kp_portset__settle(k->req[d], now);
	return 0;
}

/* A container that is gone leaves the TCP maps too. */
static void tcp_forget(struct kp_collector *c, const struct kp_container *k)
{
	struct kp_req_key key;

	kp_hot__forget(c->hot, k->cgid);
	if (c->tcp_fd >= 0)
		bpf_map_delete_elem(c->tcp_fd, &k->cgid);
	if (c->hist_fd >= 0)
		bpf_map_delete_elem(c->hist_fd, &k->cgid);
	if (c->req_fd < 0)
		return;
	for (int d = 0; d < 2; d++) {
		if (!k->req[d])
			continue;
		for (unsigned int i = 0; i < kp_portset__ports(k->req[d]); i++) {
			memset(&key, 0, sizeof(key));
			key.cgid = k->cgid;
			key.dir = (__u8)(d + 1);
			key.port = kp_portset__port(k->req[d], i);
			bpf_map_delete_elem(c->req_fd, &key);
		}
	}
}

/* Every CPU's slot, read again while a CPU is mid-flush (seq odd: a flush
 * takes nanoseconds); a CPU still mid-flush after that has its pending
 * figures left out, as they may be in cg_stats already. All zero (nothing
 * running, nothing pending) when the map cannot be read. */
static bool read_slots(struct kp_collector *c, struct kp_cpu_slot *slots)
{
	__u32 zero = 0;

	for (int tries = 0; tries < 8; tries++) {
		bool busy = false;

		if (c->slot_fd < 0 || bpf_map_lookup_elem(c->slot_fd, &zero, slots)) {
			memset(slots, 0, sizeof(*slots) * c->ncpus);
			return false;
		}
		for (int i = 0; i < c->ncpus; i++)
			busy |= slots[i].seq & 1;
		if (!busy)
			return true;
	}
	for (int i = 0; i < c->ncpus; i++)
		if (slots[i].seq & 1)
			memset(slots[i].pend, 0, sizeof(slots[i].pend));
	return true;
}

/* Pending figures a racing flush may leave out of a round, below which
 * rereading cg_stats is not worth it (they show at the next round). */
#define LATE_OK_NS 2000000ull

/* Whether a flush on this CPU during the read could leave much out: what
 * was pending on it before. (Entries taken and flushed within the read
 * hold at most the read's own duration.) */
static bool much_pending(const struct kp_cpu_slot *s)
{
	for (int j = 0; j < KP_PEND_CG; j++)
		if (s->pend[j].cpu_ns + s->pend[j].runq_sum_ns >= LATE_OK_NS)
			return true;
	return false;
}

/* cg_stats and the per-CPU slots (what runs now, what is pending and not
 * yet in cg_stats) as of one moment: the slots are read right before and
 * right after cg_stats, and all of it again when a CPU flushed much pending
 * time meanwhile (its seq moved): cg_stats may or may not hold it, and the
 * pending entry no longer does, so it would be missing this round and the
 * totals would jump by it at the next. After a few tries the last read
 * stands: late then, never counted twice. */
static int read_sched(struct kp_collector *c, uint64_t now, uint64_t *entries)
{
	struct kp_cpu_slot *a = c->slots_before, *b = c->slots;
	int err = 0;

	for (int tries = 0; tries < 4; tries++) {
		bool moved = false;

		if (!read_slots(c, a)) {
			memset(b, 0, sizeof(*b) * c->ncpus);
			return read_map(c, c->stats_fd, c->vsz, account, now, entries);
		}
		err = read_map(c, c->stats_fd, c->vsz, account, now, entries);
		if (!read_slots(c, b))
			return err;
		for (int i = 0; i < c->ncpus; i++)
			moved |= a[i].seq != b[i].seq && much_pending(&a[i]);
		if (!moved)
			return err;
	}
	return err;
}

static void raise_u64(uint64_t *total, uint64_t *node, uint64_t seen)
{
	if (seen > *total) {
		*node += seen - *total;
		*total = seen;
	}
}

/* Totals = cg_stats + pending + the slices running now, never going back;
 * the node gains what each container gains. */
static void finalize(struct kp_collector *c, uint64_t now)
{
	const struct kp_cpu_slot *slots = c->slots;	/* read by read_sched */
	struct kp_container *k, *tmp;
	static struct kp_sched_totals obs;

	/* cgroups so far only pending on some CPU */
	for (int i = 0; i < c->ncpus; i++)
		for (int j = 0; j < KP_PEND_CG; j++) {
			__u64 id = slots[i].pend[j].cgid;

			bool dead = false;

			for (unsigned int g = 0; g < 64; g++)
				dead |= c->gone[g] == id;
			if (!id || dead)
				continue;
			k = container_get(c, id);
			if (k && k->seen_gen != c->gen) {
				memset(&k->kern, 0, sizeof(k->kern));
				k->seen_gen = c->gen;
				if (!k->path)
					resolve(c, k, now);
			}
		}
	HASH_ITER(hh, c->by_id, k, tmp) {
		if (k->seen_gen != c->gen)
			continue;
		obs = k->kern;
		for (int i = 0; i < c->ncpus; i++) {
			const struct kp_cpu_slot *sl = &slots[i];

			if (sl->cgid == k->cgid && sl->ts && sl->ts < now)
				obs.cpu_ns += now - sl->ts;
			for (int j = 0; j < KP_PEND_CG; j++) {
				const struct kp_pending *p = &sl->pend[j];

				if (p->cgid != k->cgid)
					continue;
				obs.cpu_ns += p->cpu_ns;
				obs.nvcsw += p->nvcsw;
				obs.nivcsw += p->nivcsw;
				obs.runq_sum_ns += p->runq_sum_ns;
				for (__u32 e = 0; e < p->n && e < KP_PEND_BUCKETS; e++)
					if (p->bucket[e] < KP_HIST_BUCKETS)
						obs.runq_hist[p->bucket[e]] += p->count[e];
			}
		}
		raise_u64(&k->t.cpu_ns, &c->node.cpu_ns, obs.cpu_ns);
		raise_u64(&k->t.nvcsw, &c->node.nvcsw, obs.nvcsw);
		raise_u64(&k->t.nivcsw, &c->node.nivcsw, obs.nivcsw);
		raise_u64(&k->t.runq_sum_ns, &c->node.runq_sum_ns, obs.runq_sum_ns);
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			raise_u64(&k->t.runq_hist[b], &c->node.runq_hist[b], obs.runq_hist[b]);
	}
}

/* Drop cgroups that are gone, from the map and from the model. */
static void gc(struct kp_collector *c)
{
	struct kp_container *k, *tmp;

	HASH_ITER(hh, c->by_id, k, tmp) {
		bool gone = k->seen_gen != c->gen;

		if (!gone && k->path)
			gone = !kp_cgroups__alive(c->cg, k->path, k->cgid);
		if (!gone && !k->path && k->unresolved_tries >= UNRESOLVED_GIVE_UP)
			gone = true;
		if (!gone)
			continue;
		if (k->seen_gen == c->gen) {
			bpf_map_delete_elem(c->stats_fd, &k->cgid);
			if (c->mem_fd >= 0)
				bpf_map_delete_elem(c->mem_fd, &k->cgid);
			tcp_forget(c, k);
		}
		c->gone[c->gone_next++ % 64] = k->cgid;
		HASH_DEL(c->by_id, k);
		container_free(k);
		c->st.removed++;
	}
}

static void read_drops(struct kp_collector *c)
{
	__u64 v[c->ncpus];

	for (__u32 r = 0; r < KP_DROP_MAX; r++) {
		uint64_t sum = 0;

		if (c->drops_fd < 0 || bpf_map_lookup_elem(c->drops_fd, &r, v))
			continue;
		for (int i = 0; i < c->ncpus; i++)
			sum += v[i];
		c->st.drops[r] = sum;
	}
}

/* PSI, usage and limit: a few small files per shown container, for those
 * whose figures are due, at most files_per_collection of them: with many
 * containers a collection's cost stays bounded and the rest wait their
 * turn (those read are fresh, so the next collection reaches the others). */
static void read_files(struct kp_collector *c, uint64_t now)
{
	struct kp_container *k, *tmp;
	unsigned int n = 0;

	HASH_ITER(hh, c->by_id, k, tmp) {
		if (!k->path || (k->files_ns && now - k->files_ns < c->files_every_ns))
			continue;
		if (c->files_per_collection && n++ >= c->files_per_collection)
			break;
		kp_memread__cgroup(c->mr, k->path, &k->mem.files);
		k->files_ns = now;
	}
	kp_memread__node(c->mr, &c->node_mem.files);
	if (kp_diskstats_read(now, &c->disks) && !c->disks_reported) {
		kp_info("collector: cannot read /proc/diskstats; no disk figures (reported once)");
		c->disks_reported = true;
	}
}

static int collect(struct kp_collector *c, uint64_t now, bool files)
{
	uint64_t t0 = kp_now_mono_ns(), entries = 0, mem_entries = 0;
	uint64_t tcp_entries = 0, hist_entries = 0, req_entries = 0;
	int err = 0, err2;

	if (c->stats_fd < 0 && c->mem_fd < 0 && c->tcp_fd < 0)
		return -ENOENT;
	/* events first: a kill in a cgroup about to be collected away still
	 * finds its name */
	kp_collector__poll_events(c);
	c->gen++;
	err = read_sched(c, now, &entries);
	err2 = read_map(c, c->mem_fd, c->mem_vsz, account_mem, now, &mem_entries);
	if (!err)
		err = err2;
	err2 = read_map(c, c->tcp_fd, c->tcp_vsz, account_tcp, now, &tcp_entries);
	if (!err)
		err = err2;
	if (c->hot)
		kp_hot__read(c->hot);
	err2 = read_map(c, c->hist_fd, c->hist_vsz, account_tcp_hist, now, &hist_entries);
	if (!err)
		err = err2;
	account_hot_only(c, KP_HOT_RTT, now);
	read_req(c, now, &req_entries);
	finalize(c, now);
	gc(c);
	read_drops(c);
	if (files)
		read_files(c, now);
	c->st.map_entries = entries;
	c->st.mem_map_entries = mem_entries;
	c->st.tcp_map_entries = tcp_entries;
	c->st.hist_map_entries = hist_entries;
	c->st.req_map_entries = req_entries;
	c->st.hot_map_entries = kp_hot__used(c->hot);
	c->st.hot_map_max_entries = kp_hot__size(c->hot);
	c->st.collections++;
	c->st.last_mono_ns = now;
	c->st.last_duration_s = (double)(kp_now_mono_ns() - t0) / 1e9;
	return err;
}

int kp_collector__collect(struct kp_collector *c, uint64_t now)
{
	return collect(c, now, true);
}

const struct kp_disks *kp_collector__disks(const struct kp_collector *c)
{
	return &c->disks;
}

int kp_collector__refresh(struct kp_collector *c, uint64_t now)
{
	return collect(c, now, false);
}

struct kp_container *kp_collector__containers(const struct kp_collector *c)
{
	return c->by_id;
}

const struct kp_sched_totals *kp_collector__node(const struct kp_collector *c)
{
	return &c->node;
}

const struct kp_collector_stats *kp_collector__stats(const struct kp_collector *c)
{
	return &c->st;
}

const struct kp_mem_totals *kp_collector__node_mem(const struct kp_collector *c)
{
	return &c->node_mem;
}

const struct kp_tcp_totals *kp_collector__node_tcp(const struct kp_collector *c)
{
	return &c->node_tcp;
}

const struct kp_lat *kp_collector__node_req(const struct kp_collector *c, int dir)
{
	return &c->node_req[dir ? 1 : 0];
}

void kp_collector__set_files_budget(struct kp_collector *c, uint64_t every_ns,
				    unsigned int per_collection)
{
	c->files_every_ns = every_ns;
	c->files_per_collection = per_collection;
}

void kp_collector__set_max_ports(struct kp_collector *c, unsigned int n)
{
	c->max_ports = n;
}

int kp_collector__events_fd(const struct kp_collector *c)
{
	return c->rb ? ring_buffer__epoll_fd(c->rb) : -1;
}

int kp_collector__poll_events(struct kp_collector *c)
{
	int n;

	if (!c->rb)
		return 0;
	n = ring_buffer__consume(c->rb);
	if (n < 0)
		kp_debug("collector: reading OOM events: %s", strerror(-n));
	return n;
}

const struct kp_oom_list *kp_collector__oom_events(const struct kp_collector *c)
{
	return c->ooms;
}

void kp_collector__set_oom_log(struct kp_collector *c, FILE *f)
{
	c->oom_log = f;
}
