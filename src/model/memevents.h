/* memevents.h - OOM kills as records: built from the kernel's event, kept
 * in a bounded list of the most recent ones (read by alerts, the slow-event
 * stream and the JSON API), and written as one logfmt line. Pure: no I/O
 * but the FILE it is given. */
#ifndef KPULSE_MEMEVENTS_H
#define KPULSE_MEMEVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "kpulse_abi.h"
#include "model/identity.h"

#define KP_OOM_KEPT 64	/* most recent OOM kills kept in memory */

struct kp_oom_record {
	uint64_t seq;		/* 1, 2, ... in arrival order since start */
	uint64_t mono_ns;	/* CLOCK_MONOTONIC of the kill */
	uint64_t unix_ns;	/* the same instant, wall clock */
	uint64_t cgid;		/* victim's cgroup v2 id */
	char cgroup[512];	/* its path under the v2 root; "" when unknown */
	struct kp_identity ident; /* valid when cgroup[0] */
	uint32_t pid, tgid, uid;
	int32_t oom_score_adj;
	char comm[16];
	uint64_t total_vm_bytes;
	uint64_t anon_rss_bytes;
	uint64_t file_rss_bytes;
	uint64_t shmem_rss_bytes;
	uint64_t pgtables_bytes;
	bool has_memcg;		/* the kernel has memory cgroups */
	bool memcg_limited;
	uint64_t memcg_usage_bytes;	/* the victim's memory cgroup at the kill */
	uint64_t memcg_limit_bytes;	/* when memcg_limited */
};

/* Fill @r from the kernel's @e (pages -> bytes with @page_size); @mono_now
 * and @unix_now are one instant on both clocks, to date the event. The
 * cgroup fields are left empty: set them with kp_oom_record_set_cgroup. */
void kp_oom_record_from_event(struct kp_oom_record *r, const struct kp_oom_event *e,
			      uint64_t page_size, uint64_t mono_now, uint64_t unix_now);
void kp_oom_record_set_cgroup(struct kp_oom_record *r, const char *path,
			      const struct kp_identity *ident);

/* "kpulse: oom_kill pid=.. comm=".." container=".." ..." and a newline;
 * strings quoted, with \" \\ \n and \xNN escapes. */
void kp_oom_record_log(FILE *f, const struct kp_oom_record *r);

/* The bounded list: pushing onto a full list drops the oldest. */
struct kp_oom_list {
	struct kp_oom_record ring[KP_OOM_KEPT];
	uint64_t total;		/* records ever pushed */
};

/* Copies @r in, numbering it; returns the stored copy. */
const struct kp_oom_record *kp_oom_list_push(struct kp_oom_list *l,
					     const struct kp_oom_record *r);
unsigned int kp_oom_list_count(const struct kp_oom_list *l);
/* @i = 0 is the oldest kept; NULL past the end. */
const struct kp_oom_record *kp_oom_list_get(const struct kp_oom_list *l, unsigned int i);

#endif
