/* cpuread.c - the per-cgroup reads behind CPU limit and throttling.
 *
 * Three small files per cgroup and collection, each read once into a
 * stack buffer and parsed by cpufiles.c. A v2 cgroup without cpu.max has
 * no cpu controller enabled; its tasks' v1 cpu cgroup then has the files.
 * An unlimited cgroup has no limit but still its cpu.stat (nr_periods
 * stays 0 there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "collect/cpuread.h"
#include "collect/readfile.h"
#include "collect/v1dir.h"

#define PATH_CAP 4096

struct kp_cpuread {
	char v2[PATH_CAP];
	bool v2_has_cpu;	/* the v2 root offers the cpu controller */
	struct kp_v1dir *v1;
	bool seen_v2, seen_v1, said_parse;
};

/* Hybrid hosts bind cpu to v1: then no v2 cgroup has cpu.max, and trying
 * each one's is an open that fails per container and collection. */
static bool v2_offers_cpu(const char *v2_root)
{
	char path[PATH_CAP + 32], buf[512], *save, *w;
	size_t len;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", v2_root);
	if (kp_read_small(path, buf, sizeof(buf), &len))
		return true;	/* cannot tell: try */
	for (w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (!strcmp(w, "cpu"))
			return true;
	return false;
}

struct kp_cpuread *kp_cpuread__new(const char *v2_root)
{
	struct kp_cpuread *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->v2, sizeof(c->v2), "%s", v2_root);
	c->v2_has_cpu = v2_offers_cpu(v2_root);
	c->v1 = kp_v1dir__new("cpu");
	if (!c->v1) {
		free(c);
		return NULL;
	}
	return c;
}

void kp_cpuread__free(struct kp_cpuread *c)
{
	if (!c)
		return;
	kp_v1dir__free(c->v1);
	free(c);
}

const char *kp_cpuread__source(const struct kp_cpuread *c)
{
	if (c->seen_v2)
		return "v2";
	if (c->seen_v1)
		return "v1";
	return kp_v1dir__present(c->v1) ? "v1" : "none";
}

static void say_parse(struct kp_cpuread *c, const char *dir, const char *file, int err)
{
	if (c->said_parse)
		return;
	c->said_parse = true;
	kp_info("cpuread: cannot parse %s/%s: %s (skipped; reported once)", dir, file,
		strerror(-err));
}

/* cpu.stat of @dir into out->throttle; false when unreadable. */
static bool read_stat(struct kp_cpuread *c, const char *dir, struct kp_cpu_files *out)
{
	char path[2 * PATH_CAP], buf[1024];
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	if (kp_read_small(path, buf, sizeof(buf), &len))
		return false;
	err = kp_cpu_stat_parse(buf, len, &out->throttle);
	if (!err)
		out->has_throttle = true;
	else if (err != -ENODATA)
		say_parse(c, dir, "cpu.stat", err);
	return true;
}

static bool read_v2(struct kp_cpuread *c, const char *dir, struct kp_cpu_files *out)
{
	char path[2 * PATH_CAP], buf[128];
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if (kp_read_small(path, buf, sizeof(buf), &len))
		return false;	/* no cpu controller here */
	err = kp_cpu_max_parse(buf, len, &out->limit);
	if (err)
		say_parse(c, dir, "cpu.max", err);
	else
		out->has_limit = out->limit.limited;
	read_stat(c, dir, out);
	return true;
}

static bool read_v1(struct kp_cpuread *c, const char *dir, struct kp_cpu_files *out)
{
	char path[2 * PATH_CAP], q[64], p[64];
	size_t ql, pl;
	int err;

	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
	if (kp_read_small(path, q, sizeof(q), &ql))
		return false;
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
	if (kp_read_small(path, p, sizeof(p), &pl))
		return false;
	err = kp_cpu_cfs_parse(q, ql, p, pl, &out->limit);
	if (err)
		say_parse(c, dir, "cpu.cfs_quota_us", err);
	else
		out->has_limit = out->limit.limited;
	read_stat(c, dir, out);
	return true;
}

void kp_cpuread__cgroup(struct kp_cpuread *c, const char *relpath, uint64_t now_ns,
			struct kp_cpu_files *out)
{
	char dir[2 * PATH_CAP], v1dir[2 * PATH_CAP];

	memset(out, 0, sizeof(*out));
	if (!strcmp(relpath, "/"))
		return;	/* the root: the host, never limited */
	snprintf(dir, sizeof(dir), "%s%s", c->v2, relpath);
	if (c->v2_has_cpu && read_v2(c, dir, out)) {
		c->seen_v2 = true;
		return;
	}
	if (kp_v1dir__get(c->v1, relpath, dir, now_ns, v1dir, sizeof(v1dir)))
		return;
	if (read_v1(c, v1dir, out))
		c->seen_v1 = true;
	else
		kp_v1dir__forget(c->v1, relpath);
}
