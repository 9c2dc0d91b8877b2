/* SPDX-License-Identifier: GPL-2.0 */
/* kp_common.bpf.h - what every kpulse BPF object has: the drop counters and
 * the `kpulse slow` ring buffer (each object declares them, the loader
 * makes all units use one instance of each), and a lookup that creates the
 * entry of a new key. Included once per object, after vmlinux.h. */
#ifndef KP_COMMON_BPF_H
#define KP_COMMON_BPF_H

#include "kpulse_abi.h"

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

static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);

	if (n)
		*n += 1;
}

/* The value of @key in hash @map, made from @zero when absent; NULL (and a
 * drop counted under @full) when the map has no room. NOEXIST also fails
 * when another CPU made the key meanwhile: the second lookup finds it. */
static __always_inline void *kp_lookup_or_init(void *map, const void *key, const void *zero,
					       __u32 full)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count_drop(full);
	return v;
}

#endif
