/* collector_int.h - the collector's state, shared by the files that read
 * one BPF unit's maps each (sched_read.c, mem_read.c, tcp_read.c) and the
 * one that drives them (collector.c). Not for use outside src/collect. */
#ifndef KPULSE_COLLECTOR_INT_H
#define KPULSE_COLLECTOR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "collect/collector.h"
#include "collect/mapread.h"
#include "model/model.h"

struct kp_loader;
struct kp_cgroups;
struct kp_memread;
struct kp_noderead;
struct kp_cpuread;
struct kp_runtimes;
struct kp_hot;
struct ring_buffer;
struct kp_gone;

struct kp_collector {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	struct kp_model *m;		/* filled here, read by everyone else */
	struct kp_mapread rd;		/* batch buffers, shared by every map */
	int stats_fd, slot_fd, drops_fd, mem_fd;
	int tcp_fd, hist_fd, req_fd;
	size_t vsz, mem_vsz, tcp_vsz, hist_vsz, req_vsz;	/* per-CPU strides */
	struct kp_req_key *req_keys;	/* batch keys of req_stats */
	struct kp_hot *hot;		/* hot slots; NULL without the TCP unit */
	uint64_t files_every_ns;	/* cgroup files: how often per container */
	unsigned int files_per_collection;	/* and how many at most (0: all) */
	bool disks_reported;
	struct kp_tcp_totals tcp_tmp;
	struct kp_lat lat_tmp, lat_delta;
	int ncpus;
	/* cpu_slot as read right before cg_stats (at slots_ns), and again
	 * for the keys a flush raced (schedread.c) */
	struct kp_cpu_slot *slots, *slots_retry;
	uint64_t slots_ns;
	struct kp_sched_totals *kern;	/* one key's sums, as a read adds them up */
	__u64 *raced;		/* cg_stats keys to read again */
	size_t nraced, raced_cap;
	struct kp_memread *mr;
	struct kp_noderead *noderead;	/* the node files (nodefigs), at ticks */
	struct kp_cpuread *cr;		/* CPU limit and throttling files */
	struct kp_runtimes *rt;		/* names from the runtimes' files; NULL: none */
	struct ring_buffer *rb;
	FILE *oom_log;
	long page_size;
	/* cgroups gone: announced dying, and buried lately (their figures
	 * still pending on an idle CPU must not bring them back); see gone.h */
	struct kp_gone *gone;
	size_t settle_at;	/* deaths waiting that make a collection at once */
	/* a dying cgroup never seen before is read into this one: its last
	 * figures go to the node's totals, it is not kept (seen.c) */
	struct kp_container *scratch;
	__u64 *purge;		/* buried ids seen again: entries to delete */
	size_t npurge, purge_cap;
	struct kp_req_key *purge_req;	/* req_stats keys of those, and of the dying */
	size_t npurge_req, purge_req_cap;
	uint64_t gen;
	uint64_t ticks;			/* interval ticks collected (gc's turns) */
	uint64_t discovered_ns;		/* last walk of discover.c */
	uint64_t now;		/* CLOCK_MONOTONIC of the round being read */
};

/* The container of @id, made when new, marked as seen by this round and
 * named when it can be; NULL when out of memory. For a cgroup that is
 * gone: c->scratch while it is dying (its last figures are read into it,
 * and count only in the node's totals), NULL once buried (its entries are
 * noted for deletion). */
struct kp_container *kp_collector_seen(struct kp_collector *c, uint64_t id);
/* A req_stats key of a gone cgroup: deleted at the end of the round. */
void kp_collector_purge_req(struct kp_collector *c, const struct kp_req_key *key);
/* Room for one more element in a growing array; 0 or -ENOMEM. */
int kp_collector_grow(void **a, size_t *cap, size_t n, size_t size);
/* Paths for the containers the round's reads left without one: one
 * rate-limited walk of the tree, after the reads. */
void kp_collector_resolve_new(struct kp_collector *c, uint64_t now);

/* names.c: a resolved container's name, image and pod from the runtimes'
 * files (one lookup, rate-limited), and another try for every container
 * still unnamed. */
void kp_names_lookup(struct kp_collector *c, struct kp_container *k, uint64_t now);
void kp_names_retry(struct kp_collector *c, uint64_t now);

/* sched_read.c: cg_stats and the per-CPU slots, into the totals: each key
 * of cg_stats by kp_sched_read, the cgroups only the slots name (pending
 * or running, no key yet) by kp_sched_finalize. */
int kp_sched_read(struct kp_collector *c, uint64_t now, uint64_t *entries);
void kp_sched_finalize(struct kp_collector *c, uint64_t now);

/* mem_read.c: mem_stats into the totals; OOM kills from the ring buffer. */
int kp_mem_read(struct kp_collector *c, uint64_t now, uint64_t *entries);
int kp_oom_ring_open(struct kp_collector *c);

/* discover.c: cgroups with tasks of their own, from the tree, even if
 * they never ran while kpulse did (with @walk, at most every 30 s); and
 * every round, those found stay seen while they exist. */
void kp_discover(struct kp_collector *c, uint64_t now, bool walk);

/* tcp_read.c: tcp_stats, tcp_hist, req_stats and the hot slots; a gone
 * container's keys out of those maps. */
int kp_tcp_read(struct kp_collector *c, uint64_t now, uint64_t entries[3]);
void kp_tcp_forget(struct kp_collector *c, const struct kp_container *k);

#endif
