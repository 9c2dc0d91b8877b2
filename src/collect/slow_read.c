/* slow_read.c - see slow_read.h. */
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "base/clock.h"
#include "collect/cgroup.h"
#include "collect/container.h"
#include "collect/slow_read.h"
#include "model/text.h"
#include "kernel/loader.h"

struct kp_slow_read {
	struct ring_buffer *rb;
	struct kp_cgroups *cg;
	kp_slow_fn fn;
	void *ctx;
};

static int on_event(void *arg, void *data, size_t len)
{
	struct kp_slow_read *r = arg;
	const struct kp_slow_event *e = data;
	struct kp_identity id;
	char shown[8192], name[KP_NAME_MAX];
	const char *path;

	if (len < sizeof(*e))
		return 0;
	path = kp_cgroups__path(r->cg, e->cgid, kp_now_mono_ns());
	if (!path)
		path = "?";
	kp_identity_from_path(path, &id);
	/* shown as every output shows names (text.h) */
	kp_visible(path, shown, sizeof(shown));
	kp_visible(id.name, name, sizeof(name));
	snprintf(id.name, sizeof(id.name), "%s", name);
	r->fn(r->ctx, e, shown, &id);
	return 0;
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
	free(r);
}

void kp_slow_read__consume(struct kp_slow_read *r)
{
	ring_buffer__consume(r->rb);
}
