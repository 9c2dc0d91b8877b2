/* gone.c - the dying and the buried: cgroup ids whose removal the kernel
 * announced, until the collector settles them, and ids settled lately,
 * until no trace of them can turn up any more (see gone.h). One hash of
 * ids, each dying or buried. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "collect/gone.h"
#include "base/log.h"

enum { DYING = 1, BURIED = 2 };

struct gone_id {
	uint64_t id;
	uint64_t gen;		/* buried: the last collection it was seen in */
	uint8_t state;
	bool marked;
	UT_hash_handle hh;
};

struct kp_gone {
	struct gone_id *by_id;
	size_t dying, buried;
	uint64_t announced;
	bool full_reported;
};

int kp_gone__ring_cb(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(uint64_t)) {
		uint64_t id;

		memcpy(&id, data, sizeof(id));
		((struct kp_gone *)ctx)->announced++;
		kp_gone__note(ctx, id);
	}
	return 0;
}

struct kp_gone *kp_gone__new(void)
{
	return calloc(1, sizeof(struct kp_gone));
}

void kp_gone__free(struct kp_gone *g)
{
	struct gone_id *e, *tmp;

	if (!g)
		return;
	HASH_ITER(hh, g->by_id, e, tmp) {
		HASH_DEL(g->by_id, e);
		free(e);
	}
	free(g);
}

static struct gone_id *find(const struct kp_gone *g, uint64_t id)
{
	struct gone_id *e;

	HASH_FIND(hh, g->by_id, &id, sizeof(id), e);
	return e;
}

/* The entry of @id, made when absent; NULL when full or out of memory. */
static struct gone_id *get(struct kp_gone *g, uint64_t id)
{
	struct gone_id *e = find(g, id);

	if (e)
		return e;
	if (g->dying + g->buried >= KP_GONE_MAX || !(e = calloc(1, sizeof(*e)))) {
		if (!g->full_reported)
			kp_info("gone: %u gone cgroups remembered; more are settled by "
				"walking the tree (reported once)", KP_GONE_MAX);
		g->full_reported = true;
		return NULL;
	}
	e->id = id;
	HASH_ADD(hh, g->by_id, id, sizeof(e->id), e);
	return e;
}

static void set_state(struct kp_gone *g, struct gone_id *e, uint8_t state)
{
	if (e->state == DYING)
		g->dying--;
	else if (e->state == BURIED)
		g->buried--;
	e->state = state;
	if (state == DYING)
		g->dying++;
	else
		g->buried++;
	e->marked = false;
}

void kp_gone__note(struct kp_gone *g, uint64_t id)
{
	struct gone_id *e;

	if (!id || !(e = get(g, id)) || e->state == BURIED)
		return;
	if (e->state != DYING)
		set_state(g, e, DYING);
}

bool kp_gone__dying(const struct kp_gone *g, uint64_t id)
{
	const struct gone_id *e = g && (g->dying || g->buried) ? find(g, id) : NULL;

	return e && e->state == DYING;
}

bool kp_gone__buried(const struct kp_gone *g, uint64_t id)
{
	const struct gone_id *e = g && g->buried ? find(g, id) : NULL;

	return e && e->state == BURIED;
}

bool kp_gone__test_and_mark(struct kp_gone *g, uint64_t id)
{
	struct gone_id *e = g ? find(g, id) : NULL;
	bool was;

	if (!e || e->state != DYING)
		return false;
	was = e->marked;
	e->marked = true;
	return was;
}

void kp_gone__settle(struct kp_gone *g, uint64_t gen, void (*fn)(void *ctx, uint64_t id),
		     void *ctx)
{
	struct gone_id *e, *tmp;

	if (!g || !g->dying)
		return;
	HASH_ITER(hh, g->by_id, e, tmp) {
		if (e->state != DYING)
			continue;
		fn(ctx, e->id);
		set_state(g, e, BURIED);
		e->gen = gen;
	}
}

int kp_gone__bury(struct kp_gone *g, uint64_t id, uint64_t gen)
{
	struct gone_id *e = g ? get(g, id) : NULL;

	if (!e)
		return -ENOSPC;
	if (e->state != BURIED)
		set_state(g, e, BURIED);
	e->gen = gen;
	return 0;
}

void kp_gone__hold(struct kp_gone *g, uint64_t id, uint64_t gen)
{
	struct gone_id *e = g ? find(g, id) : NULL;

	if (e && e->state == BURIED)
		e->gen = gen;
}

void kp_gone__expire(struct kp_gone *g, uint64_t gen)
{
	struct gone_id *e, *tmp;

	if (!g || !g->buried)
		return;
	HASH_ITER(hh, g->by_id, e, tmp) {
		if (e->state != BURIED || e->gen + 2 > gen)
			continue;
		HASH_DEL(g->by_id, e);
		g->buried--;
		free(e);	/* the last one out frees the table's buckets */
	}
}

size_t kp_gone__count_dying(const struct kp_gone *g)
{
	return g ? g->dying : 0;
}

size_t kp_gone__count_buried(const struct kp_gone *g)
{
	return g ? g->buried : 0;
}

uint64_t kp_gone__announced_total(const struct kp_gone *g)
{
	return g ? g->announced : 0;
}
