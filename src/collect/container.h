/* container.h - cgroup v2 path -> container identity (pure, no I/O).
 *
 * Given a cgroup path relative to the cgroup v2 root (e.g.
 * "/system.slice/docker-<64hex>.scope"), decide which runtime owns it and
 * what to call it. Used for the container/container_id/runtime/pod_uid
 * labels on every per-container series.
 */
#ifndef KPULSE_CONTAINER_H
#define KPULSE_CONTAINER_H

#include <stddef.h>
#include "model/identity.h"

/* Fill @out from @path (relative to the v2 root, leading '/' optional).
 * Never fails: an unrecognised path gives KP_RT_CGROUP with the path as
 * name. Output strings are always NUL-terminated and truncated to fit. */
void kp_identity_from_path(const char *path, struct kp_identity *out);

#endif
