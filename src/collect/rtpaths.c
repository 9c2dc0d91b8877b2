/* rtpaths.c - the runtimes' default paths (see rtpaths.h). */
#include <stdio.h>
#include <string.h>

#include "collect/rtpaths.h"

#define NS_PER_S 1000000000ull

void kp_runtimes_paths_default(struct kp_runtimes_paths *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->docker[0], sizeof(p->docker[0]), "/var/lib/docker");
	p->n_docker = 1;
	snprintf(p->storage[0], sizeof(p->storage[0]), "/var/lib/containers/storage");
	p->n_storage = 1;
	snprintf(p->containerd[0], sizeof(p->containerd[0]), "/run/containerd");
	p->n_containerd = 1;
	snprintf(p->kubelet_logs, sizeof(p->kubelet_logs), "/var/log");
	p->refresh_ns = NS_PER_S;
}

void kp_runtimes_paths_fill(struct kp_runtimes_paths *p)
{
	struct kp_runtimes_paths d;

	kp_runtimes_paths_default(&d);
	if (!p->n_docker) {
		memcpy(p->docker, d.docker, sizeof(p->docker));
		p->n_docker = d.n_docker;
	}
	if (!p->n_storage) {
		memcpy(p->storage, d.storage, sizeof(p->storage));
		p->n_storage = d.n_storage;
	}
	if (!p->n_containerd) {
		memcpy(p->containerd, d.containerd, sizeof(p->containerd));
		p->n_containerd = d.n_containerd;
	}
	if (!p->kubelet_logs[0])
		memcpy(p->kubelet_logs, d.kubelet_logs, sizeof(p->kubelet_logs));
	if (!p->refresh_ns)
		p->refresh_ns = d.refresh_ns;
}
