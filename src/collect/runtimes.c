/* runtimes.c - the cache in front of the runtimes' files (see runtimes.h).
 *
 * Two kinds of source. Per-container files (docker's config.v2.json, a
 * containerd bundle's config.json) are opened for the id asked about, so
 * nothing is scanned; a miss is remembered for one refresh period. Shared
 * files and directories (containers.json, the kubelet's log directories)
 * are indexed whole, and the index is rebuilt when stat says the file or
 * directory changed, checked at most once per refresh period and only when
 * a lookup missed: a quiet host costs nothing after its containers are
 * named. A stamp whose mtime is under two seconds old is not trusted (a file
 * added in the same clock tick would not move it), so the next check
 * rebuilds again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <uthash.h>

#include "base/log.h"
#include "collect/fsread.h"
#include "collect/runtimes.h"

#define CONFIG_MAX (4u << 20)		/* one container's JSON */
#define STORAGE_MAX (64u << 20)		/* containers.json of a whole host */

/* containers/storage names its container list after the graph driver */
static const char *const storage_drivers[] = { "overlay", "vfs", "btrfs", "zfs",
					       "devmapper", "aufs" };
#define N_DRIVERS (sizeof(storage_drivers) / sizeof(storage_drivers[0]))
static const char *const task_dirs[] = { "io.containerd.runtime.v2.task",
					 "io.containerd.runtime.v1.linux" };

struct entry {
	char key[KP_CID_LEN + 1];	/* container id, or pod uid */
	struct kp_rt_meta meta;
	UT_hash_handle hh;
};

struct index {
	struct entry *h;
	unsigned int n;
	uint64_t checked_ns;
	bool checked;
};

struct stamp {
	bool ok;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
};

struct miss {
	char id[KP_CID_LEN + 1];
	uint64_t at_ns;
	UT_hash_handle hh;
};

struct kp_runtimes {
	struct kp_runtimes_paths p;	/* host_root already prepended */
	struct index storage, klogs, kpods;
	struct stamp storage_st[KP_RT_MAX_ROOTS][N_DRIVERS];
	struct stamp klogs_st, kpods_st;
	struct miss *misses;
	unsigned int n_misses;
	struct kp_runtimes_stats st;
	bool said_read, said_parse;
};

/* @host + @path into @dst; "" stays "" (a source switched off). */
static void join_root(char *dst, size_t size, const char *host, const char *path)
{
	size_t hl = strlen(host);

	while (hl && host[hl - 1] == '/')
		hl--;
	if (!path[0])
		dst[0] = '\0';
	else
		snprintf(dst, size, "%.*s%s%s", (int)hl, host, path[0] == '/' ? "" : "/", path);
}

struct kp_runtimes *kp_runtimes__new(const struct kp_runtimes_paths *p)
{
	struct kp_runtimes_paths def;
	struct kp_runtimes *r = calloc(1, sizeof(*r));
	const char *h;

	if (!r)
		return NULL;
	if (!p) {
		kp_runtimes_paths_default(&def);
		p = &def;
	}
	r->p = *p;
	h = p->host_root;
	for (unsigned int i = 0; i < KP_RT_MAX_ROOTS; i++) {
		join_root(r->p.docker[i], KP_RT_PATH_MAX, h, p->docker[i]);
		join_root(r->p.storage[i], KP_RT_PATH_MAX, h, p->storage[i]);
		join_root(r->p.containerd[i], KP_RT_PATH_MAX, h, p->containerd[i]);
	}
	join_root(r->p.kubelet_logs, KP_RT_PATH_MAX, h, p->kubelet_logs);
	return r;
}

static void index_clear(struct kp_runtimes *r, struct index *ix)
{
	struct entry *e, *tmp;

	HASH_ITER(hh, ix->h, e, tmp) {
		HASH_DEL(ix->h, e);
		free(e);
	}
	r->st.entries -= ix->n;
	ix->n = 0;
}

static void misses_clear(struct kp_runtimes *r)
{
	struct miss *m, *tmp;

	HASH_ITER(hh, r->misses, m, tmp) {
		HASH_DEL(r->misses, m);
		free(m);
	}
	r->n_misses = 0;
}

void kp_runtimes__free(struct kp_runtimes *r)
{
	if (!r)
		return;
	index_clear(r, &r->storage);
	index_clear(r, &r->klogs);
	index_clear(r, &r->kpods);
	misses_clear(r);
	free(r);
}

const struct kp_runtimes_stats *kp_runtimes__stats(const struct kp_runtimes *r)
{
	return &r->st;
}

/* Keep the first entry for a key: a container listed twice is one. */
static int index_add(struct kp_runtimes *r, struct index *ix, const char *key,
		     const struct kp_rt_meta *m)
{
	struct entry *e;

	HASH_FIND_STR(ix->h, key, e);
	if (e)
		return 0;
	if (ix->n >= KP_RT_MAX_ENTRIES) {
		r->st.dropped++;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->meta = *m;
	HASH_ADD_STR(ix->h, key, e);
	ix->n++;
	r->st.entries++;
	return 0;
}

static bool index_get(const struct index *ix, const char *key, struct kp_rt_meta *out)
{
	struct entry *e;

	HASH_FIND_STR(ix->h, key, e);
	if (e)
		*out = e->meta;
	return e != NULL;
}

/* Checked at most once per refresh period. */
static bool due(const struct kp_runtimes *r, struct index *ix, uint64_t now)
{
	if (ix->checked && now - ix->checked_ns < r->p.refresh_ns)
		return false;
	ix->checked = true;
	ix->checked_ns = now;
	return true;
}

/* Update @st from @path; true when it differs from what it was. */
static bool restamp(const char *path, struct stamp *st)
{
	struct stamp now = { 0 };
	struct timespec wall;
	struct stat sb;
	bool changed;

	if (path[0] && stat(path, &sb) == 0) {
		now.ok = true;
		now.dev = sb.st_dev;
		now.ino = sb.st_ino;
		now.size = sb.st_size;
		now.mtim = sb.st_mtim;
	}
	changed = now.ok != st->ok || now.dev != st->dev || now.ino != st->ino ||
		  now.size != st->size || now.mtim.tv_sec != st->mtim.tv_sec ||
		  now.mtim.tv_nsec != st->mtim.tv_nsec;
	clock_gettime(CLOCK_REALTIME, &wall);
	if (now.ok && wall.tv_sec - now.mtim.tv_sec < 2)
		now.mtim.tv_nsec = -1;	/* too fresh to trust: differs next time */
	*st = now;
	return changed;
}

static void say_read(struct kp_runtimes *r, const char *path, int err)
{
	r->st.errors++;
	if (r->said_read)
		return;
	r->said_read = true;
	kp_info("runtimes: cannot read %s: %s (containers it names keep their ids; "
		"reported once)", path, strerror(-err));
}

static void say_parse(struct kp_runtimes *r, const char *path, int err)
{
	r->st.errors++;
	if (r->said_parse)
		return;
	r->said_parse = true;
	kp_info("runtimes: %s is not what the runtime writes: %s (skipped; reported once)",
		path, strerror(-err));
}

static int slurp(struct kp_runtimes *r, const char *path, size_t max, char **buf,
		 size_t *len)
{
	r->st.file_reads++;
	return kp_read_all(path, max, buf, len);
}

/* ---- per-container files: docker, containerd bundles ---- */

typedef int (*parse_fn)(const char *buf, size_t len, struct kp_rt_meta *out);

/* 1 named, 0 no such file or it names nothing, <0 error (counted). */
static int read_one(struct kp_runtimes *r, const char *path, parse_fn parse,
		    struct kp_rt_meta *out)
{
	size_t len;
	char *buf;
	int err = slurp(r, path, CONFIG_MAX, &buf, &len);

	if (err == -ENOENT || err == -ENOTDIR)
		return 0;
	if (err) {
		say_read(r, path, err);
		return err;
	}
	err = parse(buf, len, out);
	free(buf);
	if (err == -ENOENT)
		return 0;
	if (err) {
		say_parse(r, path, err);
		return err;
	}
	return 1;
}

static bool from_docker(struct kp_runtimes *r, const char *id, struct kp_rt_meta *out)
{
	char path[KP_RT_PATH_MAX + 128];

	for (unsigned int i = 0; i < r->p.n_docker && i < KP_RT_MAX_ROOTS; i++) {
		if (!r->p.docker[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json",
			 r->p.docker[i], id);
		if (read_one(r, path, kp_docker_config_parse, out) > 0)
			return true;
	}
	return false;
}

/* <state>/<task dir>/<namespace>/<id>/config.json, for every namespace. */
static bool from_bundle_dir(struct kp_runtimes *r, const char *dir, const char *id,
			    struct kp_rt_meta *out)
{
	char path[KP_RT_PATH_MAX + 512];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/config.json", dir, de->d_name, id);
		found = read_one(r, path, kp_oci_config_parse, out) > 0;
	}
	closedir(d);
	return found;
}

static bool from_containerd(struct kp_runtimes *r, const char *id, struct kp_rt_meta *out)
{
	char dir[KP_RT_PATH_MAX + 64];

	for (unsigned int i = 0; i < r->p.n_containerd && i < KP_RT_MAX_ROOTS; i++) {
		if (!r->p.containerd[i][0])
			continue;
		for (size_t t = 0; t < sizeof(task_dirs) / sizeof(task_dirs[0]); t++) {
			snprintf(dir, sizeof(dir), "%s/%s", r->p.containerd[i], task_dirs[t]);
			if (from_bundle_dir(r, dir, id, out))
				return true;
		}
	}
	return false;
}

/* Docker's and containerd's files for @id, unless they said nothing about
 * it within the refresh period. */
static bool from_direct(struct kp_runtimes *r, const char *id, uint64_t now,
			struct kp_rt_meta *out)
{
	struct miss *m;

	HASH_FIND_STR(r->misses, id, m);
	if (m && now - m->at_ns < r->p.refresh_ns)
		return false;
	if (from_docker(r, id, out) || from_containerd(r, id, out)) {
		if (m) {
			HASH_DEL(r->misses, m);
			free(m);
			r->n_misses--;
		}
		return true;
	}
	if (!m) {
		if (r->n_misses >= KP_RT_MAX_ENTRIES)
			misses_clear(r);	/* forgetting costs one more read each */
		if (!(m = calloc(1, sizeof(*m))))
			return false;
		snprintf(m->id, sizeof(m->id), "%s", id);
		HASH_ADD_STR(r->misses, id, m);
		r->n_misses++;
	}
	m->at_ns = now;
	return false;
}

/* ---- containers/storage: podman, CRI-O ---- */

static int storage_add(void *ctx, const char *id, const struct kp_rt_meta *m)
{
	struct kp_runtimes *r = ctx;

	return index_add(r, &r->storage, id, m);
}

static void storage_rebuild(struct kp_runtimes *r)
{
	char path[KP_RT_PATH_MAX + 64];
	size_t len;
	char *buf;
	int err;

	index_clear(r, &r->storage);
	r->st.rebuilds++;
	for (unsigned int i = 0; i < r->p.n_storage && i < KP_RT_MAX_ROOTS; i++) {
		for (size_t d = 0; d < N_DRIVERS; d++) {
			if (!r->storage_st[i][d].ok)
				continue;
			snprintf(path, sizeof(path), "%s/%s-containers/containers.json",
				 r->p.storage[i], storage_drivers[d]);
			err = slurp(r, path, STORAGE_MAX, &buf, &len);
			if (err) {
				if (err != -ENOENT)
					say_read(r, path, err);
				continue;
			}
			err = kp_storage_containers_parse(buf, len, storage_add, r);
			free(buf);
			if (err < 0)
				say_parse(r, path, err);
		}
	}
}

static bool from_storage(struct kp_runtimes *r, const char *id, uint64_t now,
			 struct kp_rt_meta *out)
{
	char path[KP_RT_PATH_MAX + 64];
	bool changed = false;

	if (index_get(&r->storage, id, out))
		return true;
	if (!due(r, &r->storage, now))
		return false;
	for (unsigned int i = 0; i < r->p.n_storage && i < KP_RT_MAX_ROOTS; i++) {
		for (size_t d = 0; d < N_DRIVERS; d++) {
			path[0] = '\0';
			if (r->p.storage[i][0])
				snprintf(path, sizeof(path), "%s/%s-containers/containers.json",
					 r->p.storage[i], storage_drivers[d]);
			changed |= restamp(path, &r->storage_st[i][d]);
		}
	}
	if (changed)
		storage_rebuild(r);
	return index_get(&r->storage, id, out);
}

/* ---- the kubelet's log directories ---- */

/* Index every name of @sub under kubelet_logs that @parse accepts. */
static void kubelet_rebuild(struct kp_runtimes *r, struct index *ix, const char *sub,
			    bool logs)
{
	char dir[KP_RT_PATH_MAX + 32], id[KP_CID_LEN + 1];
	struct kp_rt_meta m;
	struct dirent *de;
	DIR *d;

	index_clear(r, ix);
	r->st.rebuilds++;
	snprintf(dir, sizeof(dir), "%s/%s", r->p.kubelet_logs, sub);
	if (!(d = opendir(dir))) {
		if (errno != ENOENT && errno != ENOTDIR)
			say_read(r, dir, -errno);
		return;
	}
	while ((de = readdir(d))) {
		if (logs ? kp_kubelet_log_name_parse(de->d_name, &m, id)
			 : kp_kubelet_pod_dir_parse(de->d_name, &m))
			continue;
		if (index_add(r, ix, logs ? id : m.pod_uid, &m))
			break;
	}
	closedir(d);
}

static bool from_kubelet(struct kp_runtimes *r, bool logs, const char *key, uint64_t now,
			 struct kp_rt_meta *out)
{
	struct index *ix = logs ? &r->klogs : &r->kpods;
	const char *sub = logs ? "containers" : "pods";
	char dir[KP_RT_PATH_MAX + 32];

	if (index_get(ix, key, out))
		return true;
	if (!r->p.kubelet_logs[0] || !due(r, ix, now))
		return false;
	snprintf(dir, sizeof(dir), "%s/%s", r->p.kubelet_logs, sub);
	if (restamp(dir, logs ? &r->klogs_st : &r->kpods_st))
		kubelet_rebuild(r, ix, sub, logs);
	return index_get(ix, key, out);
}

int kp_runtimes__lookup(struct kp_runtimes *r, enum kp_runtime hint, const char *id,
			uint64_t now_ns, struct kp_rt_meta *out)
{
	bool storage_first = hint == KP_RT_PODMAN || hint == KP_RT_CRIO;
	bool named = false;
	struct kp_rt_meta k8s;

	memset(out, 0, sizeof(*out));
	if (!id || !kp_is_container_id(id, strlen(id)))
		return -EINVAL;
	r->st.lookups++;
	if (storage_first)
		named = from_storage(r, id, now_ns, out) || from_direct(r, id, now_ns, out);
	else
		named = from_direct(r, id, now_ns, out) || from_storage(r, id, now_ns, out);
	if (!named)
		memset(out, 0, sizeof(*out));
	/* The kubelet names what it started, whatever the runtime called it
	 * ("k8s_web_api-0_prod_<uid>_0" under dockershim). */
	if (from_kubelet(r, true, id, now_ns, &k8s)) {
		snprintf(out->name, sizeof(out->name), "%s", k8s.name);
		snprintf(out->pod, sizeof(out->pod), "%s", k8s.pod);
		snprintf(out->namespace, sizeof(out->namespace), "%s", k8s.namespace);
		if (!named)
			out->runtime = hint;
		named = true;
	}
	if (!named)
		return -ENOENT;
	r->st.found++;
	return 0;
}

int kp_runtimes__pod(struct kp_runtimes *r, const char *pod_uid, uint64_t now_ns,
		     struct kp_rt_meta *out)
{
	memset(out, 0, sizeof(*out));
	if (!pod_uid || !pod_uid[0] || strlen(pod_uid) > KP_CID_LEN)
		return -EINVAL;
	return from_kubelet(r, false, pod_uid, now_ns, out) ? 0 : -ENOENT;
}

/* ---- into an identity ---- */

#define CONMON "conmon-"

static void copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;	/* only a conmon prefix can cut: names are ASCII */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* @id's fields from @m: the runtime's name (a conmon scope keeps its
 * prefix, so it is not taken for the container), image, pod. */
static void apply(struct kp_identity *id, const struct kp_rt_meta *m)
{
	if (m->name[0]) {
		if (!strncmp(id->name, CONMON, strlen(CONMON)) && !m->sandbox) {
			char name[KP_NAME_MAX];

			copy(name, sizeof(name), CONMON);
			copy(name + strlen(CONMON), sizeof(name) - strlen(CONMON), m->name);
			copy(id->name, sizeof(id->name), name);
		} else {
			copy(id->name, sizeof(id->name), m->name);
		}
	}
	if (m->runtime != KP_RT_CGROUP)
		id->runtime = m->runtime;
	copy(id->image, sizeof(id->image), m->image);
	copy(id->pod, sizeof(id->pod), m->pod);
	copy(id->namespace, sizeof(id->namespace), m->namespace);
	if (!id->pod_uid[0])
		copy(id->pod_uid, sizeof(id->pod_uid), m->pod_uid);
	id->named = true;
}

int kp_runtimes__name(struct kp_runtimes *r, struct kp_identity *id, uint64_t now_ns)
{
	struct kp_rt_meta m;
	int err;

	if (id->id[0]) {
		err = kp_runtimes__lookup(r, id->runtime, id->id, now_ns, &m);
	} else if (id->pod_uid[0]) {
		/* a pod's own cgroup: named by its path, labelled with the pod */
		err = kp_runtimes__pod(r, id->pod_uid, now_ns, &m);
		m.name[0] = '\0';
		m.runtime = KP_RT_CGROUP;
	} else {
		return -ENOENT;
	}
	if (err)
		return err;
	apply(id, &m);
	return 0;
}
