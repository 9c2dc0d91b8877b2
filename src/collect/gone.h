/* gone.h - cgroups that are gone. The kernel announces a v2 cgroup's
 * removal (cgroup.bpf.c, through the cg_deaths ring buffer); the
 * collector reads the dying cgroup's last figures in its next collection,
 * then settles it: its map entries and daemon state go, and it is buried.
 * A buried id is remembered while figures its last tasks left on a CPU
 * may still turn up, so they never bring it back, and forgotten two
 * collections after the last sign of it. A cgroup found gone another way
 * (its directory went, or a walk of the tree missed it) is buried too.
 * Bounded: KP_GONE_MAX ids at most; past that a burial is refused (the
 * walk then settles the id again if it turns up). */
#ifndef KPULSE_GONE_H
#define KPULSE_GONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_GONE_MAX (1u << 16)

struct kp_gone;

struct kp_gone *kp_gone__new(void);	/* NULL when out of memory */
void kp_gone__free(struct kp_gone *g);

/* A libbpf ring_buffer callback for the cg_deaths ring (@ctx: the
 * kp_gone): each record is an announced death. */
int kp_gone__ring_cb(void *ctx, void *data, size_t size);
/* A death, announced or found: that id is dying until settled. */
void kp_gone__note(struct kp_gone *g, uint64_t id);

bool kp_gone__dying(const struct kp_gone *g, uint64_t id);
bool kp_gone__buried(const struct kp_gone *g, uint64_t id);

/* Per dying id, once per collection: set a flag, and say whether it was
 * already set (the collector counts a dying cgroup's last scheduler
 * figures once, from cg_stats or else from the CPUs' slots). Flags clear
 * when the id is settled. False for an id that is not dying. */
bool kp_gone__test_and_mark(struct kp_gone *g, uint64_t id);

/* Every dying id: @fn(@ctx, id), then buried as of collection @gen. */
void kp_gone__settle(struct kp_gone *g, uint64_t gen, void (*fn)(void *ctx, uint64_t id),
		     void *ctx);
/* Bury @id (dying or not) as of collection @gen. -ENOSPC when full. */
int kp_gone__bury(struct kp_gone *g, uint64_t id, uint64_t gen);
/* A buried id showed up again in collection @gen: keep it longer. */
void kp_gone__hold(struct kp_gone *g, uint64_t id, uint64_t gen);
/* Forget ids buried or held last before collection @gen - 1. */
void kp_gone__expire(struct kp_gone *g, uint64_t gen);

size_t kp_gone__count_dying(const struct kp_gone *g);
size_t kp_gone__count_buried(const struct kp_gone *g);
/* Deaths the ring announced so far (kp_gone__ring_cb). */
uint64_t kp_gone__announced_total(const struct kp_gone *g);

#endif
