/* sched_read.c - the scheduler unit's maps (sched.bpf.c) into the model.
 *
 * cg_stats holds per-CPU cumulative figures per cgroup since its entry was
 * made; the per-CPU slot map holds, per CPU, the slice running now and what
 * sched_switch batched for the last cgroups it saw and has not flushed into
 * cg_stats yet. A container's total is cg_stats + pending + running, each
 * key's as of one copy of the slots (schedread.c: a key a flush raced is
 * read again); the exported figure never goes back; the node gains what
 * each container gains, so it outlives the cgroups that made it.
 */
#include <string.h>
#include <bpf/bpf.h>
#include "collect/collector_int.h"
#include "collect/gone.h"
#include "collect/schedread.h"

/* What the node gains from a dying cgroup never seen before: all of it. */
static void node_add(struct kp_collector *c, const struct kp_sched_totals *t)
{
	struct kp_sched_totals *n = &c->m->node;

	n->cpu_ns += t->cpu_ns;
	n->nvcsw += t->nvcsw;
	n->nivcsw += t->nivcsw;
	n->runq_sum_ns += t->runq_sum_ns;
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		n->runq_hist[b] += t->runq_hist[b];
}

static void raise_u64(uint64_t *total, uint64_t *node, uint64_t seen)
{
	if (seen > *total) {
		*node += seen - *total;
		*total = seen;
	}
}

/* @k's totals raised to what a read saw (@obs: cg_stats + pending +
 * running, schedread.c), never going back; the node gains what @k gains.
 * Only buckets between @obs's first and last count can rise. Done once
 * per key and read, as soon as its sum is known to be whole. */
static void raise_totals(struct kp_model *m, struct kp_container *k,
			 const struct kp_sched_totals *obs)
{
	int lo = 0, hi = KP_HIST_BUCKETS;

	raise_u64(&k->t.cpu_ns, &m->node.cpu_ns, obs->cpu_ns);
	raise_u64(&k->t.nvcsw, &m->node.nvcsw, obs->nvcsw);
	raise_u64(&k->t.nivcsw, &m->node.nivcsw, obs->nivcsw);
	raise_u64(&k->t.runq_sum_ns, &m->node.runq_sum_ns, obs->runq_sum_ns);
	while (lo < hi && !obs->runq_hist[lo])
		lo++;
	while (hi > lo && !obs->runq_hist[hi - 1])
		hi--;
	for (int b = lo; b < hi; b++)
		raise_u64(&k->t.runq_hist[b], &m->node.runq_hist[b], obs->runq_hist[b]);
}

/* One key's figures (its cg_stats values, what the slots hold pending and
 * the slices running: schedread.c) into its container's totals. A key a
 * flush raced is read again later (reread_raced); a dying cgroup's last
 * figures go to the node at once. */
static void account(void *ctx, const void *key, const void *percpu)
{
	struct kp_collector *c = ctx;
	__u64 id = *(const __u64 *)key;
	struct kp_container *k = kp_collector_seen(c, id);
	struct kp_sched_totals *kern = c->kern;

	if (!k)
		return;
	if (kp_sched_sum(percpu, c->vsz, c->slots, c->ncpus, id, c->slots_ns, kern)) {
		if (k != c->scratch && !kp_collector_grow((void **)&c->raced, &c->raced_cap,
							  c->nraced, sizeof(*c->raced))) {
			c->raced[c->nraced++] = id;
			k->marks.sched_gen = c->gen;	/* not pending-only */
			return;
		}
		/* the value alone: late at worst, never counted twice */
		kp_sched_sum(percpu, c->vsz, NULL, c->ncpus, id, 0, kern);
	}
	if (k == c->scratch) {
		if (!kp_gone__test_and_mark(c->gone, id))
			node_add(c, kern);
		return;
	}
	raise_totals(c->m, k, kern);
	k->marks.sched_gen = c->gen;
}

/* Every CPU's slot, at *@ns (CLOCK_MONOTONIC, taken just before), read
 * again while a CPU is mid-flush (seq odd: a flush takes nanoseconds); a
 * CPU still mid-flush after that has its pending figures left out, as
 * they may be in cg_stats already. All zero (nothing running, nothing
 * pending) when the map cannot be read. */
static bool read_slots(struct kp_collector *c, struct kp_cpu_slot *slots, uint64_t *ns)
{
	__u32 zero = 0;

	for (int tries = 0; tries < 8; tries++) {
		*ns = kp_now_mono_ns();
		if (c->slot_fd < 0 || bpf_map_lookup_elem(c->slot_fd, &zero, slots)) {
			memset(slots, 0, sizeof(*slots) * c->ncpus);
			return false;
		}
		if (kp_slots_settled(slots, c->ncpus))
			return true;
	}
	for (int i = 0; i < c->ncpus; i++)
		if (slots[i].seq & 1)
			memset(slots[i].pend, 0, sizeof(slots[i].pend));
	return true;
}

/* Keys a flush raced: the slots, then each key's value, copied again
 * until they agree; after a few tries the value alone stands (late at
 * worst, never counted twice). A key gone meanwhile keeps what the first
 * read found. */
#define RACE_TRIES 8

static void reread_raced(struct kp_collector *c)
{
	struct kp_container *k;
	uint64_t ns;

	for (int tries = 0; c->nraced && tries < RACE_TRIES; tries++) {
		bool last = tries == RACE_TRIES - 1;
		size_t n = 0;

		if (!read_slots(c, c->slots_retry, &ns))
			last = true;
		for (size_t i = 0; i < c->nraced; i++) {
			__u64 id = c->raced[i];

			k = kp_model__find(c->m, id);
			if (!k || bpf_map_lookup_elem(c->stats_fd, &id, c->rd.vals))
				continue;
			if (kp_sched_sum(c->rd.vals, c->vsz, last ? NULL : c->slots_retry,
					 c->ncpus, id, ns, c->kern))
				c->raced[n++] = id;
			else
				raise_totals(c->m, k, c->kern);
		}
		c->nraced = n;
	}
	c->nraced = 0;
}

/* cg_stats and the per-CPU slots (what runs now, what is pending and not
 * yet in cg_stats) as of one moment per key: the slots are read right
 * before cg_stats, and the keys a flush raced again (schedread.c). */
int kp_sched_read(struct kp_collector *c, uint64_t now, uint64_t *entries)
{
	int err;

	(void)now;
	c->nraced = 0;
	read_slots(c, c->slots, &c->slots_ns);
	err = kp_mapread(&c->rd, c->stats_fd, sizeof(__u64), c->vsz, account, c, entries);
	reread_raced(c);
	return err;
}

/* A cgroup only pending or running on some CPU (not in cg_stats). */
static void pending_only(struct kp_collector *c, __u64 id)
{
	struct kp_container *k;

	if (!id)
		return;
	if (kp_gone__buried(c->gone, id)) {	/* counted when it went */
		kp_gone__hold(c->gone, id, c->gen);
		return;
	}
	k = kp_model__find(c->m, id);
	if (k && k->marks.sched_gen == c->gen)
		return;
	k = kp_collector_seen(c, id);
	if (!k)
		return;
	kp_sched_sum(NULL, 0, c->slots, c->ncpus, id, c->slots_ns, c->kern);
	if (k == c->scratch) {	/* dying, its last figures not counted yet */
		if (!kp_gone__test_and_mark(c->gone, id))
			node_add(c, c->kern);
		return;
	}
	raise_totals(c->m, k, c->kern);
	k->marks.sched_gen = c->gen;
}

/* The cgroups the slots name that cg_stats had no key for. */
void kp_sched_finalize(struct kp_collector *c, uint64_t now)
{
	(void)now;
	for (int i = 0; i < c->ncpus; i++) {
		for (int j = 0; j < KP_PEND_CG; j++)
			pending_only(c, c->slots[i].pend[j].cgid);
		pending_only(c, c->slots[i].cgid);
	}
}
