/* v1dir.c - v2 cgroup -> v1 directory of one controller (see v1dir.h).
 *
 * Two small reads per miss (cgroup.procs, /proc/<pid>/cgroup), so answers
 * are kept: a container's tasks do not move between v1 cgroups in
 * practice, and a wrong answer is dropped as soon as reading it fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "collect/readfile.h"
#include "collect/memfiles.h"
#include "collect/v1dir.h"

#define PATH_CAP 4096

struct v1_entry {
	char *relpath;		/* key: v2 path */
	char *dir;
	uint64_t at_ns;
	UT_hash_handle hh;
};

struct kp_v1dir {
	char controller[32];
	bool present;
	char mnt[PATH_CAP];
	char root[PATH_CAP];	/* the mount's root inside the hierarchy */
	struct v1_entry *cache;
	unsigned int cached;
};

struct kp_v1dir *kp_v1dir__new(const char *controller)
{
	struct kp_v1dir *v = calloc(1, sizeof(*v));
	FILE *mi;

	if (!v)
		return NULL;
	snprintf(v->controller, sizeof(v->controller), "%s", controller);
	mi = fopen("/proc/self/mountinfo", "re");
	if (mi) {
		v->present = !kp_cgroup_find_v1(mi, controller, v->mnt, sizeof(v->mnt),
						v->root, sizeof(v->root));
		fclose(mi);
	}
	return v;
}

static void entry_free(struct kp_v1dir *v, struct v1_entry *e)
{
	HASH_DEL(v->cache, e);
	free(e->relpath);
	free(e->dir);
	free(e);
	v->cached--;
}

static void cache_clear(struct kp_v1dir *v)
{
	struct v1_entry *e, *tmp;

	HASH_ITER(hh, v->cache, e, tmp)
		entry_free(v, e);
}

void kp_v1dir__free(struct kp_v1dir *v)
{
	if (!v)
		return;
	cache_clear(v);
	free(v);
}

bool kp_v1dir__present(const struct kp_v1dir *v)
{
	return v && v->present;
}

/* Through the first task of @v2dir; 0 or -errno. */
static int lookup(struct kp_v1dir *v, const char *v2dir, char *out, size_t len)
{
	char path[PATH_CAP + 32], buf[8192], cg[PATH_CAP];
	size_t n, rootlen = strlen(v->root);
	const char *rel;
	int pid, err;

	snprintf(path, sizeof(path), "%s/cgroup.procs", v2dir);
	if ((err = kp_read_small(path, buf, 64, &n)) ||
	    (err = kp_cgroup_procs_first(buf, n, &pid)))
		return err;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if ((err = kp_read_small(path, buf, sizeof(buf), &n)) ||
	    (err = kp_proc_cgroup_find(buf, n, v->controller, cg, sizeof(cg))))
		return err;
	/* mounted from a sub-tree: paths are relative to the hierarchy root */
	rel = cg;
	if (strcmp(v->root, "/")) {
		if (strncmp(cg, v->root, rootlen) || (cg[rootlen] && cg[rootlen] != '/'))
			return -ENOENT;
		rel = cg + rootlen;
	}
	if (!*rel || !strcmp(rel, "/")) {
		out[0] = '\0';	/* the hierarchy's root: the host's, kept as shared */
		return 0;
	}
	if ((size_t)snprintf(out, len, "%s%s", v->mnt, rel) >= len)
		return -ERANGE;
	return 0;
}

/* Whether the v1 cgroup @v1dir is the v2 cgroup's own, by memread's rule:
 * the same relative path (what docker, podman and systemd create in every
 * hierarchy) or exactly the same tasks; a v1 cgroup shared with other
 * tasks holds someone else's figures. */
bool kp_v1dir_is_own(const char *mnt, const char *relpath, const char *v2dir,
		     const char *v1dir, uint64_t now_ns)
{
	/* The v1 side's task list is kept for KP_V1DIR_PROCS_FRESH_NS: on a
	 * hybrid host many containers share one v1 cgroup (their v1 trees left
	 * to the host), whose list holds every one of their tasks; read once
	 * per collection instead of once per container, it stops being the
	 * larger part of an idle daemon's CPU (perf, 1,000 containers). */
	static char a[64 * 1024], b[64 * 1024], b_path[2 * PATH_CAP];
	static size_t nb;
	static uint64_t b_ns;
	static bool b_ok;
	char path[2 * PATH_CAP];
	size_t na;

	if (!strcmp(v1dir + strlen(mnt), relpath))
		return true;
	snprintf(path, sizeof(path), "%s/cgroup.procs", v2dir);
	if (kp_read_small(path, a, sizeof(a), &na))
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.procs", v1dir);
	if (!b_ok || strcmp(path, b_path) || now_ns - b_ns >= KP_V1DIR_PROCS_FRESH_NS) {
		b_ok = !kp_read_small(path, b, sizeof(b), &nb);
		snprintf(b_path, sizeof(b_path), "%s", path);
		b_ns = now_ns;
	}
	return b_ok && kp_procs_same_set(a, na, b, nb) == 1;
}

int kp_v1dir__get(struct kp_v1dir *v, const char *relpath, const char *v2dir,
		  uint64_t now_ns, char *out, size_t len)
{
	struct v1_entry *e;
	int err;

	if (!v->present)
		return -ENOENT;
	HASH_FIND_STR(v->cache, relpath, e);
	if (e && now_ns - e->at_ns < KP_V1DIR_CACHE_NS) {
		if (!e->dir[0])
			return -ENOENT;	/* shared: not the container's */
		if ((size_t)snprintf(out, len, "%s", e->dir) >= len)
			return -ERANGE;
		return 0;
	}
	if (e)
		entry_free(v, e);
	if ((err = lookup(v, v2dir, out, len)))
		return err;
	if (out[0] && !kp_v1dir_is_own(v->mnt, relpath, v2dir, out, now_ns))
		out[0] = '\0';	/* kept as shared, for the cache's period */
	if (v->cached >= KP_V1DIR_CACHE_MAX)
		cache_clear(v);
	e = calloc(1, sizeof(*e));
	if (!e)
		return out[0] ? 0 : -ENOENT;	/* answered, just not kept */
	e->relpath = strdup(relpath);
	e->dir = strdup(out);
	e->at_ns = now_ns;
	if (!e->relpath || !e->dir) {
		free(e->relpath);
		free(e->dir);
		free(e);
		return out[0] ? 0 : -ENOENT;
	}
	HASH_ADD_KEYPTR(hh, v->cache, e->relpath, strlen(e->relpath), e);
	v->cached++;
	return out[0] ? 0 : -ENOENT;
}

void kp_v1dir__forget(struct kp_v1dir *v, const char *relpath)
{
	struct v1_entry *e;

	HASH_FIND_STR(v->cache, relpath, e);
	if (e)
		entry_free(v, e);
}
