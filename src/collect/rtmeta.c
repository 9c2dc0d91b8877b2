/* rtmeta.c - what the runtimes' own files call a container.
 *
 * Owns the reading of the files docker, podman, CRI-O, containerd's CRI
 * plugin and the kubelet leave on disk, so that a container is labelled
 * with the name its user gave, not with its id. JSON goes through jansson;
 * the kubelet's names are split by hand, since '_' cannot appear in the pod,
 * namespace and container names it joins (DNS labels and subdomains).
 * Nothing here opens a file: runtimes.c reads them and caches the answers.
 */
#include <errno.h>
#include <string.h>
#include <jansson.h>

#include "collect/rtmeta.h"
#include "model/text.h"

/* Files past this are not what a runtime writes for one container. */
#define ONE_CONTAINER_MAX (4u << 20)

bool kp_is_container_id(const char *s, size_t len)
{
	size_t i;

	if (len != KP_CID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

#define PUT(field, s) kp_copy_utf8((field), sizeof(field), (s), strlen(s))

/* A non-empty string member of @obj, or NULL. */
static const char *str_at(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? s : NULL;
}

static void put_opt(char *dst, size_t size, const char *s)
{
	if (s)
		kp_copy_utf8(dst, size, s, strlen(s));
}

static json_t *load(const char *buf, size_t len, size_t max, int *err)
{
	json_error_t je;
	json_t *j;

	*err = 0;
	if (len > max) {
		*err = -E2BIG;
		return NULL;
	}
	j = json_loadb(buf, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		*err = -EINVAL;
		return NULL;
	}
	return j;
}

/* The kubelet's labels on a docker container (dockershim, cri-dockerd). */
static void docker_k8s_labels(const json_t *labels, struct kp_rt_meta *out)
{
	const char *c = str_at(labels, "io.kubernetes.container.name");
	const char *type = str_at(labels, "io.kubernetes.docker.type");

	if (!str_at(labels, "io.kubernetes.pod.uid") && !str_at(labels, "io.kubernetes.pod.name"))
		return;
	put_opt(out->pod, sizeof(out->pod), str_at(labels, "io.kubernetes.pod.name"));
	put_opt(out->namespace, sizeof(out->namespace),
		str_at(labels, "io.kubernetes.pod.namespace"));
	put_opt(out->pod_uid, sizeof(out->pod_uid), str_at(labels, "io.kubernetes.pod.uid"));
	if ((type && !strcmp(type, "podsandbox")) || (c && !strcmp(c, KP_SANDBOX_NAME))) {
		out->sandbox = true;
		PUT(out->name, KP_SANDBOX_NAME);
	} else if (c) {
		PUT(out->name, c);
	}
}

int kp_docker_config_parse(const char *buf, size_t len, struct kp_rt_meta *out)
{
	const json_t *config;
	const char *name;
	json_t *j;
	int err;

	memset(out, 0, sizeof(*out));
	out->runtime = KP_RT_DOCKER;
	j = load(buf, len, ONE_CONTAINER_MAX, &err);
	if (!j)
		return err;
	name = str_at(j, "Name");
	if (!name) {
		json_decref(j);
		return -ENOENT;
	}
	PUT(out->name, name[0] == '/' && name[1] ? name + 1 : name);
	config = json_object_get(j, "Config");
	put_opt(out->image, sizeof(out->image), str_at(config, "Image"));
	docker_k8s_labels(json_object_get(config, "Labels"), out);
	json_decref(j);
	return 0;
}

/* containers/storage keeps each runtime's own metadata as a JSON string. */
static json_t *storage_metadata(const json_t *entry)
{
	const char *s = json_string_value(json_object_get(entry, "metadata"));
	json_t *m;

	if (!s)
		return NULL;
	m = json_loads(s, 0, NULL);
	if (m && !json_is_object(m)) {
		json_decref(m);
		m = NULL;
	}
	return m;
}

/* CRI-O puts a pod's namespace and uid on its infra entry only: index the
 * infra entries' metadata by their pod id. */
static json_t *storage_pods(const json_t *arr)
{
	json_t *pods = json_object(), *e, *m;
	size_t i;

	if (!pods)
		return NULL;
	json_array_foreach(arr, i, e) {
		const char *pid;

		m = storage_metadata(e);
		if (!m)
			continue;
		pid = str_at(m, "pod-id");
		if (json_is_true(json_object_get(m, "pod")) && pid)
			json_object_set(pods, pid, m);
		json_decref(m);
	}
	return pods;
}

static void storage_entry(const json_t *e, const json_t *m, const json_t *pods,
			  struct kp_rt_meta *out)
{
	const char *pod = m ? str_at(m, "pod-name") : NULL;
	const json_t *names = json_object_get(e, "names");

	memset(out, 0, sizeof(*out));
	put_opt(out->image, sizeof(out->image), m ? str_at(m, "image-name") : NULL);
	if (!pod) {	/* podman: its name, as `podman ps` shows it */
		out->runtime = KP_RT_PODMAN;
		put_opt(out->name, sizeof(out->name), m ? str_at(m, "name") : NULL);
		if (!out->name[0])
			put_opt(out->name, sizeof(out->name),
				json_string_value(json_array_get(names, 0)));
		return;
	}
	out->runtime = KP_RT_CRIO;
	PUT(out->pod, pod);
	if (json_is_true(json_object_get(m, "pod"))) {
		out->sandbox = true;
		PUT(out->name, KP_SANDBOX_NAME);
	} else {
		put_opt(out->name, sizeof(out->name), str_at(m, "metadata-name"));
	}
	m = json_object_get(pods, str_at(m, "pod-id") ? str_at(m, "pod-id") : "");
	put_opt(out->namespace, sizeof(out->namespace), str_at(m, "namespace"));
	put_opt(out->pod_uid, sizeof(out->pod_uid), str_at(m, "uid"));
}

int kp_storage_containers_parse(const char *buf, size_t len, kp_rt_meta_cb cb,
				void *ctx)
{
	json_t *arr, *pods, *e;
	struct kp_rt_meta meta;
	json_error_t je;
	int n = 0, ret = 0;
	size_t i;

	if (len > (64u << 20))
		return -E2BIG;
	arr = json_loadb(buf, len, 0, &je);
	if (!arr || !json_is_array(arr)) {
		json_decref(arr);
		return -EINVAL;
	}
	pods = storage_pods(arr);
	json_array_foreach(arr, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		json_t *m;

		if (!id || !kp_is_container_id(id, strlen(id)))
			continue;
		m = storage_metadata(e);
		storage_entry(e, m, pods, &meta);
		json_decref(m);
		if (!meta.name[0])
			continue;
		n++;
		if ((ret = cb(ctx, id, &meta)))
			break;
	}
	json_decref(pods);
	json_decref(arr);
	return ret ? ret : n;
}

/* containerd's CRI plugin (io.kubernetes.cri.*). */
static bool oci_containerd(const json_t *a, struct kp_rt_meta *out)
{
	const char *type = str_at(a, "io.kubernetes.cri.container-type");

	if (!type)
		return false;
	out->runtime = KP_RT_CONTAINERD;
	put_opt(out->pod, sizeof(out->pod), str_at(a, "io.kubernetes.cri.sandbox-name"));
	put_opt(out->namespace, sizeof(out->namespace),
		str_at(a, "io.kubernetes.cri.sandbox-namespace"));
	put_opt(out->pod_uid, sizeof(out->pod_uid), str_at(a, "io.kubernetes.cri.sandbox-uid"));
	put_opt(out->image, sizeof(out->image), str_at(a, "io.kubernetes.cri.image-name"));
	if (!strcmp(type, "sandbox")) {
		out->sandbox = true;
		PUT(out->name, KP_SANDBOX_NAME);
	} else {
		put_opt(out->name, sizeof(out->name), str_at(a, "io.kubernetes.cri.container-name"));
	}
	return true;
}

/* CRI-O (io.kubernetes.cri-o.* and the kubelet's io.kubernetes.* keys). */
static bool oci_crio(const json_t *a, struct kp_rt_meta *out)
{
	const char *type = str_at(a, "io.kubernetes.cri-o.ContainerType");

	if (!type)
		return false;
	out->runtime = KP_RT_CRIO;
	put_opt(out->pod, sizeof(out->pod), str_at(a, "io.kubernetes.pod.name"));
	put_opt(out->namespace, sizeof(out->namespace), str_at(a, "io.kubernetes.pod.namespace"));
	put_opt(out->pod_uid, sizeof(out->pod_uid), str_at(a, "io.kubernetes.pod.uid"));
	put_opt(out->image, sizeof(out->image), str_at(a, "io.kubernetes.cri-o.ImageName"));
	if (!strcmp(type, "sandbox")) {
		out->sandbox = true;
		PUT(out->name, KP_SANDBOX_NAME);
	} else {
		put_opt(out->name, sizeof(out->name), str_at(a, "io.kubernetes.container.name"));
	}
	return true;
}

int kp_oci_config_parse(const char *buf, size_t len, struct kp_rt_meta *out)
{
	const json_t *a;
	json_t *j;
	int err;

	memset(out, 0, sizeof(*out));
	j = load(buf, len, ONE_CONTAINER_MAX, &err);
	if (!j)
		return err;
	a = json_object_get(j, "annotations");
	err = (oci_containerd(a, out) || oci_crio(a, out)) && out->name[0] ? 0 : -ENOENT;
	json_decref(j);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

/* The next '_'-separated field of [*s, end) into @dst; false when empty. */
static bool field(const char **s, const char *end, char *dst, size_t size)
{
	const char *u = memchr(*s, '_', (size_t)(end - *s));
	size_t n;

	if (!u)
		u = end;
	n = (size_t)(u - *s);
	if (!n || n >= size)
		return false;
	memcpy(dst, *s, n);
	dst[n] = '\0';
	*s = u < end ? u + 1 : u;
	return true;
}

/* What Kubernetes allows in a name: DNS labels (lowercase letters,
 * digits, '-'), and '.' too in a DNS subdomain (pod names); uids are hex
 * and '-'. Anything else is not a name the kubelet wrote. */
static bool k8s_name_ok(const char *s, bool dots)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      (dots && *s == '.')))
			return false;
	return true;
}

int kp_kubelet_log_name_parse(const char *fname, struct kp_rt_meta *out, char *id)
{
	size_t len = strlen(fname), clen;
	const char *s = fname, *end, *dash;

	memset(out, 0, sizeof(*out));
	if (len < 4 || memcmp(fname + len - 4, ".log", 4))
		return -EINVAL;
	end = fname + len - 4;
	if (end - s < KP_CID_LEN + 6)	/* "p_n_c-" and the id */
		return -EINVAL;
	dash = end - KP_CID_LEN - 1;
	if (*dash != '-' || !kp_is_container_id(dash + 1, KP_CID_LEN))
		return -EINVAL;
	if (!field(&s, dash, out->pod, sizeof(out->pod)) ||
	    !field(&s, dash, out->namespace, sizeof(out->namespace)) || s >= dash ||
	    memchr(s, '_', (size_t)(dash - s)))
		goto bad;
	clen = (size_t)(dash - s);
	if (clen >= sizeof(out->name))
		goto bad;
	memcpy(out->name, s, clen);
	out->name[clen] = '\0';
	if (!k8s_name_ok(out->pod, true) || !k8s_name_ok(out->namespace, false) ||
	    !k8s_name_ok(out->name, false))
		goto bad;
	memcpy(id, dash + 1, KP_CID_LEN);
	id[KP_CID_LEN] = '\0';
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int kp_kubelet_pod_dir_parse(const char *dname, struct kp_rt_meta *out)
{
	const char *s = dname, *end = dname + strlen(dname);

	memset(out, 0, sizeof(*out));
	if (!field(&s, end, out->namespace, sizeof(out->namespace)) ||
	    !field(&s, end, out->pod, sizeof(out->pod)) ||
	    !field(&s, end, out->pod_uid, sizeof(out->pod_uid)) || s != end ||
	    (strlen(out->pod_uid) != 36 && strlen(out->pod_uid) != 32) ||
	    !k8s_name_ok(out->namespace, false) || !k8s_name_ok(out->pod, true) ||
	    !k8s_name_ok(out->pod_uid, false)) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}
