/* cpuread.c - the per-cgroup reads behind CPU limit and throttling.
 *
 * Each file is read once into a stack buffer and parsed by cpufiles.c.
 * A cgroup file costs ~8 µs to open and read on a VM, so only what can
 * move is read every time: cpu.stat of a limited cgroup. The limit itself
 * (cpu.max, or the v1 cfs quota and period) is read again every
 * KP_CPU_LIMIT_EVERY_NS, and an unlimited cgroup, which is never
 * throttled, has no cpu.stat read and no throttling series. A v2 tree
 * without the cpu controller (hybrid hosts) sends every read to the
 * tasks' v1 cpu cgroup.
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
/* cpu.stat of @dir into out->throttle; false when unreadable. */
static bool read_stat(struct kp_cpuread *c, const char *dir, struct kp_cpu_files *out)
{
	char path[2 * PATH_CAP], buf[1024];
	size_t len;
	int err;

	out->has_throttle = false;
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

/* cpu.max (v2), or cpu.cfs_quota_us and cpu.cfs_period_us (v1), into
 * out->limit; false when unreadable (no cpu controller there). */
static bool read_limit(struct kp_cpuread *c, const char *dir, bool v2, struct kp_cpu_files *out)
{
	char path[2 * PATH_CAP], q[128], p[64];
	size_t ql, pl;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "cpu.max" : "cpu.cfs_quota_us");
	if (kp_read_small(path, q, sizeof(q), &ql))
		return false;
	if (v2) {
		err = kp_cpu_max_parse(q, ql, &out->limit);
	} else {
		snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
		if (kp_read_small(path, p, sizeof(p), &pl))
			return false;
		err = kp_cpu_cfs_parse(q, ql, p, pl, &out->limit);
	}
	if (err)
		say_parse(c, dir, v2 ? "cpu.max" : "cpu.cfs_quota_us", err);
	out->has_limit = !err && out->limit.limited;
	return true;
}

/* The limit when due, then throttling while there is a limit: an
 * unlimited cgroup is never throttled (its counters stay 0), so its
 * cpu.stat is not read at all. */
static bool read_dir(struct kp_cpuread *c, const char *dir, bool v2, uint64_t now,
		     struct kp_cpu_files *out)
{
	if (!out->limit_read_ns || now - out->limit_read_ns >= KP_CPU_LIMIT_EVERY_NS) {
		if (!read_limit(c, dir, v2, out))
			return false;
		out->limit_read_ns = now ? now : 1;
	}
	if (out->has_limit)
		read_stat(c, dir, out);
	else
		out->has_throttle = false;
	return true;
}

void kp_cpuread__cgroup(struct kp_cpuread *c, const char *relpath, uint64_t now_ns,
			struct kp_cpu_files *out)
{
	char dir[2 * PATH_CAP], v1dir[2 * PATH_CAP];

	if (!strcmp(relpath, "/"))
		return;	/* the root: the host, never limited */
	snprintf(dir, sizeof(dir), "%s%s", c->v2, relpath);
	if (c->v2_has_cpu && read_dir(c, dir, true, now_ns, out)) {
		c->seen_v2 = true;
		return;
	}
	if (kp_v1dir__get(c->v1, relpath, dir, now_ns, v1dir, sizeof(v1dir))) {
		memset(out, 0, sizeof(*out));	/* none of its own: nothing to show */
		return;
	}
	if (!read_dir(c, v1dir, false, now_ns, out)) {
		kp_v1dir__forget(c->v1, relpath);	/* moved: look again next time */
		memset(out, 0, sizeof(*out));
		return;
	}
	c->seen_v1 = true;
}
