// SPDX-License-Identifier: GPL-2.0
/* cgroup.bpf.c - cgroup deaths, as the kernel announces them.
 *
 * cgroup:cgroup_rmdir fires when a cgroup directory is removed; its tasks
 * are gone by then (rmdir refuses a populated cgroup), though the last one
 * may still be switched out once. For a v2 cgroup the program puts the id
 * in cg_dead, so that no per-cgroup map makes a new entry for it (a dead
 * cgroup's late figures must not take room from live ones), and in the
 * cg_deaths ring buffer, which the daemon drains at each collection: it
 * reads the cgroup's last figures (they count in the node totals), then
 * deletes its entries everywhere. Nothing wakes the daemon: deaths wait
 * for its next collection. A full ring is counted (death_ring_full) and
 * the daemon's walk of the tree settles the ids it missed.
 * tp_btf and raw_tp twins, as everywhere; a cgroup removal is rare next to
 * a context switch, so neither needs to be cheap.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kp_common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KP_DEATH_RING_BYTES);
} cg_deaths SEC(".maps");

/* Deaths waiting that wake the daemon (KP_DEATH_WAKE of the map size;
 * the loader sets it). */
const volatile __u32 death_wake = KP_DEATH_WAKE(KP_MAX_CGROUPS);

static __always_inline int on_rmdir(struct cgroup *cgrp, bool btf)
{
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u8 one = 1;
	int hier;
	__u64 id;

	/* v1 hierarchies number their cgroups on their own: an id there
	 * may be a live v2 cgroup's. The v2 hierarchy is number 0 (as in
	 * /proc/<pid>/cgroup's "0::/..."). */
	hier = btf ? cgrp->root->hierarchy_id : BPF_CORE_READ(cgrp, root, hierarchy_id);
	if (hier != 0)
		return 0;
	id = btf ? cgrp->kn->id : BPF_CORE_READ(cgrp, kn, id);
	bpf_map_update_elem(&cg_dead, &id, &one, BPF_ANY);
	if (bpf_ringbuf_query(&cg_deaths, BPF_RB_AVAIL_DATA) + KP_DEATH_RECORD_BYTES >=
	    (__u64)death_wake * KP_DEATH_RECORD_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&cg_deaths, &id, sizeof(id), flags))
		count_drop(KP_DROP_DEATH_RING_FULL);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(kp_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	return on_rmdir(cgrp, true);
}

SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(kp_cg_rmdir_raw, struct cgroup *cgrp, const char *path)
{
	return on_rmdir(cgrp, false);
}
