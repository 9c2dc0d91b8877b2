/* runtimes.h - container names from the runtimes' files on disk, cached.
 *
 * Given a container id found in a cgroup path (container.c), answers what
 * its runtime and the kubelet call it: name, image, pod, namespace. Sources,
 * read from disk and never through an API:
 *   docker         <docker>/containers/<id>/config.v2.json
 *   podman, CRI-O  <storage>/<driver>-containers/containers.json
 *   containerd     <containerd>/io.containerd.runtime.v{2.task,1.linux}/<ns>/<id>/config.json
 *   kubelet        <kubelet_logs>/containers/<pod>_<ns>_<container>-<id>.log
 *                  <kubelet_logs>/pods/<ns>_<pod>_<uid>/
 * Every path is taken under host_root (kpulse in a container sees the
 * host's files at /host, say). Indexes are rebuilt only when their file or
 * directory changed (stat), at most once per refresh period, and only when
 * a lookup misses; a miss is remembered for the same period, so a caller
 * may ask every collection. Each index holds at most KP_RT_MAX_ENTRIES;
 * entries past that are counted, not kept. */
#ifndef KPULSE_RUNTIMES_H
#define KPULSE_RUNTIMES_H

#include <stdint.h>

#include "collect/rtmeta.h"
#include "collect/rtpaths.h"

#define KP_RT_MAX_ENTRIES 4096

struct kp_runtimes_stats {
	uint64_t lookups;	/* container lookups */
	uint64_t found;		/* of those, named by some file */
	uint64_t file_reads;	/* runtime files tried (an open each) */
	uint64_t rebuilds;	/* indexes rebuilt after a change */
	uint64_t errors;	/* files that could not be read or parsed */
	uint64_t dropped;	/* entries past KP_RT_MAX_ENTRIES */
	unsigned int entries;	/* in all indexes now */
};

struct kp_runtimes;

/* NULL @p: the defaults. Never fails for missing paths (a host without
 * docker has no /var/lib/docker); NULL only when out of memory. */
struct kp_runtimes *kp_runtimes__new(const struct kp_runtimes_paths *p);
void kp_runtimes__free(struct kp_runtimes *r);

/* What the files say about container @id (64 lowercase hex), which the
 * cgroup path says @hint runs (KP_RT_CGROUP when it cannot tell). Every
 * source is tried, @hint's first; the kubelet's names win over a runtime's
 * for Kubernetes containers. out->runtime is the runtime whose files named
 * it (@hint when only the kubelet's did). 0 when named, -ENOENT when no
 * file names it (yet: ask again later), -EINVAL for a bad id. @now_ns:
 * CLOCK_MONOTONIC. */
int kp_runtimes__lookup(struct kp_runtimes *r, enum kp_runtime hint, const char *id,
			uint64_t now_ns, struct kp_rt_meta *out);

/* A pod's name and namespace from its uid (the kubelet's pod log
 * directory), for the pod's own cgroup. 0, or -ENOENT. */
int kp_runtimes__pod(struct kp_runtimes *r, const char *pod_uid, uint64_t now_ns,
		     struct kp_rt_meta *out);

/* @id (from the cgroup path, container.h) named from the files: the
 * container's name (a conmon scope keeps its "conmon-" prefix), image,
 * pod, namespace, its pod uid when the path had none, the runtime whose
 * files named it, and id->named set; a pod's own cgroup gets its pod and
 * namespace and keeps its name. 0, or -ENOENT (nothing named it; @id is
 * unchanged). */
int kp_runtimes__name(struct kp_runtimes *r, struct kp_identity *id, uint64_t now_ns);

const struct kp_runtimes_stats *kp_runtimes__stats(const struct kp_runtimes *r);

#endif
