/* tcp_read.c - the TCP unit (tcp.bpf.c) into the model: per-cgroup
 * counters (tcp_stats), RTT and connect histograms (tcp_hist), request
 * latency per (cgroup, direction, port) (req_stats), and the per-CPU hot
 * slots that hold the busiest of those keys instead of the hash maps
 * (hotslots.h): both are added up by key. Request latency goes through
 * each container's portsets (model/ports.h), which bound the ports shown
 * and keep every series monotonic.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "collect/collector_int.h"
#include "kernel/hotslots.h"

/* Fold one key's per-CPU TCP counters into its container and the node. */
static void account_tcp(void *ctx, const void *key, const void *percpu)
{
	struct kp_collector *c = ctx;
	struct kp_container *k = kp_collector_seen(c, *(const __u64 *)key);
	struct kp_tcp_totals *t, *n = &c->m->node_tcp;
	struct kp_tcp_stats sum = {};
	int64_t est = 0;

	if (!k || !(t = kp_model__tcp(k)))
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
}

/* The same for the RTT and connect histograms: tcp_hist (@percpu, NULL
 * when the cgroup has no entry) and its RTT hot slot. */
static void account_tcp_hist(struct kp_collector *c, __u64 id, const void *percpu)
{
	struct kp_container *k = kp_collector_seen(c, id);
	struct kp_tcp_totals *t, *sum = &c->tcp_tmp, *n = &c->m->node_tcp;
	const struct kp_req_stats *hot;

	if (!k || !(t = kp_model__tcp(k)))
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
}

static void account_hist_entry(void *ctx, const void *key, const void *percpu)
{
	account_tcp_hist(ctx, *(const __u64 *)key, percpu);
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
			const void *percpu)
{
	struct kp_lat *sum = &c->lat_tmp, *d = &c->lat_delta;
	const struct kp_req_stats *hot;
	struct kp_tcp_totals *t;
	struct kp_container *k;
	struct kp_portset *ps;
	unsigned int dir = key->dir - 1u;

	if (dir > 1)
		return;
	k = kp_collector_seen(c, key->cgid);
	/* a gone cgroup's key: deleted at the round's end (a dying one's
	 * last figures are read first, into the node's totals) */
	if (!k || k == c->scratch)
		kp_collector_purge_req(c, key);
	if (!k || !(ps = kp_model__ports(c->m, k, (int)dir)))
		return;
	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; percpu && cpu < c->ncpus; cpu++)
		lat_add_stats(sum, (const void *)((const char *)percpu + cpu * c->req_vsz));
	hot = kp_hot__take(c->hot, key->cgid, KP_HOT_TAG(KP_HOT_REQ, key->dir, key->port));
	if (hot)
		lat_add_stats(sum, hot);
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		sum->count += sum->hist[b];
	if (!kp_portset__update(ps, key->port, sum, d)) {
		kp_lat_add(&c->m->node_req[dir], d);
		/* the socket bytes handed over with these requests */
		if ((t = kp_model__tcp(k))) {
			t->rx_bytes += d->rx_bytes;
			t->tx_bytes += d->tx_bytes;
			c->m->node_tcp.rx_bytes += d->rx_bytes;
			c->m->node_tcp.tx_bytes += d->tx_bytes;
		}
	}
}

static void account_req_entry(void *ctx, const void *key, const void *percpu)
{
	account_req(ctx, key, percpu);
}

/* Keys of @kind that only hot slots hold this round. */
static void account_hot_only(struct kp_collector *c, __u32 kind)
{
	unsigned int it = 0;
	__u64 cgid;
	__u32 tag;

	while (kp_hot__next_untaken(c->hot, &it, kind, &cgid, &tag)) {
		struct kp_req_key key = { .cgid = cgid, .dir = (__u8)(tag >> 16),
					  .port = (__u16)tag };

		if (kind == KP_HOT_RTT)
			account_tcp_hist(c, cgid, NULL);
		else
			account_req(c, &key, NULL);
	}
}

/* tcp_stats, tcp_hist and req_stats: @entries gets each map's count. */
int kp_tcp_read(struct kp_collector *c, uint64_t now, uint64_t entries[3])
{
	struct kp_container *k, *tmp;
	int err, err2;

	err = kp_mapread(&c->rd, c->tcp_fd, sizeof(__u64), c->tcp_vsz, account_tcp, c,
			 &entries[0]);
	if (c->hot)
		kp_hot__read(c->hot);
	err2 = kp_mapread(&c->rd, c->hist_fd, sizeof(__u64), c->hist_vsz, account_hist_entry,
			  c, &entries[1]);
	if (!err)
		err = err2;
	account_hot_only(c, KP_HOT_RTT);
	err2 = kp_mapread(&c->rd, c->req_fd, sizeof(struct kp_req_key), c->req_vsz,
			  account_req_entry, c, &entries[2]);
	if (!err)
		err = err2;
	account_hot_only(c, KP_HOT_REQ);
	KP_MODEL_FOR_EACH(c->m, k, tmp)
		for (int d = 0; d < 2; d++)
			if (k->req[d])
				kp_portset__settle(k->req[d], now);
	return err;
}

/* A container that is gone leaves the TCP maps too. */
void kp_tcp_forget(struct kp_collector *c, const struct kp_container *k)
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
