/* model.c - the model's containers: made, named, matched and removed (see
 * model.h). Pure: no maps, files or clocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "model/text.h"

const char *const kp_map_names[KP_MAP_MAX] = {
	[KP_MAP_CG_STATS] = "cg_stats",
	[KP_MAP_MEM_STATS] = "mem_stats",
	[KP_MAP_TCP_STATS] = "tcp_stats",
	[KP_MAP_TCP_HIST] = "tcp_hist",
	[KP_MAP_REQ_STATS] = "req_stats",
	[KP_MAP_HOT_OWNER] = "hot_owner",
};

const char *const kp_drop_names[KP_DROP_MAX] = {
	[KP_DROP_CGROUP_MAP_FULL] = "cgroup_map_full",
	[KP_DROP_TASK_STORAGE] = "task_storage",
	[KP_DROP_PID_MAP_FULL] = "pid_map_full",
	[KP_DROP_MEM_MAP_FULL] = "mem_map_full",
	[KP_DROP_EVENT_RING_FULL] = "event_ring_full",
	[KP_DROP_TCP_MAP_FULL] = "tcp_map_full",
	[KP_DROP_TCP_HIST_MAP_FULL] = "tcp_hist_map_full",
	[KP_DROP_SK_STORAGE] = "sk_storage",
	[KP_DROP_REQ_MAP_FULL] = "req_map_full",
	[KP_DROP_SOCK_MAP_FULL] = "sock_map_full",
	[KP_DROP_SLOW_RING_FULL] = "slow_ring_full",
	[KP_DROP_MAP_NOMEM] = "map_nomem",
	[KP_DROP_DEATH_RING_FULL] = "death_ring_full",
};

struct kp_model *kp_model__new(unsigned int max_ports)
{
	struct kp_model *m = calloc(1, sizeof(*m));

	if (m) {
		m->max_ports = max_ports;
		m->node_mem.reclaim_hist = m->node_reclaim_hist;
	}
	return m;
}

static void container_free(struct kp_container *k)
{
	free(k->path);
	free(k->cgroup);
	free(k->tcp);
	free(k->mem.reclaim_hist);
	kp_portset__free(k->req[0]);
	kp_portset__free(k->req[1]);
	free(k);
}

void kp_model__free(struct kp_model *m)
{
	struct kp_container *k, *tmp;

	if (!m)
		return;
	KP_MODEL_FOR_EACH(m, k, tmp) {
		HASH_DEL(m->containers, k);
		container_free(k);
	}
	free(m);
}

const uint64_t *kp_mem_reclaim_hist(const struct kp_mem_totals *m)
{
	static const uint64_t none[KP_HIST_BUCKETS];

	return m->reclaim_hist ? m->reclaim_hist : none;
}

struct kp_container *kp_model__find(const struct kp_model *m, uint64_t cgid)
{
	struct kp_container *k;

	HASH_FIND(hh, m->containers, &cgid, sizeof(cgid), k);
	return k;
}

struct kp_container *kp_model__get(struct kp_model *m, uint64_t cgid)
{
	struct kp_container *k = kp_model__find(m, cgid);

	if (k)
		return k;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->cgid = cgid;
	snprintf(k->cgid_str, sizeof(k->cgid_str), "%llu", (unsigned long long)cgid);
	HASH_ADD(hh, m->containers, cgid, sizeof(k->cgid), k);
	m->n_containers++;
	return k;
}

int kp_model__resolve(struct kp_model *m, struct kp_container *k, const char *path,
		      const struct kp_identity *ident)
{
	char *p = strdup(path), *shown = kp_visible_dup(path);

	(void)m;
	if (!p || !shown) {
		free(p);
		free(shown);
		return -ENOMEM;
	}
	free(k->path);
	free(k->cgroup);
	k->path = p;
	k->cgroup = shown;
	k->ident = *ident;
	kp_visible(ident->name, k->ident.name, sizeof(k->ident.name));
	kp_visible(ident->id, k->ident.id, sizeof(k->ident.id));
	k->ident_gen++;
	return 0;
}

void kp_model__rename(struct kp_model *m, struct kp_container *k,
		      const struct kp_identity *ident)
{
	(void)m;
	k->ident = *ident;
	/* the runtimes' files are text, but not necessarily printable */
	kp_visible(ident->name, k->ident.name, sizeof(k->ident.name));
	kp_visible(ident->image, k->ident.image, sizeof(k->ident.image));
	kp_visible(ident->pod, k->ident.pod, sizeof(k->ident.pod));
	kp_visible(ident->namespace, k->ident.namespace, sizeof(k->ident.namespace));
	k->ident_gen++;
}

void kp_model__remove(struct kp_model *m, struct kp_container *k)
{
	HASH_DEL(m->containers, k);
	m->n_containers--;
	container_free(k);
}

struct kp_tcp_totals *kp_model__tcp(struct kp_container *k)
{
	if (!k->tcp)
		k->tcp = calloc(1, sizeof(*k->tcp));
	return k->tcp;
}

struct kp_portset *kp_model__ports(const struct kp_model *m, struct kp_container *k,
				   int dir)
{
	struct kp_portset **ps = &k->req[dir ? 1 : 0];

	if (!*ps)
		*ps = kp_portset__new(m->max_ports);
	return *ps;
}

const char *kp_container_id(const struct kp_container *k)
{
	return k->ident.id[0] ? k->ident.id : k->cgid_str;
}

void kp_container_labels(const struct kp_container *k,
			 struct kp_label l[KP_CONTAINER_LABELS + 1])
{
	int n = 0;

	l[n++] = (struct kp_label){ "container", k->ident.name };
	l[n++] = (struct kp_label){ "container_id", kp_container_id(k) };
	l[n++] = (struct kp_label){ "runtime", kp_runtime_name(k->ident.runtime) };
	l[n++] = (struct kp_label){ "cgroup", k->cgroup };
	if (k->ident.image[0])
		l[n++] = (struct kp_label){ "image", k->ident.image };
	if (k->ident.pod[0])
		l[n++] = (struct kp_label){ "pod", k->ident.pod };
	if (k->ident.namespace[0])
		l[n++] = (struct kp_label){ "namespace", k->ident.namespace };
	if (k->ident.pod_uid[0])
		l[n++] = (struct kp_label){ "pod_uid", k->ident.pod_uid };
	l[n] = (struct kp_label){ NULL, NULL };
}

bool kp_container_matches(const struct kp_container *k, const char *pattern)
{
	return kp_match(pattern, k->ident.name, kp_container_id(k), k->cgroup);
}

/* A backslash in a pattern is itself: shown names spell bytes that are not
 * text as \xNN (text.h), and a pattern must find them that way. */
#define GLOB FNM_NOESCAPE

bool kp_match(const char *pattern, const char *name, const char *id, const char *path)
{
	if (!pattern || !*pattern)
		return true;
	return (name && (!fnmatch(pattern, name, GLOB) || strstr(name, pattern))) ||
	       (id && !fnmatch(pattern, id, GLOB)) ||
	       (path && (!fnmatch(pattern, path, GLOB) ||
			 (path[0] == '/' && !fnmatch(pattern, path + 1, GLOB))));
}

/* "<namespace>/<pod>/<name>" */
static bool is_qualified(const struct kp_identity *id, const char *key)
{
	size_t nl = strlen(id->namespace), pl = strlen(id->pod);

	return nl && pl && !strncmp(key, id->namespace, nl) && key[nl] == '/' &&
	       !strncmp(key + nl + 1, id->pod, pl) && key[nl + 1 + pl] == '/' &&
	       !strcmp(key + nl + pl + 2, id->name);
}

bool kp_container_is(const struct kp_container *k, const char *key)
{
	return k->path && (!strcmp(key, kp_container_id(k)) || !strcmp(key, k->ident.name) ||
			   !strcmp(key, k->cgroup) || is_qualified(&k->ident, key));
}

bool kp_self_running(const struct kp_self *s, const char *tracepoint)
{
	for (unsigned int i = 0; i < s->n_progs; i++)
		if (!strcmp(s->progs[i].tracepoint, tracepoint))
			return s->progs[i].attached;
	return false;
}

uint64_t kp_self_misses(const struct kp_self *s)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < s->n_progs; i++)
		if (s->progs[i].has_stats)
			n += s->progs[i].misses;
	return n;
}
