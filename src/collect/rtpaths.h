/* rtpaths.h - where the container runtimes and the kubelet keep their
 * files (see runtimes.h), as the config file and the defaults say. */
#ifndef KPULSE_RTPATHS_H
#define KPULSE_RTPATHS_H

#include <stdint.h>

#define KP_RT_MAX_ROOTS 4
#define KP_RT_PATH_MAX 512

struct kp_runtimes_paths {
	char host_root[KP_RT_PATH_MAX];			/* "": none */
	char docker[KP_RT_MAX_ROOTS][KP_RT_PATH_MAX];	/* dockerd --data-root */
	unsigned int n_docker;
	char storage[KP_RT_MAX_ROOTS][KP_RT_PATH_MAX];	/* storage.conf graphroot */
	unsigned int n_storage;
	char containerd[KP_RT_MAX_ROOTS][KP_RT_PATH_MAX]; /* containerd state */
	unsigned int n_containerd;
	char kubelet_logs[KP_RT_PATH_MAX];		/* holds pods/, containers/ */
	uint64_t refresh_ns;
};

/* /var/lib/docker, /var/lib/containers/storage, /run/containerd, /var/log,
 * 1 s, no host root. */
void kp_runtimes_paths_default(struct kp_runtimes_paths *p);
/* The defaults for what @p leaves empty (a list of none, "", 0). */
void kp_runtimes_paths_fill(struct kp_runtimes_paths *p);

#endif
