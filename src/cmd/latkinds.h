/* latkinds.h - the latencies the terminal commands know, in one table:
 * which histogram of the model each reads, which programs it needs, and
 * which `slow --KIND` threshold (BPF rodata) streams its single events. */
#ifndef KPULSE_LATKINDS_H
#define KPULSE_LATKINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kp_model;
struct kp_container;
struct kp_loader_opts;

/* The cumulative histogram (ns buckets) a kind reads from container @k or,
 * when @k is NULL, from the whole host; NULL while there is none. @dir:
 * request direction (0 inbound, 1 outbound, -1 both); @tmp: room for one
 * built on the fly. */
typedef const uint64_t *(*kp_lat_hist_fn)(const struct kp_model *m,
					  const struct kp_container *k, int dir, uint64_t *tmp);

struct kp_latency_kind {
	const char *name;
	const char *title;
	const char *help;
	const char *needs[2];	/* tracepoints whose programs must run */
	kp_lat_hist_fn hist;
	bool has_direction;	/* request latency: --direction applies */
	unsigned int slow;	/* enum kp_slow_kind; 0: no `slow --KIND` */
	size_t slow_opt;	/* its threshold in struct kp_loader_opts */
};

extern const struct kp_latency_kind kp_lat_kinds[];
extern const size_t kp_lat_nkinds;

const struct kp_latency_kind *kp_lat_kind_by_name(const char *name);
const struct kp_latency_kind *kp_lat_kind_by_slow(unsigned int slow);
/* "runq, rtt, connect, request or reclaim" */
const char *kp_lat_kind_list(void);
/* Whether the programs @lk reads from run (per @m's self state); one line
 * naming the missing tracepoint when not. */
bool kp_lat_kind_runs(const struct kp_model *m, const struct kp_latency_kind *lk, const char *cmd);
/* Its threshold in @lo. */
uint64_t *kp_lat_kind_threshold(struct kp_loader_opts *lo, const struct kp_latency_kind *lk);

/* to += from, over every fine bucket. */
void kp_hist_add(uint64_t *to, const uint64_t *from);

#endif
