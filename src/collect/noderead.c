/* noderead.c - the node files, read once per tick.
 *
 * Each /proc file stays open and is read again with pread from offset 0,
 * which makes the kernel regenerate it: a tick costs a read per file, no
 * open or close. /proc/self/mountinfo is re-read only when poll says the
 * mount table changed (POLLPRI, see proc(5)); on a host with thousands of
 * mounts that is most of the saving. Whole disks are the diskstats names
 * that /sys/block lists (partitions are not there), minus node_exporter's
 * default exclusions.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/log.h"
#include "collect/fsstat.h"
#include "collect/nodefiles.h"
#include "collect/noderead.h"

#define BUF_START (64u << 10)
#define BUF_MAX (8u << 20)	/* a mountinfo of ~40,000 mounts */

static const char *const paths[KP_NODE_FILES] = {
	[KP_NODE_MEMINFO] = "/proc/meminfo",
	[KP_NODE_LOADAVG] = "/proc/loadavg",
	[KP_NODE_STAT] = "/proc/stat",
	[KP_NODE_DISKSTATS] = "/proc/diskstats",
	[KP_NODE_NETDEV] = "/proc/net/dev",
	[KP_NODE_MOUNTINFO] = "/proc/self/mountinfo",
	[KP_NODE_PIDS] = "/proc",
};

struct kp_noderead {
	int fd[KP_NODE_FILES];
	bool said[KP_NODE_FILES];	/* a failure was logged */
	char *buf;
	size_t cap;
	struct kp_node_fslist *mounts;	/* selected at the last mountinfo change */
	bool mounts_ok;
	bool said_fs;
	struct kp_fsstat *fs;
};

struct kp_noderead *kp_noderead__new(void)
{
	struct kp_noderead *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	for (int i = 0; i < KP_NODE_FILES; i++)
		r->fd[i] = -1;
	r->buf = malloc(BUF_START);
	r->cap = BUF_START;
	r->mounts = calloc(1, sizeof(*r->mounts));
	r->fs = kp_fsstat__new(KP_NODE_FS_DEADLINE_NS, KP_NODE_FS_WAIT_NS, NULL);
	if (!r->buf || !r->mounts || !r->fs) {
		kp_noderead__free(r);
		return NULL;
	}
	return r;
}

void kp_noderead__free(struct kp_noderead *r)
{
	if (!r)
		return;
	for (int i = 0; i < KP_NODE_FILES; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	kp_fsstat__free(r->fs);
	free(r->mounts);
	free(r->buf);
	free(r);
}

/* A failure is counted every time and logged the first time; @kept: the
 * figures of the lines that did parse are still shown. */
static void failed(struct kp_noderead *r, struct kp_node_figs *out, int file, int err, bool kept)
{
	out->read_errors[file]++;
	if (r->said[file])
		return;
	r->said[file] = true;
	if (kept)
		kp_info("node: %s: a line did not parse (%s); the others are shown (reported once)",
			paths[file], strerror(-err));
	else
		kp_info("node: %s: %s; its kpulse_node_ series are left out (reported once)",
			paths[file], strerror(-err));
}

/* The whole file into r->buf (NUL-terminated); its length or -errno. A
 * file over BUF_MAX is cut at its last full line. */
static ssize_t slurp(struct kp_noderead *r, int file)
{
	size_t len = 0;

	if (r->fd[file] < 0) {
		r->fd[file] = open(paths[file], O_RDONLY | O_CLOEXEC);
		if (r->fd[file] < 0)
			return -errno;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= r->cap && r->cap < BUF_MAX) {
			char *b = realloc(r->buf, r->cap * 2);

			if (!b)
				return -ENOMEM;
			r->buf = b;
			r->cap *= 2;
		}
		if (len + 1 >= r->cap) {
			char *nl = memrchr(r->buf, '\n', len);

			len = nl ? (size_t)(nl - r->buf) + 1 : 0;
			break;
		}
		n = pread(r->fd[file], r->buf + len, r->cap - 1 - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r->buf[len] = '\0';
	return (ssize_t)len;
}

typedef int (*parse_fn)(const char *buf, size_t len, void *out);

/* Read and parse one file; a parse error that still left figures (one odd
 * line) counts as an error but keeps them. */
static void read_one(struct kp_noderead *r, struct kp_node_figs *out, int file,
		     parse_fn parse, void *dst)
{
	ssize_t n = slurp(r, file);
	int err;

	out->have[file] = false;
	if (n < 0) {
		failed(r, out, file, (int)n, false);
		return;
	}
	err = parse(r->buf, (size_t)n, dst);
	out->have[file] = err != -ENODATA && !(err && file == KP_NODE_LOADAVG);
	if (err)
		failed(r, out, file, err, out->have[file]);
}

static bool whole_disk(const char *name, void *ctx)
{
	char path[64];

	(void)ctx;
	if (kp_node_disk_excluded(name))
		return false;
	snprintf(path, sizeof(path), "/sys/block/%s", name);
	return !access(path, F_OK);
}

static int parse_meminfo(const char *b, size_t n, void *o) { return kp_meminfo_parse(b, n, o); }
static int parse_loadavg(const char *b, size_t n, void *o) { return kp_loadavg_parse(b, n, o); }
static int parse_stat(const char *b, size_t n, void *o) { return kp_kstat_parse(b, n, o); }
static int parse_netdev(const char *b, size_t n, void *o) { return kp_netdev_parse(b, n, o); }
static int parse_disks(const char *b, size_t n, void *o)
{
	return kp_node_diskstats_parse(b, n, whole_disk, NULL, o);
}

/* Processes: the numeric entries of /proc (thread group leaders). */
static int count_pids(uint64_t *out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			n++;
	closedir(d);
	*out = n;
	return 0;
}

static uint64_t read_u64_file(const char *path)
{
	char b[32];
	unsigned long long v = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	return sscanf(b, "%llu", &v) == 1 ? v : 0;
}

/* The mount list: re-selected when the mount table changed. */
static void read_mounts(struct kp_noderead *r, struct kp_node_figs *out)
{
	int fd = r->fd[KP_NODE_MOUNTINFO];
	ssize_t n;
	int err;

	if (fd >= 0 && r->mounts_ok) {
		struct pollfd pf = { .fd = fd, .events = POLLPRI };

		if (poll(&pf, 1, 0) == 0)
			return;
	}
	n = slurp(r, KP_NODE_MOUNTINFO);
	if (n < 0) {
		failed(r, out, KP_NODE_MOUNTINFO, (int)n, false);
		return;
	}
	err = kp_mountinfo_select(r->buf, (size_t)n, r->mounts);
	if (err)
		failed(r, out, KP_NODE_MOUNTINFO, err, err != -ENOMEM);
	r->mounts_ok = err != -ENOMEM;
}

void kp_noderead__read(struct kp_noderead *r, struct kp_node_figs *out, uint64_t now_ns)
{
	int err;

	read_one(r, out, KP_NODE_MEMINFO, parse_meminfo, &out->mem);
	read_one(r, out, KP_NODE_LOADAVG, parse_loadavg, &out->load);
	read_one(r, out, KP_NODE_STAT, parse_stat, &out->stat);
	read_one(r, out, KP_NODE_DISKSTATS, parse_disks, &out->disks);
	read_one(r, out, KP_NODE_NETDEV, parse_netdev, &out->net);
	err = count_pids(&out->pids);
	out->have[KP_NODE_PIDS] = !err;
	if (err)
		failed(r, out, KP_NODE_PIDS, err, false);
	out->max_threads = read_u64_file("/proc/sys/kernel/threads-max");
	out->max_pids = read_u64_file("/proc/sys/kernel/pid_max");
	read_mounts(r, out);
	out->have[KP_NODE_MOUNTINFO] = r->mounts_ok;
	if (r->mounts_ok) {
		err = kp_fsstat__tick(r->fs, r->mounts, &out->fs);
		if (err <= 0)
			out->fs_stale_ticks++;
		if (err < 0 && !r->said_fs) {
			r->said_fs = true;
			kp_info("node: no statfs pass could start (%s); filesystem figures stay as "
				"of an earlier tick (reported once)", strerror(-err));
		}
		out->fs_stuck = kp_fsstat__stuck(r->fs);
	}
	out->read_ns = now_ns;
}
