/* latkinds.c - see latkinds.h. */
#include <stddef.h>
#include <string.h>
#include "base/log.h"
#include "cmd/latkinds.h"
#include "kernel/loader.h"
#include "model/model.h"

void kp_hist_add(uint64_t *to, const uint64_t *from)
{
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		to[b] += from[b];
}

static const uint64_t *h_runq(const struct kp_model *c, const struct kp_container *k,
			      int dir, uint64_t *tmp)
{
	(void)dir, (void)tmp;
	return k ? k->t.runq_hist : (&c->node)->runq_hist;
}

static const uint64_t *h_reclaim(const struct kp_model *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	(void)dir, (void)tmp;
	return kp_mem_reclaim_hist(k ? &k->mem : &c->node_mem);
}

static const uint64_t *h_rtt(const struct kp_model *c, const struct kp_container *k,
			     int dir, uint64_t *tmp)
{
	const struct kp_tcp_totals *t = k ? k->tcp : (&c->node_tcp);

	(void)dir, (void)tmp;
	return t ? t->rtt_hist : NULL;
}

static const uint64_t *h_connect(const struct kp_model *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	const struct kp_tcp_totals *t = k ? k->tcp : (&c->node_tcp);

	(void)dir, (void)tmp;
	return t ? t->connect_hist : NULL;
}

/* Every port of the container, named or "other" (their sum is what the
 * kernel counted); the host's figure is already over every port. */
static const uint64_t *h_request(const struct kp_model *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	static struct kp_lat l;

	memset(tmp, 0, KP_HIST_BUCKETS * sizeof(*tmp));
	for (int d = 0; d < 2; d++) {
		const struct kp_portset *ps = k ? k->req[d] : NULL;

		if (dir >= 0 && d != dir)
			continue;
		if (!k)
			kp_hist_add(tmp, (&c->node_req[d])->hist);
		for (unsigned int i = 0; ps && i < kp_portset__named_count(ps); i++) {
			kp_portset__named(ps, i, &l);
			kp_hist_add(tmp, l.hist);
		}
		if (ps && kp_portset__other(ps, &l))
			kp_hist_add(tmp, l.hist);
	}
	return tmp;
}

/* What `latency KIND` and `slow --KIND` know of each latency. */
const struct kp_latency_kind kp_lat_kinds[] = {
	{ "runq", "run-queue latency", "wakeup or preemption -> on CPU",
	  { "sched_switch" }, h_runq, false, KP_SLOW_RUNQ,
	  offsetof(struct kp_loader_opts, slow_runq_ns) },
	{ "rtt", "TCP smoothed RTT", "smoothed RTT of TCP sockets, per segment received",
	  { "tcp_probe" }, h_rtt, false, 0, 0 },
	{ "connect", "TCP connect latency", "active opens, SYN sent -> established",
	  { "inet_sock_set_state" }, h_connect, false, 0, 0 },
	{ "request", "request latency", "first request bytes -> first response bytes",
	  { "sock_send_length", "sock_recv_length" }, h_request, true, KP_SLOW_REQUEST,
	  offsetof(struct kp_loader_opts, slow_request_ns) },
	{ "reclaim", "memory reclaim stalls", "direct and memcg reclaim, begin -> end",
	  { "mm_vmscan_memcg_reclaim_end", "mm_vmscan_direct_reclaim_end" }, h_reclaim, false,
	  KP_SLOW_RECLAIM, offsetof(struct kp_loader_opts, slow_reclaim_ns) },
};
const size_t kp_lat_nkinds = sizeof(kp_lat_kinds) / sizeof(kp_lat_kinds[0]);

const struct kp_latency_kind *kp_lat_kind_by_name(const char *name)
{
	for (size_t i = 0; i < kp_lat_nkinds; i++)
		if (!strcmp(kp_lat_kinds[i].name, name))
			return &kp_lat_kinds[i];
	return NULL;
}

const struct kp_latency_kind *kp_lat_kind_by_slow(unsigned int slow)
{
	for (size_t i = 0; i < kp_lat_nkinds; i++)
		if (slow && kp_lat_kinds[i].slow == slow)
			return &kp_lat_kinds[i];
	return NULL;
}

const char *kp_lat_kind_list(void)
{
	static char buf[128];
	size_t n = 0, k = kp_lat_nkinds;

	buf[0] = 0;
	for (size_t i = 0; i < k; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", kp_lat_kinds[i].name,
			      i + 2 < k ? ", " : i + 2 == k ? " or " : "");
	return buf;
}

bool kp_lat_kind_runs(const struct kp_model *m, const struct kp_latency_kind *lk, const char *cmd)
{
	for (int i = 0; i < 2 && lk->needs[i]; i++) {
		if (kp_self_running(&m->self, lk->needs[i]))
			continue;
		kp_err("%s: %s needs the %s tracepoint, which does not run on this kernel "
		       "(see 'kpulse check')", cmd, lk->name, lk->needs[i]);
		return false;
	}
	return true;
}

uint64_t *kp_lat_kind_threshold(struct kp_loader_opts *lo, const struct kp_latency_kind *lk)
{
	return (uint64_t *)((char *)lo + lk->slow_opt);
}
