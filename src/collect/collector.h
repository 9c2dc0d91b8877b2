/* collector.h - reads the BPF maps into the model: one entry per live
 * cgroup with cumulative counters and fine histograms, plus host-wide
 * totals. Cgroups that disappear leave the maps and the model. */
#ifndef KPULSE_COLLECTOR_H
#define KPULSE_COLLECTOR_H

#include <stdint.h>
#include <uthash.h>
#include <linux/types.h>
#include "kpulse_abi.h"
#include "collect/container.h"
#include "model/memevents.h"
#include "collect/memfiles.h"
#include "model/ports.h"
#include "collect/diskstats.h"
#include "out/prom.h"

struct kp_loader;
struct kp_cgroups;

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
 * files at the last collection. */
struct kp_mem_totals {
	uint64_t direct_reclaims;
	uint64_t direct_reclaim_ns;
	uint64_t memcg_reclaims;
	uint64_t memcg_reclaim_ns;
	uint64_t oom_kills;
	uint64_t reclaim_sum_ns;	/* both kinds */
	uint64_t reclaim_hist[KP_HIST_BUCKETS];
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

struct kp_container {
	uint64_t cgid;
	char *path;		/* relative to the v2 root; NULL until resolved */
	struct kp_identity ident;
	char cgid_str[24];
	struct kp_sched_totals t;
	struct kp_mem_totals mem;
	struct kp_tcp_totals *tcp;	/* NULL until its sockets did something */
	struct kp_portset *req[2];	/* request latency by port: [0] inbound,
					 * [1] outbound; NULL until seen */
	struct kp_sched_totals kern;	/* cg_stats sums at the last read */
	char *prom_labels;	/* escaped label set, made by the first scrape */
	uint64_t files_ns;	/* when its cgroup files were last read */
	uint64_t seen_gen;
	unsigned int unresolved_tries;
	UT_hash_handle hh;
};

/* The labels of a container's series, on /metrics and in alerts:
 * container, container_id, runtime, cgroup and, for pods, pod_uid; @l gets
 * KP_CONTAINER_LABELS pairs at most and a NULL end. */
#define KP_CONTAINER_LABELS 5
void kp_container_labels(const struct kp_container *k,
			 struct kp_label l[KP_CONTAINER_LABELS + 1]);

struct kp_collector_stats {
	uint64_t collections;
	uint64_t removed;		/* cgroups gone and dropped */
	uint64_t map_entries;		/* cg_stats entries at last read */
	uint64_t map_max_entries;
	uint64_t mem_map_entries;	/* mem_stats entries at last read */
	uint64_t mem_map_max_entries;
	uint64_t tcp_map_entries;	/* tcp_stats entries at last read */
	uint64_t tcp_map_max_entries;
	uint64_t hist_map_entries;	/* tcp_hist entries at last read */
	uint64_t hist_map_max_entries;
	uint64_t req_map_entries;	/* req_stats entries at last read */
	uint64_t req_map_max_entries;
	uint64_t hot_map_entries;	/* hot slots owned at last read */
	uint64_t hot_map_max_entries;
	uint64_t drops[KP_DROP_MAX];
	double last_duration_s;
	uint64_t last_mono_ns;		/* CLOCK_MONOTONIC of last collection */
};

struct kp_collector;

int kp_collector__new(struct kp_collector **out, struct kp_loader *l,
		      struct kp_cgroups *cg);
void kp_collector__free(struct kp_collector *c);
/* Read every map once; @now_ns is CLOCK_MONOTONIC (the clock BPF uses). */
int kp_collector__collect(struct kp_collector *c, uint64_t now_ns);
/* Host disk I/O as of the last collection that read files. */
const struct kp_disks *kp_collector__disks(const struct kp_collector *c);
/* The same without the cgroup files: what a scrape between two collections
 * does, so that it costs map reads, not file opens. */
int kp_collector__refresh(struct kp_collector *c, uint64_t now_ns);

/* The model, read-only for renderers. Containers with path == NULL are not
 * resolved yet and are not to be shown. */
struct kp_container *kp_collector__containers(const struct kp_collector *c);
const struct kp_sched_totals *kp_collector__node(const struct kp_collector *c);
const struct kp_mem_totals *kp_collector__node_mem(const struct kp_collector *c);
const struct kp_tcp_totals *kp_collector__node_tcp(const struct kp_collector *c);
/* Request latency over every port, host-wide: @dir 0 inbound, 1 outbound. */
const struct kp_lat *kp_collector__node_req(const struct kp_collector *c, int dir);
/* Ports with a request-latency series of their own, per container and
 * direction (default 16); set before the first collection. */
void kp_collector__set_max_ports(struct kp_collector *c, unsigned int n);

/* Each container's PSI and memory files are read by a collection when
 * @every_ns passed since they were last read, for at most @per_collection
 * containers per collection (0 and 0, the default: all, every time). */
void kp_collector__set_files_budget(struct kp_collector *c, uint64_t every_ns,
				    unsigned int per_collection);

/* OOM kills arrive through a ring buffer: poll this fd (-1 when the memory
 * programs are not loaded) and call kp_collector__poll_events when it is
 * readable; kp_collector__collect also drains it. */
int kp_collector__events_fd(const struct kp_collector *c);
int kp_collector__poll_events(struct kp_collector *c);
/* The most recent OOM kills (bounded); total counts every one seen. */
const struct kp_oom_list *kp_collector__oom_events(const struct kp_collector *c);
/* Write one line per OOM kill to @f as it arrives (NULL: do not). */
void kp_collector__set_oom_log(struct kp_collector *c, FILE *f);
const struct kp_collector_stats *kp_collector__stats(const struct kp_collector *c);

uint64_t kp_now_mono_ns(void);

#endif
