/* SPDX-License-Identifier: GPL-2.0 */
/* kp_common.bpf.h - what every kpulse BPF object has: the drop counters,
 * the `kpulse slow` ring buffer and the ids of cgroups lately removed
 * (each object declares them, the loader makes all units use one instance
 * of each), and a lookup that creates the entry of a new key. Included
 * once per object, after vmlinux.h. */
#ifndef KP_COMMON_BPF_H
#define KP_COMMON_BPF_H

#include "kpulse_abi.h"

#ifndef E2BIG
#define E2BIG 7
#endif

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/* why events were lost, exported as kpulse_bpf_events_dropped_total */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KP_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* `kpulse slow` events of every kind, over thresholds set in rodata */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);	/* resized by the loader when used */
} slow_events SEC(".maps");

/* v2 cgroups removed lately (cgroup.bpf.c, at cgroup_rmdir): their ids
 * get no new map entries. An LRU: the oldest deaths make room. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KP_DEAD_CGROUPS);
	__type(key, __u64);
	__type(value, __u8);
} cg_dead SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		*n += 1;
}

/* The value of @key in hash @map, made from @zero when absent. Every
 * caller's key starts with a cgroup v2 id: a removed cgroup gets no new
 * entry (NULL, not counted: its figures were final when it went). NULL and
 * a drop when the entry cannot be made: under @full when the map has no
 * room (E2BIG), map_nomem when it had room but no memory at hand. NOEXIST
 * also fails when another CPU made the key meanwhile: the second lookup
 * finds it. */
static __always_inline void *kp_lookup_or_init(void *map, const void *key, const void *zero,
					       __u32 full)
{
	void *v = bpf_map_lookup_elem(map, key);
	long err;

	if (v)
		return v;
	if (bpf_map_lookup_elem(&cg_dead, key))
		return NULL;
	err = bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count_drop(err == -E2BIG ? full : KP_DROP_MAP_NOMEM);
	return v;
}

/* A `kpulse slow` record with its common fields set and the rest zeroed, or
 * NULL (counted as slow_ring_full) when the ring buffer is full. The caller
 * names the task and submits it. */
static __always_inline struct kp_slow_event *slow_reserve(__u32 kind, __u64 cgid,
							 __u64 value_ns, __u64 ts_ns)
{
	struct kp_slow_event *e = bpf_ringbuf_reserve(&slow_events, sizeof(*e), 0);

	if (!e) {
		count_drop(KP_DROP_SLOW_RING_FULL);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = ts_ns;
	e->cgid = cgid;
	e->value_ns = value_ns;
	e->kind = kind;
	return e;
}

/* The current task as the event's task. */
static __always_inline void slow_current_task(struct kp_slow_event *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->pid = (__u32)id;
	e->tgid = id >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

#endif
