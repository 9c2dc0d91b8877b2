/* nodefiles.c - parsers of the host's /proc files for the node series.
 *
 * Every parser walks the bytes it is given as spans (pointer, length)
 * instead of C strings: the text may hold NULs or lack a final newline,
 * and a line may be as long as it likes (/proc/stat's intr line has one
 * number per interrupt). Names are copied only after checking they fit
 * and hold no NUL, so a label value is never silently cut short.
 * The exclusion patterns are node_exporter 1.5's defaults, compiled with
 * regcomp so that they read the same as in its source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/nodefiles.h"

struct span {
	const char *p;
	size_t n;
};

/* The next line of [*cur, end) without its newline; false at the end. */
static bool next_line(const char **cur, const char *end, struct span *line)
{
	const char *nl;

	if (*cur >= end)
		return false;
	nl = memchr(*cur, '\n', (size_t)(end - *cur));
	line->p = *cur;
	line->n = (size_t)((nl ? nl : end) - *cur);
	*cur = nl ? nl + 1 : end;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next blank-separated field of @rest; false when none is left. */
static bool next_field(struct span *rest, struct span *f)
{
	while (rest->n && is_blank(*rest->p)) {
		rest->p++;
		rest->n--;
	}
	if (!rest->n)
		return false;
	f->p = rest->p;
	while (rest->n && !is_blank(*rest->p)) {
		rest->p++;
		rest->n--;
	}
	f->n = (size_t)(rest->p - f->p);
	return true;
}

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && !memcmp(s.p, word, s.n);
}

/* A decimal number filling the whole span. */
static int span_u64(struct span s, uint64_t *v)
{
	uint64_t x = 0;

	if (!s.n || s.n > 20)
		return s.n ? -ERANGE : -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		unsigned int d = (unsigned char)s.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* Copy a name that must fit in @cap with its NUL and hold no NUL. */
static bool span_name(struct span s, char *out, size_t cap)
{
	if (!s.n || s.n >= cap || memchr(s.p, '\0', s.n))
		return false;
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return true;
}

/* Keep the first error seen; -EINVAL wins over nothing, not over -ERANGE. */
static void note(int *err, int e)
{
	if (e && !*err)
		*err = e;
}

/* ---- /proc/meminfo ---- */

/* "Active(anon)" -> "Active_anon", as node_exporter's `\((.*)\)` -> "_$1"
 * (greedy: from the first '(' to the last ')'); only [A-Za-z0-9_] may
 * remain, the characters of a metric name. */
static bool meminfo_key(struct span k, char *out, size_t cap)
{
	const char *open = memchr(k.p, '(', k.n), *close = NULL;
	size_t o = 0;

	for (size_t i = k.n; open && i > (size_t)(open - k.p); i--)
		if (k.p[i - 1] == ')') {
			close = &k.p[i - 1];
			break;
		}
	for (size_t i = 0; i < k.n; i++) {
		char c = k.p[i];

		if (close && &k.p[i] == open)
			c = '_';
		else if (close && &k.p[i] == close)
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
		if (o + 1 >= cap)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

static bool meminfo_has(const struct kp_meminfo *m, const char *key)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (!strcmp(m->f[i].key, key))
			return true;
	return false;
}

int kp_meminfo_parse(const char *buf, size_t len, struct kp_meminfo *out)
{
	const char *cur = buf, *end = buf + len;
	struct span line;
	int err = 0;

	out->n = 0;
	out->left_out = 0;
	while (next_line(&cur, end, &line)) {
		struct span rest = line, key, val, unit, extra;
		struct kp_meminfo_field fld = { 0 };
		int e;

		if (!next_field(&rest, &key))
			continue;	/* blank line: node_exporter skips them too */
		if (key.n < 2 || key.p[key.n - 1] != ':' || !next_field(&rest, &val)) {
			note(&err, -EINVAL);
			continue;
		}
		key.n--;
		if (!meminfo_key(key, fld.key, sizeof(fld.key))) {
			note(&err, -EINVAL);
			continue;
		}
		if ((e = span_u64(val, &fld.value))) {
			note(&err, e);
			continue;
		}
		if (next_field(&rest, &unit)) {
			if (!span_is(unit, "kB") || next_field(&rest, &extra)) {
				note(&err, -EINVAL);
				continue;
			}
			if (fld.value > UINT64_MAX / 1024) {
				note(&err, -ERANGE);
				continue;
			}
			fld.value *= 1024;
			fld.bytes = true;
		}
		if (meminfo_has(out, fld.key))
			continue;
		if (out->n >= KP_NODE_MAX_MEMINFO) {
			out->left_out++;
			continue;
		}
		out->f[out->n++] = fld;
	}
	return err ? err : out->n ? 0 : -ENODATA;
}

/* ---- /proc/loadavg ---- */

static int span_load(struct span s, double *v)
{
	char tmp[32], *e;

	if (!span_name(s, tmp, sizeof(tmp)))
		return -EINVAL;
	*v = strtod(tmp, &e);
	if (*e || !isfinite(*v) || *v < 0 || tmp[0] == '-' || tmp[0] == '+')
		return -EINVAL;
	return 0;
}

int kp_loadavg_parse(const char *buf, size_t len, struct kp_loadavg *out)
{
	struct span rest = { buf, len }, f, a, b;
	const char *nl = memchr(buf, '\n', len);
	int e;

	if (nl)
		rest.n = (size_t)(nl - buf);
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 3; i++) {
		if (!next_field(&rest, &f))
			return len ? -EINVAL : -ENODATA;
		if ((e = span_load(f, &out->load[i])))
			return e;
	}
	if (!next_field(&rest, &f))
		return -EINVAL;
	a.p = f.p;
	b.p = memchr(f.p, '/', f.n);
	if (!b.p)
		return -EINVAL;
	a.n = (size_t)(b.p - f.p);
	b.p++;
	b.n = f.n - a.n - 1;
	if ((e = span_u64(a, &out->running)) || (e = span_u64(b, &out->threads)))
		return e;
	return 0;
}

/* ---- /proc/stat ---- */

int kp_kstat_parse(const char *buf, size_t len, struct kp_kstat *out)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "btime", offsetof(struct kp_kstat, boot_time) },
		{ "processes", offsetof(struct kp_kstat, forks) },
		{ "intr", offsetof(struct kp_kstat, intr) },
		{ "ctxt", offsetof(struct kp_kstat, ctxt) },
		{ "procs_running", offsetof(struct kp_kstat, procs_running) },
		{ "procs_blocked", offsetof(struct kp_kstat, procs_blocked) },
	};
	const char *cur = buf, *end = buf + len;
	struct span line;
	bool btime = false;
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (next_line(&cur, end, &line)) {
		struct span rest = line, key, val;
		uint64_t v;
		int e;

		if (!next_field(&rest, &key))
			continue;
		/* "cpu" is the sum, "cpu0".."cpuN" the online CPUs */
		if (key.n > 3 && !memcmp(key.p, "cpu", 3)) {
			struct span num = { key.p + 3, key.n - 3 };

			if (!span_u64(num, &v))
				out->cpus++;
			continue;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (!span_is(key, keys[i].key))
				continue;
			e = next_field(&rest, &val) ? span_u64(val, &v) : -EINVAL;
			if (e) {
				note(&err, e);
				break;
			}
			*(uint64_t *)((char *)out + keys[i].off) = v;
			if (i == 0)
				btime = true;
			break;
		}
	}
	if (!btime)
		return err ? err : -ENODATA;
	return err;
}

/* ---- /proc/net/dev ---- */

static bool netdev_has(const struct kp_netdevs *d, const char *name)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (!strcmp(d->d[i].name, name))
			return true;
	return false;
}

int kp_netdev_parse(const char *buf, size_t len, struct kp_netdevs *out)
{
	const char *cur = buf, *end = buf + len;
	struct span line;
	int err = 0;

	out->n = 0;
	out->left_out = 0;
	while (next_line(&cur, end, &line)) {
		struct span rest, name, f;
		struct kp_netdev d;
		const char *colon;
		unsigned int i;
		int e = 0;

		/* the two header lines are the ones with '|' */
		if (memchr(line.p, '|', line.n))
			continue;
		colon = memchr(line.p, ':', line.n);
		rest.p = line.p;
		rest.n = colon ? (size_t)(colon - line.p) : line.n;
		if (!next_field(&rest, &name) && !colon)
			continue;	/* blank line */
		if (!colon || rest.n || !span_name(name, d.name, sizeof(d.name))) {
			note(&err, -EINVAL);
			continue;
		}
		rest.p = colon + 1;
		rest.n = line.n - (size_t)(rest.p - line.p);
		for (i = 0; i < KP_NODE_NETDEV_STATS && next_field(&rest, &f); i++)
			if ((e = span_u64(f, &d.v[i])))
				break;
		if (!e && (i < KP_NODE_NETDEV_STATS || next_field(&rest, &f)))
			e = -EINVAL;
		if (e) {
			note(&err, e);
			continue;
		}
		if (netdev_has(out, d.name))
			continue;
		if (out->n >= KP_NODE_MAX_NETDEVS) {
			out->left_out++;
			continue;
		}
		out->d[out->n++] = d;
	}
	return err ? err : out->n ? 0 : -ENODATA;
}

/* ---- /proc/diskstats ---- */

static bool disk_has(const struct kp_node_disks *d, const char *name)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (!strcmp(d->d[i].name, name))
			return true;
	return false;
}

int kp_node_diskstats_parse(const char *buf, size_t len, kp_disk_keep_fn keep, void *ctx,
			    struct kp_node_disks *out)
{
	const char *cur = buf, *end = buf + len;
	struct span line;
	int err = 0;

	out->n = 0;
	out->left_out = 0;
	while (next_line(&cur, end, &line)) {
		struct span rest = line, f;
		struct kp_node_disk d = { 0 };
		uint64_t num;
		int e = 0;

		if (!next_field(&rest, &f))
			continue;
		/* major minor name, then 11 (< 4.18), 15 (< 5.5) or 17 fields;
		 * a later kernel's extra fields are ignored */
		if (span_u64(f, &num) || !next_field(&rest, &f) || span_u64(f, &num) ||
		    !next_field(&rest, &f) || !span_name(f, d.name, sizeof(d.name))) {
			note(&err, -EINVAL);
			continue;
		}
		while (d.nstats < KP_NODE_DISK_STATS && next_field(&rest, &f)) {
			if ((e = span_u64(f, &d.v[d.nstats])))
				break;
			d.nstats++;
		}
		if (!e && d.nstats < 11)
			e = -EINVAL;
		if (e) {
			note(&err, e);
			continue;
		}
		if ((keep && !keep(d.name, ctx)) || disk_has(out, d.name))
			continue;
		if (out->n >= KP_NODE_MAX_DISKS) {
			out->left_out++;
			continue;
		}
		out->d[out->n++] = d;
	}
	return err;
}

/* ---- exclusions (node_exporter 1.5 defaults) ---- */

static regex_t re_disk, re_mnt, re_fstype;
static bool re_ok;
static pthread_once_t re_once = PTHREAD_ONCE_INIT;

static void re_init(void)
{
	/* node_exporter's patterns with \d written as [0-9] (POSIX ERE) */
	re_ok = !regcomp(&re_disk, "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$",
			 REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_mnt, "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|"
			 "var/lib/containers/storage/.+)($|/)", REG_EXTENDED | REG_NOSUB) &&
		!regcomp(&re_fstype, "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|"
			 "devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|"
			 "rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
			 REG_EXTENDED | REG_NOSUB);
}

bool kp_node_disk_excluded(const char *name)
{
	pthread_once(&re_once, re_init);
	return !re_ok || !regexec(&re_disk, name, 0, NULL, 0);
}

bool kp_node_fs_excluded(const char *mountpoint, const char *fstype)
{
	pthread_once(&re_once, re_init);
	return !re_ok || !regexec(&re_mnt, mountpoint, 0, NULL, 0) ||
	       !regexec(&re_fstype, fstype, 0, NULL, 0);
}

/* ---- /proc/self/mountinfo ---- */

/* Decode the kernel's \ooo escapes (space, tab, newline and backslash in
 * paths) of @s into @out: 0, -ENAMETOOLONG when it does not fit, -EINVAL
 * when the text holds or decodes to a NUL. */
static int unescape(struct span s, char *out, size_t cap)
{
	size_t o = 0;

	if (memchr(s.p, '\0', s.n))
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (c == '\\' && i + 3 < s.n && s.p[i + 1] >= '0' && s.p[i + 1] <= '3' &&
		    s.p[i + 2] >= '0' && s.p[i + 2] <= '7' && s.p[i + 3] >= '0' && s.p[i + 3] <= '7') {
			c = (char)((s.p[i + 1] - '0') << 6 | (s.p[i + 2] - '0') << 3 | (s.p[i + 3] - '0'));
			i += 3;
			if (!c)
				return -EINVAL;
		}
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* Copy @str into the pool: its offset, or -ENOSPC. */
static int64_t pool_add(struct kp_node_fslist *l, const char *str)
{
	size_t n = strlen(str) + 1;
	uint32_t at = l->pool_used;

	if (n > KP_NODE_FS_POOL - at)
		return -ENOSPC;
	memcpy(&l->pool[at], str, n);
	l->pool_used = at + (uint32_t)n;
	return at;
}

static bool has_opt(struct span opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts.p, *e = opts.p + opts.n; p < e;) {
		const char *comma = memchr(p, ',', (size_t)(e - p));
		size_t len = (size_t)((comma ? comma : e) - p);

		if (len == n && !memcmp(p, opt, n))
			return true;
		p = comma ? comma + 1 : e;
	}
	return false;
}

static bool fs_has(const struct kp_node_fslist *l, const char *mnt, const char *dev,
		   const char *type)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (!strcmp(&l->pool[l->m[i].mountpoint], mnt) &&
		    !strcmp(&l->pool[l->m[i].device], dev) && !strcmp(&l->pool[l->m[i].fstype], type))
			return true;
	return false;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...]
 * - fstype source superopts". Fields are split on blanks; the kernel
 * escapes blanks inside them. */
static int mount_fields(struct span line, struct span *mnt, struct span *opts,
			struct span *type, struct span *src, struct span *sopts)
{
	struct span rest = line, f;

	for (int i = 0; i < 6; i++) {
		if (!next_field(&rest, &f))
			return -EINVAL;
		if (i == 4)
			*mnt = f;
		if (i == 5)
			*opts = f;
	}
	do {
		if (!next_field(&rest, &f))
			return -EINVAL;
	} while (!span_is(f, "-"));
	if (!next_field(&rest, type) || !next_field(&rest, src))
		return -EINVAL;
	if (!next_field(&rest, sopts))
		*sopts = (struct span){ "", 0 };	/* none: no "ro" there */
	return 0;
}

/* The three strings of a mount, decoded. */
struct mount_names {
	char mnt[4096], type[64], src[4096];
};

int kp_mountinfo_select(const char *buf, size_t len, struct kp_node_fslist *out)
{
	const char *cur = buf, *end = buf + len;
	struct mount_names *nm = malloc(sizeof(*nm));
	struct span line;
	int err = 0;

	out->n = 0;
	out->left_out = 0;
	out->pool_used = 0;
	if (!nm)
		return -ENOMEM;
	while (next_line(&cur, end, &line)) {
		struct span mnt, opts, type, src, sopts;
		struct kp_node_fs m = { 0 };
		uint32_t mark = out->pool_used;
		int64_t a, b, c;

		if (!line.n)
			continue;
		if (mount_fields(line, &mnt, &opts, &type, &src, &sopts) ||
		    unescape(mnt, nm->mnt, sizeof(nm->mnt)) ||
		    unescape(type, nm->type, sizeof(nm->type)) ||
		    unescape(src, nm->src, sizeof(nm->src))) {
			note(&err, -EINVAL);
			continue;
		}
		if (kp_node_fs_excluded(nm->mnt, nm->type) || fs_has(out, nm->mnt, nm->src, nm->type))
			continue;
		a = pool_add(out, nm->mnt);
		b = a < 0 ? a : pool_add(out, nm->type);
		c = b < 0 ? b : pool_add(out, nm->src);
		if (c < 0 || out->n >= KP_NODE_MAX_MOUNTS) {
			out->pool_used = mark;
			out->left_out++;
			continue;
		}
		m.mountpoint = (uint32_t)a;
		m.fstype = (uint32_t)b;
		m.device = (uint32_t)c;
		m.readonly = has_opt(opts, "ro") || has_opt(sopts, "ro");
		m.state = KP_FS_PENDING;
		out->m[out->n++] = m;
	}
	free(nm);
	return err;
}
