/* identity.h - who a cgroup is to its users: the runtime that owns it, the
 * container id, the name shown and, for Kubernetes, the pod. Filled by the
 * collect layer (from the cgroup path, src/collect/container.h), read by
 * every output as the container's labels. */
#ifndef KPULSE_MODEL_IDENTITY_H
#define KPULSE_MODEL_IDENTITY_H

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

/* "docker", "containerd", "crio", "podman", "systemd", "cgroup" */
const char *kp_runtime_name(enum kp_runtime rt);

#endif
