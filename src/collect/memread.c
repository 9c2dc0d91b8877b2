/* memread.c - the per-cgroup file reads behind PSI, usage and limit.
 *
 * A handful of small files per cgroup and collection: each is opened,
 * read once into a stack buffer and closed, then parsed by memfiles.c.
 * On a hybrid host a v2 cgroup has no memory files; its tasks' v1 memory
 * cgroup has them, so the first task listed in cgroup.procs names it. That
 * v1 cgroup's figures are the container's only when it is the container's
 * own: the same relative path (what docker, podman and systemd create in
 * every hierarchy) or exactly the same tasks. Otherwise (two v2 cgroups
 * whose tasks share one v1 memory cgroup, say) no usage is reported for
 * it: another's memory is not this container's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <uthash.h>
#include "base/clock.h"
#include "base/log.h"
#include "collect/memread.h"
#include "collect/v1dir.h"
#include "collect/readfile.h"
#include "collect/memstat.h"
#include "model/text.h"

#define PATH_CAP 4096
/* A cgroup's v1 memory directory is looked up through one of its tasks
 * (two file reads); the answer is kept this long, and dropped as soon as
 * reading it fails. The cache is emptied past V1_CACHE_MAX entries. */
#define V1_CACHE_NS (30ull * 1000000000ull)
#define V1_CACHE_MAX 8192

struct v1_entry {
	char *relpath;		/* key: v2 path */
	char *v1dir;
	uint64_t at_ns;
	UT_hash_handle hh;
};

struct kp_memread {
	char v2[PATH_CAP];
	bool have_v1;
	char v1_mnt[PATH_CAP];
	char v1_root[PATH_CAP];
	bool v2_memory_seen;	/* some cgroup had memory.current */
	bool v2_has_memory;	/* the v2 root offers the memory controller */
	struct v1_entry *v1_cache;	/* v1dir "" = shared: not the container's */
	unsigned int v1_cached;
	bool said_shared;
	bool said_psi, said_node_psi, said_usage, said_parse;
};

struct kp_memread *kp_memread__new(const char *v2_root)
{
	struct kp_memread *m = calloc(1, sizeof(*m));
	FILE *mi;

	if (!m)
		return NULL;
	snprintf(m->v2, sizeof(m->v2), "%s", v2_root);
	{	/* hybrid hosts keep memory in v1: then no v2 file will have it */
		char path[PATH_CAP + 32];
		FILE *f;

		snprintf(path, sizeof(path), "%s/cgroup.controllers", v2_root);
		f = fopen(path, "re");
		if (f) {
			char word[64];

			while (fscanf(f, "%63s", word) == 1)
				if (!strcmp(word, "memory"))
					m->v2_has_memory = true;
			fclose(f);
		} else {
			m->v2_has_memory = true;	/* cannot tell: try */
		}
	}
	mi = fopen("/proc/self/mountinfo", "re");
	if (mi) {
		m->have_v1 = !kp_cgroup_find_v1(mi, "memory", m->v1_mnt, sizeof(m->v1_mnt),
						m->v1_root, sizeof(m->v1_root));
		fclose(mi);
	}
	return m;
}

static void v1_cache_clear(struct kp_memread *m)
{
	struct v1_entry *e, *tmp;

	HASH_ITER(hh, m->v1_cache, e, tmp) {
		HASH_DEL(m->v1_cache, e);
		free(e->relpath);
		free(e->v1dir);
		free(e);
	}
	m->v1_cached = 0;
}

void kp_memread__free(struct kp_memread *m)
{
	if (!m)
		return;
	v1_cache_clear(m);
	free(m);
}


uint64_t kp_memread__shared(const struct kp_memread *m)
{
	const struct v1_entry *e, *tmp;
	uint64_t n = 0;

	HASH_ITER(hh, m->v1_cache, e, tmp)
		n += !e->v1dir[0];
	return n;
}

const char *kp_memread__usage_source(const struct kp_memread *m)
{
	if (m->v2_memory_seen)
		return "v2";
	return m->have_v1 ? "v1" : "none";
}


static bool dir_exists(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0;
}

/* A path as every output shows names (model/text.h): a cgroup named with
 * bytes that are not UTF-8 must not put them into the log. */
static const char *shown(const char *path, char *buf, size_t len)
{
	kp_visible(path, buf, len);
	return buf;
}

static void say_parse_error(struct kp_memread *m, const char *path, int err)
{
	char vis[PATH_CAP];

	if (m->said_parse)
		return;
	m->said_parse = true;
	kp_info("memread: cannot parse %s: %s (skipped; reported once)",
		shown(path, vis, sizeof(vis)), strerror(-err));
}

static void say_no_psi(const char *path, int err, bool node)
{
	char vis[PATH_CAP];

	kp_info("memread: no pressure file %s (%s): %s pressure series are not "
		"exported where it is missing (PSI needs CONFIG_PSI and psi=1; "
		"reported once)", shown(path, vis, sizeof(vis)), strerror(-err),
		node ? "node" : "container");
}

static void read_psi(struct kp_memread *m, const char *dir, bool node,
		     struct kp_mem_files *out)
{
	char path[PATH_CAP + 32], buf[512];
	size_t len;
	int err;

	for (int r = 0; r < KP_PSI_NRES; r++) {
		snprintf(path, sizeof(path), node ? "%s/%s" : "%s/%s.pressure", dir,
			 kp_psi_res_name(r));
		err = kp_read_small(path, buf, sizeof(buf), &len);
		if (!err) {
			err = kp_psi_parse(buf, len, &out->psi[r]);
			if (!err)
				out->has_psi[r] = true;
			else
				say_parse_error(m, path, err);
			continue;
		}
		/* gone since the tree walk: not a property of the host */
		if (!node && !dir_exists(dir))
			return;
		if (node ? m->said_node_psi : m->said_psi)
			continue;
		*(node ? &m->said_node_psi : &m->said_psi) = true;
		say_no_psi(path, err, node);
	}
}

/* memory.stat (and on v2 memory.swap.current) of @dir: working set, RSS,
 * cache and swap as cAdvisor computes them, for the usage just read. */
static void read_stat(struct kp_memread *m, const char *dir, bool v2, struct kp_mem_files *out)
{
	char path[PATH_CAP + 64], buf[8192];
	struct kp_memstat st;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	if (kp_read_small(path, buf, sizeof(buf), &len))
		return;
	err = kp_memstat_parse(buf, len, &st);
	if (err) {
		say_parse_error(m, path, err);
		return;
	}
	out->has_stat = true;
	out->working_set_bytes = kp_memstat_working_set(&st, out->usage_bytes);
	out->rss_bytes = st.rss_bytes;
	out->cache_bytes = st.cache_bytes;
	out->has_swap = st.has_swap;
	out->swap_bytes = st.swap_bytes;
	if (!v2)
		return;
	snprintf(path, sizeof(path), "%s/memory.swap.current", dir);
	if (!kp_read_small(path, buf, sizeof(buf), &len) &&
	    !kp_memfile_parse_u64(buf, len, &out->swap_bytes))
		out->has_swap = true;	/* absent without swap accounting */
}

/* usage and limit from @dir's files named @usage_name / @limit_name */
static bool read_usage(struct kp_memread *m, const char *dir, const char *usage_name,
		       const char *limit_name, struct kp_mem_files *out)
{
	char path[PATH_CAP + 64], buf[128];
	bool unlimited;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, usage_name);
	err = kp_read_small(path, buf, sizeof(buf), &len);
	if (err)
		return false;
	err = kp_memfile_parse_u64(buf, len, &out->usage_bytes);
	if (err) {
		say_parse_error(m, path, err);
		return true;
	}
	out->has_usage = true;
	read_stat(m, dir, !strcmp(usage_name, "memory.current"), out);
	snprintf(path, sizeof(path), "%s/%s", dir, limit_name);
	if (kp_read_small(path, buf, sizeof(buf), &len))
		return true;
	err = kp_memfile_parse_limit(buf, len, &out->limit_bytes, &unlimited);
	if (err)
		say_parse_error(m, path, err);
	else if (!unlimited)
		out->has_limit = true;
	return true;
}

/* Hybrid host: the v1 memory cgroup of the first task in the v2 cgroup,
 * into @v1dir; false when no task names one. */
static bool find_v1_dir(struct kp_memread *m, const char *dir, char *v1dir, size_t len)
{
	char path[PATH_CAP + 32], buf[8192], cg[PATH_CAP];
	size_t n, rootlen = strlen(m->v1_root);
	const char *rel;
	int pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (kp_read_small(path, buf, 64, &n) || kp_cgroup_procs_first(buf, n, &pid))
		return false;	/* no task: nothing names a v1 cgroup */
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (kp_read_small(path, buf, sizeof(buf), &n) ||
	    kp_proc_cgroup_find(buf, n, "memory", cg, sizeof(cg)))
		return false;
	/* mounted from a sub-tree: paths are relative to the hierarchy root */
	rel = cg;
	if (strcmp(m->v1_root, "/")) {
		if (strncmp(cg, m->v1_root, rootlen) || (cg[rootlen] && cg[rootlen] != '/'))
			return false;
		rel = cg + rootlen;
	}
	snprintf(v1dir, len, "%s%s", m->v1_mnt, strcmp(rel, "/") ? rel : "");
	return true;
}

static void read_usage_v1(struct kp_memread *m, const char *relpath, const char *dir,
			  struct kp_mem_files *out)
{
	uint64_t now = kp_now_mono_ns();
	char v1dir[2 * PATH_CAP];
	struct v1_entry *e;

	HASH_FIND_STR(m->v1_cache, relpath, e);
	if (e && now - e->at_ns < V1_CACHE_NS &&
	    (!e->v1dir[0] ||	/* shared: nothing to report */
	     read_usage(m, e->v1dir, "memory.usage_in_bytes", "memory.limit_in_bytes", out)))
		return;
	if (e) {	/* stale or unreadable: look again */
		HASH_DEL(m->v1_cache, e);
		free(e->relpath);
		free(e->v1dir);
		free(e);
		m->v1_cached--;
	}
	if (!find_v1_dir(m, dir, v1dir, sizeof(v1dir)))
		return;
	if (kp_v1dir_is_own(m->v1_mnt, relpath, dir, v1dir, now)) {
		read_usage(m, v1dir, "memory.usage_in_bytes", "memory.limit_in_bytes", out);
	} else {
		/* /health notes it; the terminal commands stay quiet (-v) */
		if (!m->said_shared) {
			char vis[PATH_CAP], vis1[PATH_CAP];

			kp_debug("memread: %s shares its v1 memory cgroup %s with other tasks: "
				 "no memory usage is reported for such containers (reported once)",
				 shown(relpath, vis, sizeof(vis)),
				 shown(v1dir + strlen(m->v1_mnt), vis1, sizeof(vis1)));
		}
		m->said_shared = true;
		v1dir[0] = 0;	/* cached as shared */
	}
	if (m->v1_cached >= V1_CACHE_MAX)
		v1_cache_clear(m);
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->relpath = strdup(relpath);
	e->v1dir = strdup(v1dir);
	e->at_ns = now;
	if (!e->relpath || !e->v1dir) {
		free(e->relpath);
		free(e->v1dir);
		free(e);
		return;
	}
	HASH_ADD_KEYPTR(hh, m->v1_cache, e->relpath, strlen(e->relpath), e);
	m->v1_cached++;
}

void kp_memread__cgroup(struct kp_memread *m, const char *relpath,
			struct kp_mem_files *out)
{
	char dir[2 * PATH_CAP];
	bool root = !strcmp(relpath, "/");

	memset(out, 0, sizeof(*out));
	snprintf(dir, sizeof(dir), "%s%s", m->v2, root ? "" : relpath);
	read_psi(m, dir, false, out);
	if (root)	/* the root cgroup has no memory files: that is the node */
		return;
	if (m->v2_has_memory && read_usage(m, dir, "memory.current", "memory.max", out)) {
		m->v2_memory_seen = true;
		return;
	}
	if (m->have_v1) {
		read_usage_v1(m, relpath, dir, out);
		return;
	}
	if (!m->said_usage && dir_exists(dir)) {
		char vis[PATH_CAP];

		m->said_usage = true;
		kp_info("memread: %s/memory.current is missing and there is no v1 memory "
			"hierarchy: container memory usage and limit are not exported "
			"where the memory controller is off (reported once)",
			shown(dir, vis, sizeof(vis)));
	}
}

void kp_memread__node(struct kp_memread *m, struct kp_mem_files *out)
{
	memset(out, 0, sizeof(*out));
	read_psi(m, "/proc/pressure", true, out);
}
