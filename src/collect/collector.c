/* collector.c - drives a collection round (see collector.h): each BPF
 * unit's reader (sched_read.c, mem_read.c, tcp_read.c) folds its maps into
 * the model, then cgroups that are gone leave the maps and the model, the
 * kernel's drop counters and kpulse's own state are copied in, and the
 * cgroups' PSI and memory files that are due are read.
 *
 * Kernel values are cumulative per CPU since a cgroup's entry was made, so
 * a read sums the CPUs and the difference to the previous read is the
 * delta; deltas also feed the node totals, which therefore outlive the
 * cgroups that made them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect/cgroup.h"
#include "collect/collector_int.h"
#include "collect/container.h"
#include "collect/diskstats.h"
#include "collect/cpuread.h"
#include "collect/gone.h"
#include "collect/memread.h"
#include "collect/noderead.h"
#include "collect/procstat.h"
#include "kernel/hotslots.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "model/ports.h"

static size_t stride(size_t sz)
{
	return (sz + 7) & ~(size_t)7;
}

static uint64_t max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.max_entries : 0;
}

static void open_maps(struct kp_collector *c)
{
	struct kp_loader *l = c->loader;

	c->stats_fd = kp_loader__map_fd(l, "cg_stats");
	c->slot_fd = kp_loader__map_fd(l, "cpu_slot");
	c->drops_fd = kp_loader__map_fd(l, "drops");
	c->mem_fd = kp_loader__map_fd(l, "mem_stats");
	c->tcp_fd = kp_loader__map_fd(l, "tcp_stats");
	c->hist_fd = kp_loader__map_fd(l, "tcp_hist");
	c->req_fd = kp_loader__map_fd(l, "req_stats");
	c->m->self.map_max_entries[KP_MAP_CG_STATS] = max_entries(c->stats_fd);
	c->m->self.map_max_entries[KP_MAP_MEM_STATS] = max_entries(c->mem_fd);
	c->m->self.map_max_entries[KP_MAP_TCP_STATS] = max_entries(c->tcp_fd);
	c->m->self.map_max_entries[KP_MAP_TCP_HIST] = max_entries(c->hist_fd);
	c->m->self.map_max_entries[KP_MAP_REQ_STATS] = max_entries(c->req_fd);
}

/* Cgroup deaths come through the same ring buffer manager as OOM kills
 * (one fd for the daemon to poll). The kernel wakes the daemon once
 * settle_at deaths wait (cgroup.bpf.c), so dead cgroups leave the maps
 * long before they could fill them; without the ring, gone cgroups are
 * found by their paths, their ids and walks. */
static void read_deaths(struct kp_collector *c, int fd)
{
	int err = 0;

	if (fd < 0)
		return;
	if (c->rb)
		err = ring_buffer__add(c->rb, fd, kp_gone__ring_cb, c->gone);
	else if (!(c->rb = ring_buffer__new(fd, kp_gone__ring_cb, c->gone, NULL)))
		err = -errno;
	if (err)
		kp_err("collector: cannot read cgroup deaths: %s; gone cgroups are "
		       "found by walking the tree", strerror(-err));
}

int kp_collector__new(struct kp_collector **out, struct kp_loader *l,
		      struct kp_cgroups *cg, struct kp_model *m)
{
	struct kp_collector *c = calloc(1, sizeof(*c));
	size_t vmax;

	if (!c)
		return -ENOMEM;
	c->loader = l;
	c->cg = cg;
	c->m = m;
	open_maps(c);
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		c->ncpus = 1;
	c->hot = kp_hot__new(kp_loader__map_fd(l, "hot_owner"), kp_loader__map_fd(l, "hot_vals"),
			     c->ncpus);
	c->vsz = stride(sizeof(struct kp_cg_stats));
	c->mem_vsz = stride(sizeof(struct kp_mem_stats));
	c->tcp_vsz = stride(sizeof(struct kp_tcp_stats));
	c->hist_vsz = stride(sizeof(struct kp_tcp_hist));
	c->req_vsz = stride(sizeof(struct kp_req_stats));
	vmax = c->vsz > c->mem_vsz ? c->vsz : c->mem_vsz;
	if (c->hist_vsz > vmax)
		vmax = c->hist_vsz;
	if (c->req_vsz > vmax)
		vmax = c->req_vsz;
	c->slots = calloc(c->ncpus, sizeof(*c->slots));
	c->slots_retry = calloc(c->ncpus, sizeof(*c->slots_retry));
	c->mr = kp_memread__new(kp_cgroups__root(cg));
	c->noderead = kp_noderead__new();
	c->cr = kp_cpuread__new(kp_cgroups__root(cg));
	c->gone = kp_gone__new();
	c->scratch = calloc(1, sizeof(*c->scratch));
	c->kern = malloc(sizeof(*c->kern));
	if (kp_mapread_init(&c->rd, c->ncpus, sizeof(struct kp_req_key), vmax) ||
	    !c->slots || !c->slots_retry || !c->mr || !c->noderead || !c->cr ||
	    !c->gone || !c->scratch || !c->kern) {
		kp_collector__free(c);
		return -ENOMEM;
	}
	c->page_size = sysconf(_SC_PAGESIZE);
	c->settle_at = KP_DEATH_WAKE(c->m->self.map_max_entries[KP_MAP_CG_STATS]);
	kp_oom_ring_open(c);
	read_deaths(c, kp_loader__map_fd(l, "cg_deaths"));
	*out = c;
	return 0;
}

void kp_collector__free(struct kp_collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	kp_hot__free(c->hot);
	kp_memread__free(c->mr);
	kp_noderead__free(c->noderead);
	kp_cpuread__free(c->cr);
	kp_mapread_fini(&c->rd);
	free(c->slots);
	free(c->slots_retry);
	free(c->raced);
	free(c->kern);
	if (c->scratch) {	/* its path is not its own (seen.c) */
		free(c->scratch->tcp);
		kp_portset__free(c->scratch->req[0]);
		kp_portset__free(c->scratch->req[1]);
		free(c->scratch);
	}
	kp_gone__free(c->gone);
	free(c->purge);
	free(c->purge_req);
	free(c);
}

/* A gone cgroup's entries in every per-cgroup map (req_stats: the ports
 * its container was seen with; others through kp_collector_purge_req) and
 * its hot slots. */
static void forget_entries(struct kp_collector *c, uint64_t id, const struct kp_container *k)
{
	bpf_map_delete_elem(c->stats_fd, &id);
	if (c->mem_fd >= 0)
		bpf_map_delete_elem(c->mem_fd, &id);
	if (k) {
		kp_tcp_forget(c, k);
		return;
	}
	kp_hot__forget(c->hot, id);
	if (c->tcp_fd >= 0)
		bpf_map_delete_elem(c->tcp_fd, &id);
	if (c->hist_fd >= 0)
		bpf_map_delete_elem(c->hist_fd, &id);
}

static void drop_container(struct kp_collector *c, struct kp_container *k)
{
	kp_model__remove(c->m, k);
	c->m->self.removed++;
}

/* One cgroup the kernel said is gone, its last figures read this round:
 * out of the maps and the model. */
static void settle_dying(void *ctx, uint64_t id)
{
	struct kp_collector *c = ctx;
	struct kp_container *k = kp_model__find(c->m, id);

	forget_entries(c, id, k);
	if (k)
		drop_container(c, k);
}

/* Whether to look at @k's directory this time. A look is a stat of its
 * path, a kernfs path walk of some µs: 5 ms a collection at 1,000
 * containers, which a scrape's refresh does without (it has the kernel's
 * announcements and the maps). At ticks every container is looked at,
 * unless the kernel announces deaths: then a directory that went only
 * tells of an announcement that was lost (a full ring; v2 cgroups cannot
 * be renamed), and a share of the containers is looked at each tick, each
 * in turn (every KP_PATH_CHECK_TICKS ticks; cgroup ids are inode numbers,
 * handed out in turn, so the shares are even). */
#define KP_PATH_CHECK_TICKS 16

static bool path_due(const struct kp_collector *c, const struct kp_container *k, bool tick,
		     bool announced)
{
	if (!tick || !k->path)
		return false;
	return !announced || (k->cgid + c->ticks) % KP_PATH_CHECK_TICKS == 0;
}

/* Drop cgroups that are gone, from the maps and from the model: those the
 * kernel announced (or found gone when first seen); those whose directory
 * went (buried when their id is gone too, not when they moved; see
 * path_due); those in no map any more; those no walk of the tree found
 * since they were first seen (one walk settles them all). Then entries
 * buried cgroups came back with. */
static void gc(struct kp_collector *c, bool tick)
{
	struct kp_container *k, *tmp;
	uint64_t removed = c->m->self.removed;
	size_t settled = kp_gone__count_dying(c->gone);
	bool announced = kp_collector__deaths_announced(c);

	kp_gone__settle(c->gone, c->gen, settle_dying, c);
	if (tick)
		c->ticks++;
	KP_MODEL_FOR_EACH(c->m, k, tmp) {
		bool gone = k->marks.seen_gen != c->gen, dead = false;

		if (!gone && path_due(c, k, tick, announced) &&
		    !kp_cgroups__alive(c->cg, k->path, k->cgid)) {
			gone = true;
			dead = kp_cgroups__id_alive(c->cg, k->cgid) == 0;
		}
		if (!gone && !k->path)
			gone = dead = kp_cgroups__missing(c->cg, k->cgid, k->marks.first_walk);
		if (!gone)
			continue;
		if (k->marks.seen_gen == c->gen)
			forget_entries(c, k->cgid, k);
		if (dead)
			kp_gone__bury(c->gone, k->cgid, c->gen);
		drop_container(c, k);
	}
	/* churn: what reading many gone cgroups took, back to the system */
	if (c->m->self.removed - removed + settled >= 64)
		malloc_trim(0);
	for (size_t i = 0; i < c->npurge; i++)
		forget_entries(c, c->purge[i], NULL);
	for (size_t i = 0; i < c->npurge_req && c->req_fd >= 0; i++)
		bpf_map_delete_elem(c->req_fd, &c->purge_req[i]);
	c->npurge = c->npurge_req = 0;
	kp_gone__expire(c->gone, c->gen);
}

void kp_collector__read_drops(struct kp_collector *c)
{
	struct kp_self *s = &c->m->self;
	__u64 v[c->ncpus];

	for (__u32 r = 0; r < KP_DROP_MAX; r++) {
		uint64_t sum = 0;

		if (c->drops_fd < 0 || bpf_map_lookup_elem(c->drops_fd, &r, v))
			continue;
		for (int i = 0; i < c->ncpus; i++)
			sum += v[i];
		if (sum > s->drops[r])	/* data was lost: /health says so for a while */
			s->drops_last_ns[r] = kp_now_mono_ns();
		s->drops[r] = sum;
	}
}

/* Each program's fate and cost, and what the kernel offers, as the
 * loader knows them now. */
static void read_self(struct kp_collector *c)
{
	struct kp_self *s = &c->m->self;
	const struct kp_loader *l = c->loader;

	uint64_t misses = kp_self_misses(s);

	s->n_progs = 0;
	for (unsigned int i = 0; i < kp_loader__prog_count(l) && i < KP_MAX_PROGS; i++) {
		const struct kp_prog_info *p = kp_loader__prog(l, i);
		struct kp_prog_state *ps = &s->progs[s->n_progs++];

		snprintf(ps->tracepoint, sizeof(ps->tracepoint), "%s", p->tracepoint);
		snprintf(ps->attach, sizeof(ps->attach), "%s", p->attach);
		snprintf(ps->reason, sizeof(ps->reason), "%s", p->reason);
		ps->loaded = p->loaded;
		ps->attached = p->attached;
		ps->has_stats = !kp_loader__prog_stats(l, i, &ps->run_ns, &ps->runs, &ps->misses);
	}
	if (kp_self_misses(s) > misses)
		s->misses_last_ns = kp_now_mono_ns();
	kp_loader__features(l, &s->feat);
	s->degraded = kp_loader__degraded(l);
	s->attached = kp_loader__attached(l);
	s->stats_mode = kp_loader__stats_mode(l);
	s->stats_duty = kp_loader__stats_duty(l);
	s->tree_walks = kp_cgroups__walks(c->cg);
	s->gone_source = kp_collector__deaths_announced(c) ? "announced"
			 : kp_cgroups__opens_by_id(c->cg) ? "open_by_id" : "tree_walk";
	if (kp_procstat_read(&s->proc))
		memset(&s->proc, 0, sizeof(s->proc));
}

/* PSI, memory and CPU: a few small files per shown container, for those
 * whose figures are due, at most files_per_collection of them: with many
 * containers a collection's cost stays bounded and the rest wait their
 * turn (those read are fresh, so the next collection reaches the others). */
static void read_files(struct kp_collector *c, uint64_t now)
{
	struct kp_container *k, *tmp;
	unsigned int n = 0;

	KP_MODEL_FOR_EACH_SHOWN(c->m, k, tmp) {
		if (k->marks.files_ns && now - k->marks.files_ns < c->files_every_ns)
			continue;
		if (c->files_per_collection && n++ >= c->files_per_collection)
			break;
		kp_memread__cgroup(c->mr, k->path, &k->mem.files);
		kp_cpuread__cgroup(c->cr, k->path, now, &k->cpu);
		k->marks.files_ns = now;
	}
	c->m->self.cpu_source = kp_cpuread__source(c->cr);
	kp_memread__node(c->mr, &c->m->node_mem.files);
	c->m->self.memcg_shared = kp_memread__shared(c->mr);
	kp_noderead__read(c->noderead, &c->m->nodefigs, now);
	if (kp_diskstats_read(now, &c->m->disks) && !c->disks_reported) {
		kp_info("collector: cannot read /proc/diskstats; no disk figures (reported once)");
		c->disks_reported = true;
	}
}

static int drain_events(struct kp_collector *c)
{
	int n;

	if (!c->rb)
		return 0;
	n = ring_buffer__consume(c->rb);
	if (n < 0)
		kp_debug("collector: reading OOM events and cgroup deaths: %s", strerror(-n));
	return n;
}

/* @tick: an interval tick, which also reads cgroup files, walks the tree
 * when due and looks at directories (gc); otherwise a scrape's refresh or
 * a settling of many deaths: the maps alone. */
static int collect(struct kp_collector *c, uint64_t now, bool tick)
{
	uint64_t t0 = kp_now_mono_ns(), *ent = c->m->self.map_entries, tcp[3] = {};
	int err, err2;

	if (c->stats_fd < 0 && c->mem_fd < 0 && c->tcp_fd < 0)
		return -ENOENT;
	/* events first: a kill in a cgroup about to be collected away still
	 * finds its name, and the deaths announced since are settled */
	drain_events(c);
	c->gen++;
	c->now = now;
	err = kp_sched_read(c, now, &ent[KP_MAP_CG_STATS]);
	err2 = kp_mem_read(c, now, &ent[KP_MAP_MEM_STATS]);
	if (!err)
		err = err2;
	err2 = kp_tcp_read(c, now, tcp);
	if (!err)
		err = err2;
	kp_sched_finalize(c, now);
	kp_collector_resolve_new(c, now);
	kp_discover(c, now, tick);	/* walks at ticks, not at scrapes */
	gc(c, tick);
	kp_names_retry(c, now);
	kp_mapread_trim(&c->rd);
	kp_collector__read_drops(c);
	read_self(c);
	if (tick)
		read_files(c, now);
	ent[KP_MAP_TCP_STATS] = tcp[0];
	ent[KP_MAP_TCP_HIST] = tcp[1];
	ent[KP_MAP_REQ_STATS] = tcp[2];
	ent[KP_MAP_HOT_OWNER] = kp_hot__used(c->hot);
	c->m->self.map_max_entries[KP_MAP_HOT_OWNER] = kp_hot__size(c->hot);
	c->m->self.collections++;
	c->m->self.last_mono_ns = now;
	c->m->self.last_duration_s = (double)(kp_now_mono_ns() - t0) / 1e9;
	return err;
}

void kp_collector__stats_tick(struct kp_collector *c, uint64_t now)
{
	kp_loader__stats_tick(c->loader, now);
	read_self(c);
}

int kp_collector__collect(struct kp_collector *c, uint64_t now)
{
	return collect(c, now, true);
}

int kp_collector__refresh(struct kp_collector *c, uint64_t now)
{
	return collect(c, now, false);
}

void kp_collector__set_runtimes(struct kp_collector *c, struct kp_runtimes *rt)
{
	c->rt = rt;
}

void kp_collector__set_files_budget(struct kp_collector *c, uint64_t every_ns,
				    unsigned int per_collection)
{
	c->files_every_ns = every_ns;
	c->files_per_collection = per_collection;
}

int kp_collector__events_fd(const struct kp_collector *c)
{
	return c->rb ? ring_buffer__epoll_fd(c->rb) : -1;
}

bool kp_collector__deaths_announced(const struct kp_collector *c)
{
	return c->rb && kp_loader__running(c->loader, "cgroup_rmdir");
}

int kp_collector__poll_events(struct kp_collector *c)
{
	int n = drain_events(c);

	/* many cgroups died since the last collection: settle them now */
	if (kp_gone__count_dying(c->gone) >= c->settle_at)
		collect(c, kp_now_mono_ns(), false);
	return n;
}

void kp_collector__set_oom_log(struct kp_collector *c, FILE *f)
{
	c->oom_log = f;
}
