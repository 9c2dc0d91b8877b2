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

enum kp_runtime {
	KP_RT_CGROUP = 0,	/* plain cgroup: name is the path itself */
	KP_RT_DOCKER,
	KP_RT_CONTAINERD,
	KP_RT_CRIO,
	KP_RT_PODMAN,
	KP_RT_SYSTEMD,
};

#define KP_ID_MAX 80	/* container ids are 64 hex chars */
#define KP_NAME_MAX 256
#define KP_POD_UID_MAX 40	/* 36 chars of uuid */

struct kp_identity {
	enum kp_runtime runtime;
	char id[KP_ID_MAX];	 /* full container id; "" when none */
	char name[KP_NAME_MAX];	 /* display name */
	char pod_uid[KP_POD_UID_MAX]; /* dashed uuid; "" when not a pod */
};

/* Fill @out from @path (relative to the v2 root, leading '/' optional).
 * Never fails: an unrecognised path gives KP_RT_CGROUP with the path as
 * name. Output strings are always NUL-terminated and truncated to fit. */
void kp_identity_from_path(const char *path, struct kp_identity *out);

/* "docker", "containerd", "crio", "podman", "systemd", "cgroup" */
const char *kp_runtime_name(enum kp_runtime rt);

#endif
