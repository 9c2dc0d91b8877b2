/* sched_read.c - the scheduler unit's maps (sched.bpf.c) into the model.
 *
 * cg_stats holds per-CPU cumulative figures per cgroup since its entry was
 * made; the per-CPU slot map holds, per CPU, the slice running now and what
 * sched_switch batched for the last cgroups it saw and has not flushed into
 * cg_stats yet. A container's total is cg_stats + pending + running, and
 * the exported figure never goes back; the node gains what each container
 * gains, so it outlives the cgroups that made it.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "collect/collector_int.h"

/* Sum one key's per-CPU cg_stats values into its container's raw sums;
 * kp_sched_finalize() adds what is pending and updates the totals. */
static void account(void *ctx, const void *key, const void *percpu)
{
	struct kp_collector *c = ctx;
	struct kp_container *k = kp_collector_seen(c, *(const __u64 *)key);
	struct kp_sched_totals *sum;

	if (!k)
		return;
	sum = &k->marks.kern;
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

static int read_stats(struct kp_collector *c, uint64_t *entries)
{
	return kp_mapread(&c->rd, c->stats_fd, sizeof(__u64), c->vsz, account, c, entries);
}

/* cg_stats and the per-CPU slots (what runs now, what is pending and not
 * yet in cg_stats) as of one moment: the slots are read right before and
 * right after cg_stats, and all of it again when a CPU flushed much pending
 * time meanwhile (its seq moved): cg_stats may or may not hold it, and the
 * pending entry no longer does, so it would be missing this round and the
 * totals would jump by it at the next. After a few tries the last read
 * stands: late then, never counted twice. */
int kp_sched_read(struct kp_collector *c, uint64_t now, uint64_t *entries)
{
	struct kp_cpu_slot *a = c->slots_before, *b = c->slots;
	int err = 0;

	(void)now;
	for (int tries = 0; tries < 4; tries++) {
		bool moved = false;

		if (!read_slots(c, a)) {
			memset(b, 0, sizeof(*b) * c->ncpus);
			return read_stats(c, entries);
		}
		err = read_stats(c, entries);
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

static bool recently_gone(const struct kp_collector *c, uint64_t id)
{
	for (unsigned int g = 0; g < KP_GONE_KEPT; g++)
		if (c->gone[g] == id)
			return true;
	return false;
}

/* What one container has pending or running on the CPUs, added to @obs. */
static void add_pending(const struct kp_collector *c, uint64_t cgid, uint64_t now,
			struct kp_sched_totals *obs)
{
	for (int i = 0; i < c->ncpus; i++) {
		const struct kp_cpu_slot *sl = &c->slots[i];

		if (sl->cgid == cgid && sl->ts && sl->ts < now)
			obs->cpu_ns += now - sl->ts;
		for (int j = 0; j < KP_PEND_CG; j++) {
			const struct kp_pending *p = &sl->pend[j];

			if (p->cgid != cgid)
				continue;
			obs->cpu_ns += p->cpu_ns;
			obs->nvcsw += p->nvcsw;
			obs->nivcsw += p->nivcsw;
			obs->runq_sum_ns += p->runq_sum_ns;
			for (__u32 e = 0; e < p->n && e < KP_PEND_BUCKETS; e++)
				if (p->bucket[e] < KP_HIST_BUCKETS)
					obs->runq_hist[p->bucket[e]] += p->count[e];
		}
	}
}

/* Totals = cg_stats + pending + the slices running now, never going back;
 * the node gains what each container gains. */
void kp_sched_finalize(struct kp_collector *c, uint64_t now)
{
	static struct kp_sched_totals obs;	/* 4 KiB: not on the stack */
	struct kp_model *m = c->m;
	struct kp_container *k, *tmp;

	/* cgroups so far only pending on some CPU */
	for (int i = 0; i < c->ncpus; i++)
		for (int j = 0; j < KP_PEND_CG; j++) {
			__u64 id = c->slots[i].pend[j].cgid;

			if (!id || recently_gone(c, id))
				continue;
			k = kp_model__find(m, id);
			if (k && k->marks.seen_gen == c->gen)
				continue;
			k = kp_collector_seen(c, id);
			if (k)
				memset(&k->marks.kern, 0, sizeof(k->marks.kern));
		}
	KP_MODEL_FOR_EACH(m, k, tmp) {
		if (k->marks.seen_gen != c->gen)
			continue;
		obs = k->marks.kern;
		add_pending(c, k->cgid, now, &obs);
		raise_u64(&k->t.cpu_ns, &m->node.cpu_ns, obs.cpu_ns);
		raise_u64(&k->t.nvcsw, &m->node.nvcsw, obs.nvcsw);
		raise_u64(&k->t.nivcsw, &m->node.nivcsw, obs.nivcsw);
		raise_u64(&k->t.runq_sum_ns, &m->node.runq_sum_ns, obs.runq_sum_ns);
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			raise_u64(&k->t.runq_hist[b], &m->node.runq_hist[b], obs.runq_hist[b]);
	}
}
