/* cgwalk.c - the cgroup tree walk. A cgroup directory holds 30-40 control
 * files and nftw(3) stats every one of them, by path: with 1,000 cgroups a
 * walk was 40,000 path lookups, half the idle daemon's CPU when walks came
 * often (each new cgroup id the maps show triggers one, at most once a
 * second). Here readdir's d_type picks the directories and only those are
 * opened (relative to their parent's fd) and fstat'ed, for the inode number
 * and to stay on the root's filesystem as nftw's FTW_MOUNT did. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "collect/cgwalk.h"

/* Deeper trees than this are not cgroup hierarchies anyone runs; the bound
 * keeps the open fds (one per level) bounded, as nftw's did. */
#define MAX_DEPTH 32

struct walk {
	kp_cgwalk_fn fn;
	void *ctx;
	dev_t dev;
	char rel[4096];
};

static bool dot(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* The directory open at @fd (closed here), @len bytes of w->rel its path. */
static int walk_dir(struct walk *w, int fd, size_t len, uint64_t ino, int depth)
{
	struct dirent *de;
	DIR *d;
	int ret = w->fn(w->ctx, ino, len ? w->rel : "/");

	if (ret || depth >= MAX_DEPTH || !(d = fdopendir(fd))) {
		close(fd);
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;
		int cfd;

		if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) || dot(de->d_name) ||
		    len + 1 + n >= sizeof(w->rel))
			continue;
		cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;	/* gone meanwhile, or not a directory */
		if (fstat(cfd, &st) || st.st_dev != w->dev) {
			close(cfd);
			continue;
		}
		w->rel[len] = '/';
		memcpy(w->rel + len + 1, de->d_name, n + 1);
		ret = walk_dir(w, cfd, len + 1 + n, st.st_ino, depth + 1);
		w->rel[len] = 0;
	}
	closedir(d);
	return ret;
}

int kp_cgwalk(const char *root, kp_cgwalk_fn fn, void *ctx)
{
	struct walk w = { .fn = fn, .ctx = ctx };
	struct stat st;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	w.dev = st.st_dev;
	return walk_dir(&w, fd, 0, st.st_ino, 0);
}
