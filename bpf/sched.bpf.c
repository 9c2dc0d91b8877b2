// SPDX-License-Identifier: GPL-2.0
/* sched.bpf.c - scheduler programs: on-CPU time, context switches and
 * run-queue latency per cgroup v2.
 *
 * Run-queue latency runs from wakeup (sched_wakeup, sched_wakeup_new) or from
 * involuntary preemption (prev still runnable at sched_switch) until the task
 * is switched in, and is charged to that task's cgroup, never the waker's.
 * Every program exists twice: tp_btf (task storage for timestamps, trusted
 * pointers) and raw_tp (pid-keyed LRU hash); userspace loads one twin per
 * tracepoint after probing the kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kp_common.bpf.h"
#include "kp_hist_bucket.h"
#define KP_FIX_SWITCH
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

/* Keeps clang from dropping a bounds check the verifier needs to see. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KP_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct kp_cg_stats);
} cg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kp_cpu_slot);
} cpu_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} task_enq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KP_MAX_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} pid_enq SEC(".maps");

/* Where the kernel keeps schedstat-lite (CONFIG_SCHED_INFO), it already
 * notes when each task was queued (wakeup, or preemption while runnable)
 * in sched_info.last_queued, in rq->clock time, and clears it just after
 * sched_switch: wait = rq->clock - last_queued, exactly what ends up in
 * /proc/<pid>/schedstat. Then no timestamps of our own are needed and the
 * wakeup programs are not attached. The loader sets this after probing. */
const volatile bool use_sched_info = false;

/* `kpulse slow --runq`: events at or over this many ns go to slow_events;
 * 0 (the daemon) makes the verifier drop the whole path. */
const volatile __u64 slow_runq_ns = 0;

static const struct kp_cg_stats zero_stats;

static __always_inline struct kp_cg_stats *cg_get(__u64 cgid)
{
	return kp_lookup_or_init(&cg_stats, &cgid, &zero_stats, KP_DROP_CGROUP_MAP_FULL);
}

static __always_inline __u64 task_cgid(struct task_struct *p, bool btf)
{
	if (btf)
		return p->cgroups->dfl_cgrp->kn->id;
	return BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
}

static __always_inline void enq_set(struct task_struct *p, __u64 now, bool btf)
{
	if (btf) {
		__u64 *ts = bpf_task_storage_get(&task_enq, p, 0,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (ts)
			*ts = now;
		else
			count_drop(KP_DROP_TASK_STORAGE);
	} else {
		__u32 pid = BPF_CORE_READ(p, pid);

		if (bpf_map_update_elem(&pid_enq, &pid, &now, BPF_ANY))
			count_drop(KP_DROP_PID_MAP_FULL);
	}
}

/* Returns the enqueue time of @p and clears it; 0 when none is recorded. */
static __always_inline __u64 enq_take(struct task_struct *p, bool btf)
{
	__u64 *ts, t;

	if (btf) {
		ts = bpf_task_storage_get(&task_enq, p, 0, 0);
		if (!ts)
			return 0;
		t = *ts;
		*ts = 0;
		return t;
	}
	__u32 pid = BPF_CORE_READ(p, pid);

	ts = bpf_map_lookup_elem(&pid_enq, &pid);
	if (!ts)
		return 0;
	t = *ts;
	bpf_map_delete_elem(&pid_enq, &pid);
	return t;
}

/* Off the hot path: only with `kpulse slow`, only over the threshold. */
static __noinline void emit_slow_runq(struct task_struct *prev, struct task_struct *next,
				      __u64 cgid, __u64 d, __u64 now)
{
	struct kp_slow_event *e = slow_reserve(KP_SLOW_RUNQ, cgid, d, now);

	if (!e)
		return;
	e->pid = BPF_CORE_READ(next, pid);
	e->other_pid = BPF_CORE_READ(prev, pid);
	e->tgid = BPF_CORE_READ(next, tgid);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), next->comm);
	bpf_probe_read_kernel_str(e->other_comm, sizeof(e->other_comm), prev->comm);
	bpf_ringbuf_submit(e, 0);
}

/* Move one pending entry's figures into cg_stats. seq is odd meanwhile;
 * the value gets the seq this flush ends at before any figure changes
 * (kpulse_abi.h, struct kp_cg_stats), so userspace can tell, CPU by CPU,
 * whether a value it read holds figures it also saw pending. */
static __noinline void pend_flush(struct kp_cpu_slot *slot, struct kp_pending *p)
{
	struct kp_cg_stats *s;
	__u32 n;

	slot->seq++;
	s = cg_get(p->cgid);
	if (s) {
		s->flush_seq = slot->seq + 1;
		asm volatile("" ::: "memory");	/* stamp first, then figures */
		s->cpu_ns += p->cpu_ns;
		s->nvcsw += p->nvcsw;
		s->nivcsw += p->nivcsw;
		s->runq_sum_ns += p->runq_sum_ns;
		n = p->n;
		for (__u32 i = 0; i < KP_PEND_BUCKETS; i++) {
			__u32 b = p->bucket[i];

			if (i >= n)
				break;
			barrier_var(b);
			if (b < KP_HIST_BUCKETS)
				s->runq_hist[b] += p->count[i];
		}
	}
	p->cpu_ns = 0;
	p->nvcsw = 0;
	p->nivcsw = 0;
	p->runq_sum_ns = 0;
	p->n = 0;
	slot->seq++;
}

/* The pending entry of @cgid on this CPU, taking over the least recently
 * used one (flushed first) when neither holds it. */
static __always_inline struct kp_pending *pend_get(struct kp_cpu_slot *slot, __u64 cgid)
{
	struct kp_pending *p;
	__u32 v;

	if (slot->pend[0].cgid == cgid) {
		slot->victim = 1;
		return &slot->pend[0];
	}
	if (slot->pend[1].cgid == cgid) {
		slot->victim = 0;
		return &slot->pend[1];
	}
	v = slot->victim & 1;
	p = &slot->pend[v];
	if (p->cgid)
		pend_flush(slot, p);
	p->cgid = cgid;
	slot->victim = v ^ 1;
	return p;
}

static __always_inline void pend_hist(struct kp_cpu_slot *slot, struct kp_pending *p,
				      __u32 b, __u64 d)
{
	__u32 n = p->n;

	p->runq_sum_ns += d;
	for (__u32 i = 0; i < KP_PEND_BUCKETS; i++) {
		if (i >= n)
			break;
		if (p->bucket[i] == b) {
			p->count[i]++;
			return;
		}
	}
	if (n >= KP_PEND_BUCKETS) {
		pend_flush(slot, p);	/* keeps the cgroup, empties the rest */
		n = 0;
	}
	barrier_var(n);
	if (n < KP_PEND_BUCKETS) {
		p->bucket[n] = b;
		p->count[n] = 1;
		p->n = n + 1;
	}
}

/* The switch that gave @prev the CPU was not seen: kpulse attached since,
 * or a kernel that leaves some switches untraced (this project's VM hides
 * its agent's). Its slice is then what the scheduler counted since it was
 * picked (se.prev_sum_exec_runtime, kept by the fair class), no more than
 * the time since the last switch seen here; its cgroup is its own. Off the
 * hot path: a seen switch-in is the rule. Returns the cgroup to charge
 * (0: none) and sets @rt0 to the run time the slice began at. */
static __noinline __u64 unseen_start(struct task_struct *prev, __u64 now, __u64 last_ts,
				     __u64 *rt0, bool btf)
{
	__u64 sum, start;

	if (!(btf ? prev->pid : BPF_CORE_READ(prev, pid)))
		return 0;	/* the idle task */
	sum = btf ? prev->se.sum_exec_runtime : BPF_CORE_READ(prev, se.sum_exec_runtime);
	start = btf ? prev->se.prev_sum_exec_runtime
		    : BPF_CORE_READ(prev, se.prev_sum_exec_runtime);
	if (last_ts && now > last_ts && sum - start > now - last_ts)
		start = sum - (now - last_ts);
	*rt0 = start;
	return task_cgid(prev, btf);
}

static __always_inline int handle_switch(bool preempt, struct task_struct *prev,
					 struct task_struct *next,
					 unsigned int prev_state, bool btf)
{
	__u64 now = bpf_ktime_get_ns();
	struct kp_pending *p;
	struct kp_cpu_slot *slot;
	__u32 zero = 0;
	__u64 next_cgid = 0, enq, prev_cgid, prev_rt, prev_ts, rt;
	bool runnable = preempt || prev_state == TASK_RUNNING;
	bool seen;
	int next_pid;

	slot = bpf_map_lookup_elem(&cpu_slot, &zero);
	if (!slot)
		return 0;
	next_pid = btf ? next->pid : BPF_CORE_READ(next, pid);
	if (next_pid)
		next_cgid = task_cgid(next, btf);

	/* The next slice starts now: stored before the last one is charged
	 * (the order userspace relies on, kpulse_abi.h kp_cpu_slot). The
	 * slice that ended is charged the run time the scheduler counted
	 * for it (it updated prev's before this tracepoint). */
	prev_cgid = slot->cgid;
	prev_rt = slot->rt;
	prev_ts = slot->ts;
	seen = slot->task == (__u64)prev;
	slot->ts = now;
	slot->rt = btf ? next->se.sum_exec_runtime : BPF_CORE_READ(next, se.sum_exec_runtime);
	slot->task = (__u64)next;
	asm volatile("" ::: "memory");
	slot->cgid = next_cgid;
	asm volatile("" ::: "memory");
	if (!seen)
		prev_cgid = unseen_start(prev, now, prev_ts, &prev_rt, btf);
	if (prev_cgid) {
		rt = btf ? prev->se.sum_exec_runtime : BPF_CORE_READ(prev, se.sum_exec_runtime);
		p = pend_get(slot, prev_cgid);
		if (rt > prev_rt)
			p->cpu_ns += rt - prev_rt;
		if (runnable)
			p->nivcsw++;
		else
			p->nvcsw++;
	}

	if (!use_sched_info && runnable && (btf ? prev->pid : BPF_CORE_READ(prev, pid)))
		enq_set(prev, now, btf);

	if (next_pid) {
		__u64 d = 0;

		if (use_sched_info) {
			__u64 queued = btf ? next->sched_info.last_queued
					   : BPF_CORE_READ(next, sched_info.last_queued);

			/* next is queued on this CPU: its cfs_rq's rq is ours
			 * (the runqueues symbol itself may not be resolvable) */
			if (queued) {
				__u64 clk = btf ? next->se.cfs_rq->rq->clock
						: BPF_CORE_READ(next, se.cfs_rq, rq, clock);

				if (clk > queued)
					d = clk - queued;
			}
		} else {
			enq = enq_take(next, btf);
			if (enq && now > enq)
				d = now - enq;
		}
		if (d) {
			__u32 b = kp_hist_bucket_of(d);

			p = pend_get(slot, next_cgid);
			pend_hist(slot, p, b, d);
			if (slow_runq_ns && d >= slow_runq_ns)
				emit_slow_runq(prev, next, next_cgid, d, now);
		}
	}
	return 0;
}

/* prev_state: the tracepoint's fourth argument (5.18+) or the task's own
 * state field (core_fixes.bpf.h) */
SEC("tp_btf/sched_switch")
int BPF_PROG(kp_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(preempt, prev, next, kp_switch_prev_state(ctx, prev), true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(kp_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(preempt, prev, next, kp_switch_prev_state(ctx, prev), false);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(kp_wakeup, struct task_struct *p)
{
	enq_set(p, bpf_ktime_get_ns(), true);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(kp_wakeup_raw, struct task_struct *p)
{
	enq_set(p, bpf_ktime_get_ns(), false);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(kp_wakeup_new, struct task_struct *p)
{
	enq_set(p, bpf_ktime_get_ns(), true);
	return 0;
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(kp_wakeup_new_raw, struct task_struct *p)
{
	enq_set(p, bpf_ktime_get_ns(), false);
	return 0;
}
