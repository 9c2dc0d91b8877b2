/* schedread.h - one cgroup's scheduler figures as of one moment, from its
 * cg_stats values and the per-CPU slots (sched.bpf.c), without counting a
 * figure twice or leaving one out when a CPU flushes pending figures into
 * cg_stats while userspace reads. Pure: takes the bytes the map lookups
 * copied, does no I/O. */
#ifndef KPULSE_SCHEDREAD_H
#define KPULSE_SCHEDREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "kpulse_abi.h"
#include "model/model.h"

/* True when no CPU was mid-flush (odd seq) in this copy of the slots. */
bool kp_slots_settled(const struct kp_cpu_slot *slots, int ncpus);

/* @out = the figures of cgroup @cgid as of the moment @slots were copied:
 * its cg_stats value (@percpu: @ncpus values @vsz bytes apart, copied after
 * @slots; NULL when it has no entry), what the slots hold pending for it,
 * and the slices it is running, up to @now (taken before the slots were
 * copied). -EAGAIN when a CPU flushed into the value after the slots were
 * copied (flush_seq past that CPU's seq): the value may hold some of what
 * the slots show pending, so copy the slots, then the value, again. @out
 * is filled either way. With @slots NULL: the value alone (what is sure to
 * have happened when the slots cannot be had). */
int kp_sched_sum(const void *percpu, size_t vsz, const struct kp_cpu_slot *slots, int ncpus,
		 uint64_t cgid, uint64_t now, struct kp_sched_totals *out);

#endif
