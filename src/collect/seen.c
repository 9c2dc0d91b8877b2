/* seen.c - a cgroup id the readers met this round: its container in the
 * model, made when new, marked as seen and named from the cgroup tree
 * (see collector_int.h). Shared by every reader, so that they all name
 * cgroups, and give up on ones that cannot be named, the same way.
 *
 * A cgroup that is gone gets no container: while it is dying (its death
 * announced, or found when it was first seen) the readers read its last
 * figures into a scratch container, which only adds them to the node's
 * totals; once buried, its ids' entries are noted for deletion (figures
 * its last tasks left on a CPU, flushed after it went). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "collect/cgroup.h"
#include "collect/collector_int.h"
#include "collect/container.h"
#include "collect/gone.h"
#include "model/ports.h"

/* A path for a new container from the tree's index as it stands; an id
 * it lacks waits for kp_collector_resolve_new(). */
static void resolve(struct kp_collector *c, struct kp_container *k, uint64_t now)
{
	const char *p = kp_cgroups__lookup(c->cg, k->cgid);
	struct kp_identity id;

	if (!p)
		return;
	kp_identity_from_path(p, &id);
	if (!kp_model__resolve(c->m, k, p, &id))
		kp_names_lookup(c, k, now);
}

/* After the maps are read: containers still without a path get one walk
 * of the tree (rate-limited), which began after every id of this round
 * was read, so an id it does not find is gone (gc settles it at once,
 * kp_cgroups__missing). A walk during the read would not tell: an id read
 * after it may be a cgroup made after it. */
void kp_collector_resolve_new(struct kp_collector *c, uint64_t now)
{
	struct kp_container *k, *tmp;
	bool want = false;

	KP_MODEL_FOR_EACH(c->m, k, tmp)
		if (!k->path && k->marks.first_walk == kp_cgroups__walks(c->cg)) {
			want = true;
			break;
		}
	if (!want || !kp_cgroups__walk_due(c->cg, now))
		return;
	KP_MODEL_FOR_EACH(c->m, k, tmp)
		if (!k->path)
			resolve(c, k, now);
}

int kp_collector_grow(void **a, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? 2 * *cap : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*a, ncap * size);
	if (!p)
		return -ENOMEM;
	*a = p;
	*cap = ncap;
	return 0;
}

static void purge_note(struct kp_collector *c, uint64_t id)
{
	kp_gone__hold(c->gone, id, c->gen);
	if (!kp_collector_grow((void **)&c->purge, &c->purge_cap, c->npurge, sizeof(*c->purge)))
		c->purge[c->npurge++] = id;
}

void kp_collector_purge_req(struct kp_collector *c, const struct kp_req_key *key)
{
	if (!kp_collector_grow((void **)&c->purge_req, &c->purge_req_cap, c->npurge_req,
			       sizeof(*c->purge_req)))
		c->purge_req[c->npurge_req++] = *key;
}

/* The scratch container, emptied, for dying cgroup @id. A path (never
 * shown: it is not in the model) keeps it from being resolved. */
static struct kp_container *scratch_get(struct kp_collector *c, uint64_t id)
{
	struct kp_container *k = c->scratch;

	free(k->tcp);
	kp_portset__free(k->req[0]);
	kp_portset__free(k->req[1]);
	memset(k, 0, sizeof(*k));
	k->cgid = id;
	k->path = (char *)"";
	return k;
}

struct kp_container *kp_collector_seen(struct kp_collector *c, uint64_t id)
{
	struct kp_container *k = kp_model__find(c->m, id);

	if (!k) {
		if (kp_gone__buried(c->gone, id)) {
			purge_note(c, id);
			return NULL;
		}
		if (kp_gone__dying(c->gone, id))
			return scratch_get(c, id);
		/* gone already (short-lived, its death not announced): dying
		 * from now on, no container made for it */
		if (kp_cgroups__id_alive(c->cg, id) == 0) {
			kp_gone__note(c->gone, id);
			return scratch_get(c, id);
		}
		k = kp_model__get(c->m, id);
		if (!k)
			return NULL;
		k->marks.first_walk = kp_cgroups__walks(c->cg);
	}
	k->marks.seen_gen = c->gen;
	if (!k->path)
		resolve(c, k, c->now);
	return k;
}
