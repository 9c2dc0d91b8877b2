/* seen.c - a cgroup id the readers met this round: its container in the
 * model, made when new, marked as seen and named from the cgroup tree
 * (see collector_int.h). Shared by every reader, so that they all name
 * cgroups, and give up on ones that cannot be named, the same way. */
#include "collect/cgroup.h"
#include "collect/collector_int.h"
#include "collect/container.h"

void kp_collector_resolve(struct kp_collector *c, struct kp_container *k, uint64_t now)
{
	uint64_t walks = kp_cgroups__walks(c->cg);
	const char *p = kp_cgroups__path(c->cg, k->cgid, now);
	struct kp_identity id;

	if (!p) {
		/* walks are rate-limited: only a walk that missed the id counts,
		 * else scrapes in quick succession give up on a new cgroup (and
		 * delete its map entries) before any walk could have seen it */
		if (kp_cgroups__walks(c->cg) != walks)
			k->marks.unresolved_tries++;
		return;
	}
	kp_identity_from_path(p, &id);
	if (!kp_model__resolve(c->m, k, p, &id))
		kp_names_lookup(c, k, now);
}

struct kp_container *kp_collector_seen(struct kp_collector *c, uint64_t id)
{
	struct kp_container *k = kp_model__get(c->m, id);

	if (!k)
		return NULL;
	k->marks.seen_gen = c->gen;
	if (!k->path)
		kp_collector_resolve(c, k, c->now);
	return k;
}
