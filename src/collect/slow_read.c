/* slow_read.c - see slow_read.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <bpf/libbpf.h>
#include "base/clock.h"
#include "collect/cgroup.h"
#include "collect/container.h"
#include "collect/runtimes.h"
#include "collect/slow_read.h"
#include "model/text.h"
#include "kernel/loader.h"

/* Identities by cgroup id: the runtimes' files are read once per container,
 * not per event. Emptied when full. */
#define NAMED_MAX 1024

struct named {
	uint64_t cgid;
	struct kp_identity id;
	UT_hash_handle hh;
};

struct kp_slow_read {
	struct ring_buffer *rb;
	struct kp_cgroups *cg;
	struct kp_runtimes *rt;
	struct named *named;
	unsigned int n_named;
	kp_slow_fn fn;
	void *ctx;
};

static void named_clear(struct kp_slow_read *r)
{
	struct named *n, *tmp;

	HASH_ITER(hh, r->named, n, tmp) {
		HASH_DEL(r->named, n);
		free(n);
	}
	r->n_named = 0;
}

/* @path's identity, named from the runtimes' files when they can. */
static void identify(struct kp_slow_read *r, uint64_t cgid, const char *path, uint64_t now,
		     struct kp_identity *id)
{
	struct named *n;

	kp_identity_from_path(path, id);
	if (!r->rt || (!id->id[0] && !id->pod_uid[0]))
		return;
	HASH_FIND(hh, r->named, &cgid, sizeof(cgid), n);
	if (n && !strcmp(n->id.id, id->id)) {
		*id = n->id;
		return;
	}
	if (kp_runtimes__name(r->rt, id, now))
		return;	/* not yet: asked again at the next event, rate-limited */
	if (r->n_named >= NAMED_MAX)
		named_clear(r);
	if (!n) {
		if (!(n = calloc(1, sizeof(*n))))
			return;
		n->cgid = cgid;
		HASH_ADD(hh, r->named, cgid, sizeof(n->cgid), n);
		r->n_named++;
	}
	n->id = *id;
}

static int on_event(void *arg, void *data, size_t len)
{
	struct kp_slow_read *r = arg;
	const struct kp_slow_event *e = data;
	uint64_t now = kp_now_mono_ns();
	struct kp_identity id;
	char shown[8192], name[KP_NAME_MAX];
	const char *path;

	if (len < sizeof(*e))
		return 0;
	path = kp_cgroups__path(r->cg, e->cgid, now);
	if (!path)
		path = "?";
	identify(r, e->cgid, path, now, &id);
	/* shown as every output shows names (text.h) */
	kp_visible(path, shown, sizeof(shown));
	kp_visible(id.name, name, sizeof(name));
	snprintf(id.name, sizeof(id.name), "%s", name);
	r->fn(r->ctx, e, shown, &id);
	return 0;
}

void kp_slow_read__set_runtimes(struct kp_slow_read *r, struct kp_runtimes *rt)
{
	r->rt = rt;
}

struct kp_slow_read *kp_slow_read__new(struct kp_loader *l, struct kp_cgroups *cg,
				       kp_slow_fn fn, void *ctx)
{
	struct kp_slow_read *r = calloc(1, sizeof(*r));
	int fd = kp_loader__map_fd(l, "slow_events");

	if (!r)
		return NULL;
	r->cg = cg;
	r->fn = fn;
	r->ctx = ctx;
	if (fd >= 0)
		r->rb = ring_buffer__new(fd, on_event, r, NULL);
	if (!r->rb) {
		free(r);
		errno = fd < 0 ? ENOENT : errno;
		return NULL;
	}
	return r;
}

void kp_slow_read__free(struct kp_slow_read *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	named_clear(r);
	free(r);
}

void kp_slow_read__consume(struct kp_slow_read *r)
{
	ring_buffer__consume(r->rb);
}
