/* rtmeta.h - parsers for the files in which container runtimes and the
 * kubelet keep what a user called a container: docker's config.v2.json,
 * containers/storage's containers.json (podman, CRI-O), an OCI bundle's
 * config.json annotations (containerd's CRI plugin, CRI-O), and the names
 * of the kubelet's log files and directories. Pure: each takes the file's
 * bytes or a file name, never a path to open, so they can be fuzzed.
 *
 * Errors are negative errno: -EINVAL for text that is not what the runtime
 * writes (not JSON, wrong shape), -ENOENT for a well-formed file that names
 * nothing, -E2BIG for an input past the bounds below. */
#ifndef KPULSE_RTMETA_H
#define KPULSE_RTMETA_H

#include <stdbool.h>
#include <stddef.h>

#include "collect/container.h"

#define KP_CID_LEN 64		/* container ids: 64 lowercase hex */

/* What a runtime's files say about one container. Strings are "" when the
 * file does not say; all are NUL-terminated, cut at a UTF-8 boundary. */
struct kp_rt_meta {
	enum kp_runtime runtime;	/* whose files named it */
	bool sandbox;			/* a pod's infra ("pause") container */
	char name[KP_NAME_MAX];		/* docker/podman name, k8s container name */
	char image[KP_IMAGE_MAX];	/* as the user wrote it: "nginx:1.25" */
	char pod[KP_POD_MAX];
	char namespace[KP_NAMESPACE_MAX];
	char pod_uid[KP_POD_UID_MAX];
};

/* The name a Kubernetes pod's infra container gets (kubelet's and
 * cAdvisor's "POD"). */
#define KP_SANDBOX_NAME "POD"

/* Is @s exactly 64 lowercase hex digits (a full container id)? */
bool kp_is_container_id(const char *s, size_t len);

/* docker's <root>/containers/<id>/config.v2.json: "Name" ("/web", the
 * slash dropped), "Config.Image", and for containers the kubelet made
 * through dockershim or cri-dockerd the io.kubernetes.* labels (the
 * container, pod, namespace and pod uid win over "k8s_..." names). */
int kp_docker_config_parse(const char *buf, size_t len, struct kp_rt_meta *out);

/* containers/storage's <root>/<driver>-containers/containers.json: one
 * callback per container with a valid id. Podman's entries give "name" and
 * "image-name" in their metadata; CRI-O's give the Kubernetes container
 * ("metadata-name"), pod and image, and the pod's namespace and uid sit on
 * the pod's infra entry ("pod": true), joined here through "pod-id".
 * @runtime: KP_RT_PODMAN for entries without a pod, KP_RT_CRIO with one.
 * Returns the number of callbacks made, or a negative errno. The callback
 * returning non-zero stops the walk (that value is returned). */
typedef int (*kp_rt_meta_cb)(void *ctx, const char *id, const struct kp_rt_meta *m);
int kp_storage_containers_parse(const char *buf, size_t len, kp_rt_meta_cb cb,
				void *ctx);

/* An OCI bundle's config.json (runtime spec): the annotations containerd's
 * CRI plugin writes (io.kubernetes.cri.*) or CRI-O's
 * (io.kubernetes.{container,pod}.*, io.kubernetes.cri-o.ImageName).
 * -ENOENT when it has neither (a plain containerd or docker bundle). */
int kp_oci_config_parse(const char *buf, size_t len, struct kp_rt_meta *out);

/* A file name in the kubelet's /var/log/containers:
 * "<pod>_<namespace>_<container>-<64 hex id>.log". Fills pod, namespace,
 * name and @id (KP_CID_LEN + 1 bytes). -EINVAL for any other shape,
 * including names the kubelet cut at 255 bytes (the id is then partial). */
int kp_kubelet_log_name_parse(const char *fname, struct kp_rt_meta *out, char *id);

/* A directory name in /var/log/pods: "<namespace>_<pod>_<uid>". Fills
 * namespace, pod and pod_uid. -EINVAL for any other shape. */
int kp_kubelet_pod_dir_parse(const char *dname, struct kp_rt_meta *out);

#endif
