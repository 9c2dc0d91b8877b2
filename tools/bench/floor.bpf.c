// SPDX-License-Identifier: GPL-2.0
/* floor.bpf.c - the cheapest useful programs on the tracepoints kpulse
 * uses, baselines for tools/bench: sched_switch reads the clock once and
 * adds to a per-CPU array slot (sched.sh); the socket and TCP ones only
 * count their events (tcp.sh). Whatever kpulse costs above these is the
 * price of its own work (cgroup lookups, socket storage, histograms), not
 * of being attached at all. floor.c attaches the ones named on its command
 * line.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
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

/* one event counted in slot @i of this CPU */
static __always_inline int count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&floor_sum, &i);

	if (n)
		*n += 1;
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags)
{
	return count(1);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags)
{
	return count(2);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(floor_probe, struct sock *sk, const struct sk_buff *skb)
{
	return count(3);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_state, const struct sock *sk, int oldstate, int newstate)
{
	return count(4);
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(floor_data_ready, const struct sock *sk)
{
	return count(5);
}
