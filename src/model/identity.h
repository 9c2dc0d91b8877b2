/* identity.h - who a cgroup is to its users: the runtime that owns it, the
 * container id, the name shown and, for Kubernetes, the pod. Filled by the
 * collect layer (from the cgroup path, src/collect/container.h, then from
 * the runtimes' own files, src/collect/runtimes.h), read by every output
 * as the container's labels. */
#ifndef KPULSE_MODEL_IDENTITY_H
#define KPULSE_MODEL_IDENTITY_H

#include <stdbool.h>
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
#define KP_IMAGE_MAX 256
#define KP_POD_MAX 256		/* pod names are DNS subdomains, <= 253 */
#define KP_NAMESPACE_MAX 64	/* namespaces are DNS labels, <= 63 */

struct kp_identity {
	enum kp_runtime runtime;
	char id[KP_ID_MAX];	 /* full container id; "" when none */
	char name[KP_NAME_MAX];	 /* display name */
	char pod_uid[KP_POD_UID_MAX]; /* dashed uuid; "" when not a pod */
	/* from the runtimes' files; "" when they do not say */
	char image[KP_IMAGE_MAX];
	char pod[KP_POD_MAX];
	char namespace[KP_NAMESPACE_MAX];
	bool named;		/* the runtime's or the kubelet's files named it */
};

/* "docker", "containerd", "crio", "podman", "systemd", "cgroup" */
const char *kp_runtime_name(enum kp_runtime rt);

#endif
