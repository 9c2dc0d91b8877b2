// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - the cheapest useful sched_switch program, a baseline for
 * tools/bench/sched.sh: one clock read, one per-CPU array slot updated.
 * Whatever kpulse's kp_switch costs above this is the price of its own work
 * (cgroup lookups, task storage, histogram), not of being attached at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} floor_sum SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u32 zero = 0;
	__u64 *sum = bpf_map_lookup_elem(&floor_sum, &zero);

	if (sum)
		*sum += bpf_ktime_get_ns();
	return 0;
}
