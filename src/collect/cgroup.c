/* cgroup.c - cgroup v2 mount discovery and id -> path resolution.
 *
 * A cgroup v2 id is the inode number of its directory, so a walk of the tree
 * gives every id its path. Walks are rate-limited: ids of cgroups that died
 * before we saw them must not make us walk on every collection. One walk
 * settles every id seen before it began: found, or gone (ids are never
 * reused), so a walk per second keeps up with any rate of churn. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>
#include "collect/cgroup.h"
#include "collect/cgwalk.h"
#include "base/log.h"

/* Walks for unknown ids at most this often: under the shortest usual
 * interval (1 s), so that collections a little less than a second apart
 * each get theirs (at 1 s, with 1 s here, every other one did, and the
 * ids of gone cgroups waited two intervals more). */
#define RESCAN_MIN_NS 500000000ull

struct cg_entry {
	uint64_t id;
	char *path;
	UT_hash_handle hh;
};

struct kp_cgroups {
	char root[4096];
	size_t root_len;
	struct cg_entry *by_id;
	uint64_t last_walk_ns;
	uint64_t walks;
	bool last_walk_ok;	/* the index holds the whole tree */
	int root_fd;		/* for open_by_handle_at; -1 until needed */
	bool no_handles;	/* open_by_handle_at cannot tell here */
};

void kp_mountinfo_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

int kp_cgroup_find_v2(FILE *mi, char *out, size_t outlen)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	/* id parent major:minor root mountpoint opts [optional...] - fstype src */
	while (getline(&line, &cap, mi) > 0) {
		char *save = NULL, *tok, *mnt = NULL;
		int field = 0;
		bool after_sep = false;

		for (tok = strtok_r(line, " \n", &save); tok;
		     tok = strtok_r(NULL, " \n", &save), field++) {
			if (field == 4)
				mnt = tok;
			if (after_sep) {
				if (!strcmp(tok, "cgroup2") && mnt &&
				    strlen(mnt) < outlen) {
					kp_mountinfo_unescape(mnt);
					snprintf(out, outlen, "%s", mnt);
					ret = 0;
				}
				break;
			}
			if (field > 5 && !strcmp(tok, "-"))
				after_sep = true;
		}
		if (!ret)
			break;
	}
	free(line);
	return ret;
}

int kp_cgroup_v2_root(char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret;

	if (!f)
		return -errno;
	ret = kp_cgroup_find_v2(f, out, outlen);
	fclose(f);
	return ret;
}

struct kp_cgroups *kp_cgroups__new(const char *v2_root)
{
	struct kp_cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	snprintf(cg->root, sizeof(cg->root), "%s", v2_root);
	cg->root_fd = -1;
	/* test hook: as if cgroups could not be opened by id (no privilege
	 * for it, or a kernel without it), so walks settle gone cgroups */
	cg->no_handles = getenv("KPULSE_TEST_NO_HANDLES") != NULL;
	cg->root_len = strlen(cg->root);
	while (cg->root_len > 1 && cg->root[cg->root_len - 1] == '/')
		cg->root[--cg->root_len] = 0;
	return cg;
}

static void clear_index(struct kp_cgroups *cg)
{
	struct cg_entry *e, *tmp;

	HASH_ITER(hh, cg->by_id, e, tmp) {
		HASH_DEL(cg->by_id, e);
		free(e->path);
		free(e);
	}
}

void kp_cgroups__free(struct kp_cgroups *cg)
{
	if (!cg)
		return;
	clear_index(cg);
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	free(cg);
}

const char *kp_cgroups__root(const struct kp_cgroups *cg)
{
	return cg->root;
}

uint64_t kp_cgroups__walks(const struct kp_cgroups *cg)
{
	return cg->walks;
}

static int walk_cb(void *ctx, uint64_t ino, const char *rel)
{
	struct kp_cgroups *cg = ctx;
	struct cg_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->id = ino;
	e->path = strdup(rel);
	if (!e->path) {
		free(e);
		return -ENOMEM;
	}
	HASH_ADD(hh, cg->by_id, id, sizeof(e->id), e);
	return 0;
}

/* kp_cgwalk skips a directory removed while it looks (nftw gave up the
 * whole walk, and on a host with cgroup churn one always is); a walk that
 * still failed leaves the index partial, which the settling of unknown ids
 * must know (last_walk_ok). */
static int walk(struct kp_cgroups *cg)
{
	int ret;

	clear_index(cg);
	cg->last_walk_ok = false;
	ret = kp_cgwalk(cg->root, walk_cb, cg);
	cg->walks++;
	cg->last_walk_ok = ret == 0;
	return ret;
}

const char *kp_cgroups__lookup(const struct kp_cgroups *cg, uint64_t id)
{
	struct cg_entry *e;

	HASH_FIND(hh, cg->by_id, &id, sizeof(id), e);
	return e && kp_cgroups__alive(cg, e->path, id) ? e->path : NULL;
}

bool kp_cgroups__walk_due(struct kp_cgroups *cg, uint64_t now_ns)
{
	if (cg->walks && now_ns - cg->last_walk_ns < RESCAN_MIN_NS)
		return false;
	kp_cgroups__rescan(cg, now_ns);
	return true;
}

const char *kp_cgroups__path(struct kp_cgroups *cg, uint64_t id, uint64_t now_ns)
{
	const char *p = kp_cgroups__lookup(cg, id);

	if (p || !kp_cgroups__walk_due(cg, now_ns))
		return p;
	return kp_cgroups__lookup(cg, id);
}

bool kp_cgroups__missing(const struct kp_cgroups *cg, uint64_t id, uint64_t walks_before)
{
	struct cg_entry *e;

	if (!cg->last_walk_ok || cg->walks <= walks_before)
		return false;
	HASH_FIND(hh, cg->by_id, &id, sizeof(id), e);
	return !e;
}

/* A cgroup v2 file handle is its id (kernfs, FILEID_KERNFS): opening one
 * fails with ESTALE once the cgroup is removed. */
#define FILEID_KERNFS 0xfe

int kp_cgroups__id_alive(struct kp_cgroups *cg, uint64_t id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
	int fd;

	if (cg->no_handles)
		return -EOPNOTSUPP;
	if (cg->root_fd < 0)
		cg->root_fd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->root_fd < 0)
		return -errno;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(cg->root_fd, &h.fh, O_RDONLY | O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == ESTALE || errno == ENOENT)
		return 0;
	/* EPERM without CAP_DAC_READ_SEARCH, EOPNOTSUPP on old kernels */
	kp_debug("cgroup: cannot open cgroups by id (%s); a gone cgroup is told by "
		 "its path and by walks", strerror(errno));
	cg->no_handles = true;
	return -errno;
}

bool kp_cgroups__opens_by_id(const struct kp_cgroups *cg)
{
	return !cg->no_handles;
}

bool kp_cgroups__alive(const struct kp_cgroups *cg, const char *relpath,
		       uint64_t id)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", cg->root, strcmp(relpath, "/") ? relpath : "");
	return stat(p, &st) == 0 && st.st_ino == id;
}

int kp_cgroups__rescan(struct kp_cgroups *cg, uint64_t now_ns)
{
	int ret;

	cg->last_walk_ns = now_ns;
	ret = walk(cg);
	if (ret)
		kp_debug("cgroup: walking %s failed", cg->root);
	return ret;
}

void kp_cgroups__foreach(const struct kp_cgroups *cg, kp_cgroups_fn fn, void *ctx)
{
	const struct cg_entry *e, *tmp;

	HASH_ITER(hh, cg->by_id, e, tmp)
		fn(ctx, e->id, e->path);
}
