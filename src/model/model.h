/* model.h - the one picture of the host that the collector fills and every
 * analysis and output reads as const: each cgroup ("container") with its
 * cumulative counters, fine histograms and cgroup-file figures; the node's
 * totals, disks and recent OOM kills; and kpulse's own state (programs,
 * map fill, drops, what this kernel offers).
 *
 * Nothing here reads a map, a file or a clock: a test builds a model with
 * these functions and hands it to the analysis and the outputs. Containers
 * live in a uthash table keyed by cgroup id; a container whose path is
 * still NULL has not been resolved in the cgroup tree and is not shown.
 */
#ifndef KPULSE_MODEL_H
#define KPULSE_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>
#include <linux/types.h>
#include "kpulse_abi.h"
#include "model/cgfiles.h"
#include "model/disks.h"
#include "model/identity.h"
#include "model/label.h"
#include "model/memevents.h"
#include "model/nodefigs.h"
#include "model/ports.h"
#include "model/self.h"

/* Counters a cgroup (or the node) accumulates, all cumulative. */
struct kp_sched_totals {
	uint64_t cpu_ns;	/* includes the slice running right now */
	uint64_t nvcsw;
	uint64_t nivcsw;
	uint64_t runq_sum_ns;
	uint64_t runq_hist[KP_HIST_BUCKETS];
};

/* Memory figures of a cgroup (or the node): reclaim stalls and OOM kills
 * from the BPF map, cumulative; PSI, usage and limit from the cgroup's
 * files at their last read. */
struct kp_mem_totals {
	uint64_t direct_reclaims;
	uint64_t direct_reclaim_ns;
	uint64_t memcg_reclaims;
	uint64_t memcg_reclaim_ns;
	uint64_t oom_kills;
	uint64_t reclaim_sum_ns;	/* both kinds */
	/* KP_HIST_BUCKETS counts; a container's is made at its first stall
	 * (4 KiB that most containers never need), NULL before: read it
	 * through kp_mem_reclaim_hist() */
	uint64_t *reclaim_hist;
	struct kp_mem_files files;
};

/* TCP and socket figures of a cgroup (or the node), charged to the cgroup
 * that created the socket; cumulative but for the established gauge. */
struct kp_tcp_totals {
	uint64_t conn_in;	/* passive opens established */
	uint64_t conn_out;	/* active opens established */
	int64_t established;	/* ESTABLISHED now (opened while kpulse ran) */
	uint64_t retrans;
	uint64_t rst_sent;
	uint64_t rst_recv;
	uint64_t rx_bytes;	/* tcp_stats' and req_stats' together */
	uint64_t tx_bytes;
	uint64_t rx_bytes_stats;	/* tcp_stats' part at the last read */
	uint64_t tx_bytes_stats;
	uint64_t rtt_sum_ns;
	uint64_t connect_sum_ns;
	uint64_t rtt_hist[KP_HIST_BUCKETS];
	uint64_t connect_hist[KP_HIST_BUCKETS];
};

/* What the collector keeps per container to do its job (when it last read
 * the cgroup's files, which read saw it last). Outputs never look at it. */
struct kp_collect_marks {
	uint64_t files_ns;		/* when its cgroup files were last read */
	uint64_t seen_gen;
	uint64_t sched_gen;		/* the last read that counted its scheduler figures */
	uint64_t first_walk;		/* tree walks made when first seen */
	bool discovered;		/* found in the cgroup tree, not in a map */
	unsigned int name_tries;	/* runtime file lookups that missed */
	uint64_t name_next_ns;		/* when to look again */
};

struct kp_container {
	uint64_t cgid;
	char *path;		/* relative to the v2 root, raw bytes (for reading
				 * its files); NULL until resolved */
	char *cgroup;		/* the same as every output shows it (text.h) */
	struct kp_identity ident;
	char cgid_str[24];
	struct kp_sched_totals t;
	struct kp_mem_totals mem;
	struct kp_cpu_files cpu;	/* CPU limit and throttling */
	struct kp_tcp_totals *tcp;	/* NULL until its sockets did something */
	struct kp_portset *req[2];	/* request latency by port: [0] inbound,
					 * [1] outbound; NULL until seen */
	struct kp_collect_marks marks;
	unsigned int ident_gen;		/* changes whenever ident does */
	UT_hash_handle hh;
};

struct kp_model {
	struct kp_container *containers;	/* by cgid; see kp_model_shown */
	unsigned int n_containers;
	unsigned int max_ports;		/* named ports per portset */
	struct kp_sched_totals node;
	struct kp_mem_totals node_mem;
	struct kp_tcp_totals node_tcp;
	struct kp_lat node_req[2];	/* request latency over every port */
	struct kp_disks disks;
	struct kp_node_figs nodefigs;	/* node_exporter's figures, at ticks */
	struct kp_oom_list ooms;	/* the most recent OOM kills */
	struct kp_self self;
	uint64_t node_reclaim_hist[KP_HIST_BUCKETS];	/* node_mem's */
};

/* An empty model; NULL when out of memory. @max_ports: ports with their
 * own request-latency series per container and direction. */
struct kp_model *kp_model__new(unsigned int max_ports);
void kp_model__free(struct kp_model *m);

/* The container of @cgid, or NULL. */
struct kp_container *kp_model__find(const struct kp_model *m, uint64_t cgid);
/* The same, made (unresolved, all zero) when absent; NULL when out of
 * memory. */
struct kp_container *kp_model__get(struct kp_model *m, uint64_t cgid);
/* Name a container: its path under the v2 root and who it is (the name
 * is made visible, text.h). Returns 0 or -ENOMEM (the container stays
 * unresolved). */
int kp_model__resolve(struct kp_model *m, struct kp_container *k, const char *path,
		      const struct kp_identity *ident);
/* Its identity once the runtimes' files named it (ident_gen moves, so
 * outputs that keep escaped labels make them again). */
void kp_model__rename(struct kp_model *m, struct kp_container *k,
		      const struct kp_identity *ident);
void kp_model__remove(struct kp_model *m, struct kp_container *k);
/* Its TCP figures, made on first use; NULL when out of memory. */
struct kp_tcp_totals *kp_model__tcp(struct kp_container *k);
/* Its request-latency ports in direction @dir (0 in, 1 out), made on first
 * use; NULL when out of memory. */
struct kp_portset *kp_model__ports(const struct kp_model *m, struct kp_container *k,
				   int dir);

/* Reclaim stalls by latency (KP_HIST_BUCKETS counts), all zero when there
 * has been none. */
const uint64_t *kp_mem_reclaim_hist(const struct kp_mem_totals *m);

/* Shown: resolved in the cgroup tree. */
static inline bool kp_model_shown(const struct kp_container *k)
{
	return k->path != NULL;
}

/* Containers in shown state, and all of them. */
#define KP_MODEL_FOR_EACH(m, k, tmp) HASH_ITER(hh, (m)->containers, k, tmp)
#define KP_MODEL_FOR_EACH_SHOWN(m, k, tmp) KP_MODEL_FOR_EACH(m, k, tmp) if (kp_model_shown(k))

/* The id users see: the runtime's container id, else the cgroup id. */
const char *kp_container_id(const struct kp_container *k);

/* The labels of a container's series, on /metrics and in alerts:
 * container, container_id, runtime, cgroup, image when known and, for
 * Kubernetes, pod, namespace and pod_uid; @l gets KP_CONTAINER_LABELS
 * pairs at most and a NULL end. */
#define KP_CONTAINER_LABELS 8
void kp_container_labels(const struct kp_container *k,
			 struct kp_label l[KP_CONTAINER_LABELS + 1]);

/* Whether @k matches a user's -c / ?container= / rule pattern: a glob on
 * its name, id or cgroup path (with or without the leading '/'), or a
 * substring of its name. NULL or "" matches everything. */
bool kp_container_matches(const struct kp_container *k, const char *pattern);
/* The same rule on bare strings (any may be NULL), for what is not (or no
 * longer) in the model: a slow event's cgroup, an alert's labels. */
bool kp_match(const char *pattern, const char *name, const char *id, const char *path);
/* Whether @key names @k exactly: its id, name or cgroup path, or for a
 * Kubernetes container "<namespace>/<pod>/<name>" (names alone repeat
 * across pods) (/api/v1/containers/{id}, ?container=). */
bool kp_container_is(const struct kp_container *k, const char *key);

#endif
