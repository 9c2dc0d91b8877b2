/* mem_read.c - the memory unit (mem.bpf.c) into the model: reclaim stalls
 * and OOM kills per cgroup from mem_stats, and each OOM kill's record from
 * the oom_events ring buffer into the model's bounded list of recent kills
 * (and one log line as it arrives). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "collect/cgroup.h"
#include "collect/collector_int.h"
#include "collect/container.h"
#include "kernel/loader.h"
#include "base/log.h"

/* Fold one key's per-CPU memory values into its container and the node.
 * A container's reclaim histogram is made at its first stall. */
static void account_mem(void *ctx, const void *key, const void *percpu)
{
	static uint64_t hist[KP_HIST_BUCKETS];
	struct kp_collector *c = ctx;
	struct kp_container *k = kp_collector_seen(c, *(const __u64 *)key);
	struct kp_mem_totals sum = {}, *t, *n = &c->m->node_mem;
	bool any = false;

	if (!k)
		return;
	t = &k->mem;
	memset(hist, 0, sizeof(hist));
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		const struct kp_mem_stats *v = (const void *)((const char *)percpu + cpu * c->mem_vsz);

		sum.direct_reclaims += v->direct_reclaims;
		sum.direct_reclaim_ns += v->direct_reclaim_ns;
		sum.memcg_reclaims += v->memcg_reclaims;
		sum.memcg_reclaim_ns += v->memcg_reclaim_ns;
		sum.oom_kills += v->oom_kills;
		for (int b = 0; b < KP_HIST_BUCKETS; b++) {
			hist[b] += v->reclaim_hist[b];
			any |= hist[b] != 0;
		}
	}
	sum.reclaim_sum_ns = sum.direct_reclaim_ns + sum.memcg_reclaim_ns;
	/* deltas to the node; kernel values only grow for a given entry */
	n->direct_reclaims += sum.direct_reclaims - t->direct_reclaims;
	n->direct_reclaim_ns += sum.direct_reclaim_ns - t->direct_reclaim_ns;
	n->memcg_reclaims += sum.memcg_reclaims - t->memcg_reclaims;
	n->memcg_reclaim_ns += sum.memcg_reclaim_ns - t->memcg_reclaim_ns;
	n->oom_kills += sum.oom_kills - t->oom_kills;
	n->reclaim_sum_ns += sum.reclaim_sum_ns - t->reclaim_sum_ns;
	if (any && !t->reclaim_hist)
		t->reclaim_hist = calloc(KP_HIST_BUCKETS, sizeof(*t->reclaim_hist));
	if (t->reclaim_hist) {	/* NULL when out of memory: the counts wait */
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			n->reclaim_hist[b] += hist[b] - t->reclaim_hist[b];
		memcpy(t->reclaim_hist, hist, sizeof(hist));
	}
	sum.reclaim_hist = t->reclaim_hist;
	sum.files = t->files;
	*t = sum;
}

int kp_mem_read(struct kp_collector *c, uint64_t now, uint64_t *entries)
{
	(void)now;
	return kp_mapread(&c->rd, c->mem_fd, sizeof(__u64), c->mem_vsz, account_mem, c, entries);
}

static int on_oom(void *ctx, void *data, size_t size)
{
	struct kp_collector *c = ctx;
	struct kp_oom_record r;
	struct kp_identity id;
	struct kp_container *k;
	struct timespec rt;
	const char *path;
	uint64_t now = kp_now_mono_ns();

	if (size < sizeof(struct kp_oom_event))
		return 0;
	clock_gettime(CLOCK_REALTIME, &rt);
	kp_oom_record_from_event(&r, data, (uint64_t)c->page_size, now,
				 (uint64_t)rt.tv_sec * 1000000000ull + rt.tv_nsec);
	k = kp_model__find(c->m, r.cgid);
	if (k && k->path) {
		kp_oom_record_set_cgroup(&r, k->path, &k->ident);
	} else {
		path = kp_cgroups__path(c->cg, r.cgid, now);
		if (path)
			kp_identity_from_path(path, &id);
		kp_oom_record_set_cgroup(&r, path, path ? &id : NULL);
	}
	kp_oom_list_push(&c->m->ooms, &r);
	if (c->oom_log)
		kp_oom_record_log(c->oom_log, &r);
	return 0;
}

int kp_oom_ring_open(struct kp_collector *c)
{
	int fd = kp_loader__map_fd(c->loader, "oom_events");

	if (fd < 0)
		return 0;
	c->rb = ring_buffer__new(fd, on_oom, c, NULL);
	if (!c->rb) {
		kp_err("collector: cannot read OOM events: %s; OOM kills are "
		       "still counted, not listed", strerror(errno));
		return -errno;
	}
	return 0;
}
