/* discover.c - containers found from the cgroup tree, not only from the
 * scheduler's events: a container that has not run since the daemon
 * started (a sleeping one) is listed, with its cgroup-file figures, at
 * the first collection and within DISCOVER_EVERY_NS of appearing. A cgroup
 * counts when it holds tasks of its own (what the scheduler would charge);
 * parents that only group others are left out, as they are today. Found
 * ones stay while their directory is there (gc checks it like any other). */
#include <stdio.h>
#include "collect/cgroup.h"
#include "collect/collector_int.h"
#include "collect/readfile.h"

#define DISCOVER_EVERY_NS (30ull * 1000000000ull)

struct discover_walk {
	struct kp_collector *c;
	unsigned int room;	/* cgroups the model may still take */
};

static bool has_tasks(const char *root, const char *relpath)
{
	char path[8192], buf[32];
	size_t n;

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", root, strcmp(relpath, "/") ? relpath : "");
	return !kp_read_small(path, buf, sizeof(buf), &n) && n > 0;
}

static void consider(void *ctx, uint64_t id, const char *relpath)
{
	struct discover_walk *w = ctx;
	struct kp_container *k;

	if (!w->room || kp_model__find(w->c->m, id) ||
	    !has_tasks(kp_cgroups__root(w->c->cg), relpath))
		return;
	k = kp_collector_seen(w->c, id);
	if (!k)
		return;
	k->marks.discovered = true;
	w->room--;
}

void kp_discover(struct kp_collector *c, uint64_t now, bool walk)
{
	struct discover_walk w = { .c = c };
	struct kp_container *k, *tmp;
	unsigned int cap = c->m->self.map_max_entries[KP_MAP_CG_STATS];

	/* found ones are alive while their directory is: gc checks that */
	KP_MODEL_FOR_EACH(c->m, k, tmp)
		if (k->marks.discovered)
			k->marks.seen_gen = c->gen;
	if (!walk || (c->discovered_ns && now - c->discovered_ns < DISCOVER_EVERY_NS))
		return;
	c->discovered_ns = now;
	/* no more than the kernel map would hold: the same bound */
	w.room = cap > c->m->n_containers ? cap - c->m->n_containers : 0;
	if (kp_cgroups__rescan(c->cg, now))
		return;
	kp_cgroups__foreach(c->cg, consider, &w);
}
