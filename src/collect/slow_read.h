/* slow_read.h - `kpulse slow`'s single events over a threshold, from the
 * slow_events ring buffer (allocated only when a threshold is set), each
 * handed to a callback with its cgroup's path and identity. */
#ifndef KPULSE_SLOW_READ_H
#define KPULSE_SLOW_READ_H

#include <linux/types.h>
#include "kpulse_abi.h"
#include "model/identity.h"

struct kp_loader;
struct kp_cgroups;
struct kp_slow_read;

/* @path: the cgroup under the v2 root ("?" when gone already). */
typedef void (*kp_slow_fn)(void *ctx, const struct kp_slow_event *e, const char *path,
			   const struct kp_identity *id);

/* NULL (with errno) when the programs have no slow event ring. */
struct kp_slow_read *kp_slow_read__new(struct kp_loader *l, struct kp_cgroups *cg,
				       kp_slow_fn fn, void *ctx);
void kp_slow_read__free(struct kp_slow_read *r);
/* Name containers from the runtimes' files through @rt (NULL: by their
 * cgroup paths only), as the collector does. */
struct kp_runtimes;
void kp_slow_read__set_runtimes(struct kp_slow_read *r, struct kp_runtimes *rt);
/* Hand every event waiting in the ring to the callback. */
void kp_slow_read__consume(struct kp_slow_read *r);

#endif
