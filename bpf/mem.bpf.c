// SPDX-License-Identifier: GPL-2.0
/* mem.bpf.c - memory programs: reclaim stalls and OOM kills per cgroup v2.
 *
 * Direct and memcg reclaim begin/end fire in the stalled task's own context,
 * so the stall is timed per task and charged to the current cgroup. OOM
 * kills (mark_victim) run in whichever task hit the limit: the kill is
 * charged to the victim's cgroup, from the tracepoint's task argument, and
 * also sent to userspace as an event through a ring buffer. Under
 * `kpulse slow --reclaim` each stall over a threshold is sent too.
 * Every program exists as tp_btf (task storage) and raw_tp (pid-keyed LRU)
 * twins; userspace loads one twin per tracepoint after probing the kernel.
 * These tracepoints are silent while nothing is short of memory: idle cost
 * is nil.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kp_common.bpf.h"
#include "kp_hist_bucket.h"
#define KP_FIX_VICTIM
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KP_MAX_CGROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct kp_mem_stats);
} mem_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kp_reclaim_start);
} task_reclaim SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KP_MAX_RECLAIM_PIDS);
	__type(key, __u32);
	__type(value, struct kp_reclaim_start);
} pid_reclaim SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KP_OOM_RING_BYTES);
} oom_events SEC(".maps");

/* `kpulse slow --reclaim`: stalls at or over this many ns go to
 * slow_events; 0 (the daemon) makes the verifier drop the whole path. */
const volatile __u64 slow_reclaim_ns = 0;

static const struct kp_mem_stats zero_mem;

/* Kernels before 6.2 (commit f1a7941243c1, "mm: convert mm's rss stats
 * into percpu_counter") kept rss counters as atomics in a struct. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

static __always_inline struct kp_mem_stats *mem_get(__u64 cgid)
{
	return kp_lookup_or_init(&mem_stats, &cgid, &zero_mem, KP_DROP_MEM_MAP_FULL);
}

static __always_inline void reclaim_begin(__u64 kind, bool btf)
{
	struct kp_reclaim_start st = { .ts = bpf_ktime_get_ns(), .kind = kind };

	if (btf) {
		struct kp_reclaim_start *s;

		s = bpf_task_storage_get(&task_reclaim, bpf_get_current_task_btf(), 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (s)
			*s = st;
		else
			count_drop(KP_DROP_TASK_STORAGE);
	} else {
		__u32 pid = (__u32)bpf_get_current_pid_tgid();

		if (bpf_map_update_elem(&pid_reclaim, &pid, &st, BPF_ANY))
			count_drop(KP_DROP_PID_MAP_FULL);
	}
}

/* Off the hot path: only with `kpulse slow`, only over the threshold.
 * Reclaim runs in the stalled task's context: current is the one to name. */
static __noinline void emit_slow_reclaim(__u64 cgid, __u64 d, __u64 kind, __u64 now)
{
	struct kp_slow_event *e = slow_reserve(KP_SLOW_RECLAIM, cgid, d, now);

	if (!e)
		return;
	e->detail = kind;
	slow_current_task(e);
	bpf_ringbuf_submit(e, 0);
}

/* Reclaim does not nest (the reclaimer runs with PF_MEMALLOC), so one slot
 * per task is enough; an end without its begin (attached mid-reclaim) or
 * of the other kind is ignored. */
static __always_inline void reclaim_end(__u64 kind, bool btf)
{
	__u64 now = bpf_ktime_get_ns(), start, d, cgid;
	struct kp_reclaim_start *s;
	struct kp_mem_stats *m;
	__u32 pid = 0, b;

	if (btf) {
		s = bpf_task_storage_get(&task_reclaim, bpf_get_current_task_btf(), 0, 0);
	} else {
		pid = (__u32)bpf_get_current_pid_tgid();
		s = bpf_map_lookup_elem(&pid_reclaim, &pid);
	}
	if (!s)
		return;
	start = s->ts;
	if (!start || s->kind != kind || now < start) {
		s->ts = 0;
		return;
	}
	if (btf)
		s->ts = 0;
	else
		bpf_map_delete_elem(&pid_reclaim, &pid);
	d = now - start;
	cgid = bpf_get_current_cgroup_id();
	if (slow_reclaim_ns && d >= slow_reclaim_ns)
		emit_slow_reclaim(cgid, d, kind, now);
	m = mem_get(cgid);
	if (!m)
		return;
	if (kind == KP_RECLAIM_MEMCG) {
		m->memcg_reclaims++;
		m->memcg_reclaim_ns += d;
	} else {
		m->direct_reclaims++;
		m->direct_reclaim_ns += d;
	}
	b = kp_hist_bucket_of(d);
	barrier_var(b);
	if (b >= KP_HIST_BUCKETS)
		b = KP_HIST_BUCKETS - 1;
	m->reclaim_hist[b]++;
}

/* The kernel's own figure (get_mm_counter(): the shared count, without
 * per-CPU deltas not yet folded in), as its OOM report prints it. */
static __always_inline __u64 mm_counter(struct mm_struct *mm, int member)
{
	long v;

	if (bpf_core_field_exists(((struct mm_struct___old *)0)->rss_stat.count)) {
		struct mm_struct___old *old = (void *)mm;

		v = BPF_CORE_READ(old, rss_stat.count[member].counter);
	} else {
		v = BPF_CORE_READ(mm, rss_stat[member].count);
	}
	return v > 0 ? (__u64)v : 0;
}

/* Usage and limit of @t's memory cgroup, in pages (v1 or v2 alike: both
 * keep a page counter in struct mem_cgroup). */
static __always_inline void memcg_figures(struct task_struct *t, struct kp_oom_event *e)
{
	struct cgroup_subsys_state *css = NULL;
	struct mem_cgroup *memcg;
	struct css_set *cgroups;
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id) ||
	    !bpf_core_type_exists(struct mem_cgroup))
		return;
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return;
	cgroups = BPF_CORE_READ(t, cgroups);
	if (!cgroups || bpf_core_read(&css, sizeof(css), &cgroups->subsys[id]) || !css)
		return;
	/* css is the first member today; the offset keeps it right if not */
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	e->memcg_usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
	e->memcg_limit_pages = BPF_CORE_READ(memcg, memory.max);
}

/* The OOM path is rare and not hot: every read goes through CO-RE probe
 * reads, the same for both twins. */
static __always_inline int handle_victim(struct task_struct *t, __u32 uid)
{
	__u64 cgid = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	struct kp_mem_stats *m = mem_get(cgid);
	struct kp_oom_event *e;
	struct mm_struct *mm;

	if (m)
		m->oom_kills++;
	e = bpf_ringbuf_reserve(&oom_events, sizeof(*e), 0);
	if (!e) {
		count_drop(KP_DROP_EVENT_RING_FULL);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->cgid = cgid;
	e->pid = BPF_CORE_READ(t, pid);
	e->tgid = BPF_CORE_READ(t, tgid);
	e->uid = uid;
	e->oom_score_adj = (__u32)(int)BPF_CORE_READ(t, signal, oom_score_adj);
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	mm = BPF_CORE_READ(t, mm);
	if (mm) {
		e->total_vm_pages = BPF_CORE_READ(mm, total_vm);
		/* MM_* are an anonymous enum (no CO-RE relocation); their
		 * values have not changed since MM_SHMEMPAGES came in 4.5 */
		e->anon_rss_pages = mm_counter(mm, MM_ANONPAGES);
		e->file_rss_pages = mm_counter(mm, MM_FILEPAGES);
		e->shmem_rss_pages = mm_counter(mm, MM_SHMEMPAGES);
		e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	}
	memcg_figures(t, e);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(kp_drcl_b, int order, gfp_t gfp_flags)
{
	reclaim_begin(KP_RECLAIM_DIRECT, true);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(kp_drcl_b_raw, int order, gfp_t gfp_flags)
{
	reclaim_begin(KP_RECLAIM_DIRECT, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(kp_drcl_e, unsigned long nr_reclaimed)
{
	reclaim_end(KP_RECLAIM_DIRECT, true);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(kp_drcl_e_raw, unsigned long nr_reclaimed)
{
	reclaim_end(KP_RECLAIM_DIRECT, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(kp_mrcl_b, int order, gfp_t gfp_flags)
{
	reclaim_begin(KP_RECLAIM_MEMCG, true);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(kp_mrcl_b_raw, int order, gfp_t gfp_flags)
{
	reclaim_begin(KP_RECLAIM_MEMCG, false);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(kp_mrcl_e, unsigned long nr_reclaimed)
{
	reclaim_end(KP_RECLAIM_MEMCG, true);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(kp_mrcl_e_raw, unsigned long nr_reclaimed)
{
	reclaim_end(KP_RECLAIM_MEMCG, false);
	return 0;
}

/* the pre-6.8 form, (pid): see core_fixes.bpf.h */
static __always_inline int victim_by_pid(int pid)
{
	struct task_struct *t = bpf_task_from_pid(pid);

	if (!t)
		return 0;
	handle_victim(t, BPF_CORE_READ(t, cred, uid.val));
	bpf_task_release(t);
	return 0;
}

/* Arguments read from ctx in the branch that uses them: the verifier
 * drops the other, so the pid form never sees a read of ctx[1]. */
SEC("tp_btf/mark_victim")
int BPF_PROG(kp_victim)
{
	if (victim_pid_arg)
		return victim_by_pid((int)ctx[0]);
	return handle_victim((struct task_struct *)ctx[0], (__u32)ctx[1]);
}

SEC("raw_tp/mark_victim")
int BPF_PROG(kp_victim_raw, struct task_struct *t, uid_t uid)
{
	return handle_victim(t, uid);
}
