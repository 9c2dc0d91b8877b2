/* schedread.c - adds up one cgroup's scheduler figures from a copy of the
 * per-CPU slots and a later copy of its cg_stats value.
 *
 * sched_switch keeps each CPU's latest figures in its slot (pending, not
 * yet in cg_stats) and moves them into cg_stats when the CPU's work moves
 * to other cgroups (a flush). A reader copies the slots first, the values
 * after; a flush in between moves figures from where they were seen to
 * where they are seen again. Each flush stamps the value it adds to with
 * the CPU's flush sequence before touching a figure (kpulse_abi.h), so a
 * value whose stamps are all at or below the seqs of the slot copy holds
 * nothing the copy holds pending: value + pending is then exact as of the
 * slot copy. A later stamp means "copy both again" (kp_sched_sum says
 * -EAGAIN); the caller does, for that key alone.
 */
#include <errno.h>
#include <string.h>
#include "collect/schedread.h"

bool kp_slots_settled(const struct kp_cpu_slot *slots, int ncpus)
{
	for (int i = 0; i < ncpus; i++)
		if (slots[i].seq & 1)
			return false;
	return true;
}

static void add_pending(struct kp_sched_totals *t, const struct kp_pending *p)
{
	t->cpu_ns += p->cpu_ns;
	t->nvcsw += p->nvcsw;
	t->nivcsw += p->nivcsw;
	t->runq_sum_ns += p->runq_sum_ns;
	for (__u32 e = 0; e < p->n && e < (__u32)KP_PEND_BUCKETS; e++)
		if (p->bucket[e] < KP_HIST_BUCKETS)
			t->runq_hist[p->bucket[e]] += p->count[e];
}

/* What @cgid has on one CPU's slot: pending figures and the slice it is
 * running (from ts to @now; a slice that began after @now is left out). */
static void add_slot(struct kp_sched_totals *t, const struct kp_cpu_slot *s, uint64_t cgid,
		     uint64_t now)
{
	if (s->cgid == cgid && s->ts && s->ts < now)
		t->cpu_ns += now - s->ts;
	for (int j = 0; j < KP_PEND_CG; j++)
		if (s->pend[j].cgid == cgid)
			add_pending(t, &s->pend[j]);
}

int kp_sched_sum(const void *percpu, size_t vsz, const struct kp_cpu_slot *slots, int ncpus,
		 uint64_t cgid, uint64_t now, struct kp_sched_totals *out)
{
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (int cpu = 0; percpu && cpu < ncpus; cpu++) {
		const struct kp_cg_stats *v = (const void *)((const char *)percpu + (size_t)cpu * vsz);

		out->cpu_ns += v->cpu_ns;
		out->nvcsw += v->nvcsw;
		out->nivcsw += v->nivcsw;
		out->runq_sum_ns += v->runq_sum_ns;
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			out->runq_hist[b] += v->runq_hist[b];
		if (slots && v->flush_seq > slots[cpu].seq)
			ret = -EAGAIN;
	}
	for (int cpu = 0; slots && cpu < ncpus; cpu++)
		add_slot(out, &slots[cpu], cgid, now);
	return ret;
}
