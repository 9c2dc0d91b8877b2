/* features.c - see features.h. Versions are those of the form kpulse
 * attaches to (for a tracepoint, its current arguments); where an older
 * form exists and kpulse has a fallback for it, the row says so. */
#include <string.h>
#include "outputs/features.h"

static const struct {
	const char *name;
	const char *since;
} rows[] = {
	/* kernel facilities */
	{ "btf", "5.2" },		/* /sys/kernel/btf/vmlinux */
	{ "tp_btf", "5.5" },		/* else the raw_tp twins (4.17) */
	{ "batch_lookup", "5.6" },	/* else one lookup per key */
	{ "bpf_stats", "5.8" },		/* BPF_ENABLE_STATS */
	{ "ring_buffer", "5.8" },	/* OOM event records, `slow` */
	{ "cap_bpf", "5.8" },		/* else CAP_SYS_ADMIN */
	{ "task_storage", "5.11" },	/* own run-queue stamps without sched_info */
	{ "sk_storage", "5.11" },	/* socket state from tracing programs */
	{ "rdonly_cast", "6.2" },	/* tp_btf TCP programs; raw_tp twins before */
	{ "psi", "4.20" },
	/* tracepoints */
	{ "sched_switch", "4.17" },
	/* prev_state argument; the task's state field before (core_fixes) */
	{ "switch_state", "5.18" },
	{ "sched_wakeup", "4.17" },
	{ "sched_wakeup_new", "4.17" },
	{ "mm_vmscan_direct_reclaim_begin", "4.17" },
	{ "mm_vmscan_direct_reclaim_end", "4.17" },
	{ "mm_vmscan_memcg_reclaim_begin", "4.17" },
	{ "mm_vmscan_memcg_reclaim_end", "4.17" },
	/* (task, uid); (pid) before: the task found by pid from 6.2
	 * (core_fixes.bpf.h), no OOM records before that */
	{ "mark_victim", "6.8" },
	{ "inet_sock_set_state", "4.17" },
	{ "tcp_probe", "4.17" },
	{ "tcp_retransmit_skb", "4.17" },
	{ "tcp_send_reset", "4.17" },
	{ "tcp_receive_reset", "4.17" },
	{ "sock_send_length", "6.3" },
	{ "sock_recv_length", "6.3" },
};

const char *kp_feature_since(const char *name)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!strcmp(rows[i].name, name))
			return rows[i].since;
	return NULL;
}
