/* memfiles.c - parsers for PSI, cgroup memory and /proc cgroup files.
 *
 * Kernel files are read into a buffer by the caller and parsed here, with
 * no path logic, so the unit tests feed them truncated, empty and garbage
 * text. Parsing is strict where a wrong number would be exported (a cut
 * line is an error, not a zero) and lenient where kernels differ (unknown
 * PSI keys, a missing "full" line).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "collect/memfiles.h"
#include "collect/kvfile.h"
#include "collect/cgroup.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal fraction such as "12.34" (PSI averages): digits, optionally a
 * dot and digits. */
static int take_avg(const char **p, const char *end, double *out)
{
	const char *s = *p;
	double v = 0, scale = 0.1;
	bool digits = false;

	for (; s < end && *s >= '0' && *s <= '9'; s++, digits = true)
		v = v * 10 + (*s - '0');
	if (s < end && *s == '.') {
		for (s++; s < end && *s >= '0' && *s <= '9'; s++, digits = true) {
			v += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (!digits)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

/* One "some ..." or "full ..." line body (after the word), up to @end. */
static int psi_line(const char *s, const char *end, struct kp_psi_line *l)
{
	enum { A10 = 1, A60 = 2, A300 = 4, TOTAL = 8 };
	unsigned int seen = 0;
	int err;

	while (s < end) {
		const char *key, *eq;

		while (s < end && is_space(*s))
			s++;
		if (s >= end)
			break;
		key = s;
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq)
			return -EINVAL;
		s = eq + 1;
#define KEY(k) ((size_t)(eq - key) == sizeof(k) - 1 && !memcmp(key, k, sizeof(k) - 1))
		if (KEY("avg10")) {
			err = take_avg(&s, end, &l->avg10);
			seen |= A10;
		} else if (KEY("avg60")) {
			err = take_avg(&s, end, &l->avg60);
			seen |= A60;
		} else if (KEY("avg300")) {
			err = take_avg(&s, end, &l->avg300);
			seen |= A300;
		} else if (KEY("total")) {
			err = kp_take_u64(&s, end, &l->total_us);
			seen |= TOTAL;
		} else {
			/* a key this kernel has and we do not know: skip it */
			err = 0;
			while (s < end && !is_space(*s))
				s++;
		}
#undef KEY
		if (err)
			return err;
		if (s < end && !is_space(*s))
			return -EINVAL;
	}
	if (seen != (A10 | A60 | A300 | TOTAL))
		return -EINVAL;
	l->present = true;
	return 0;
}

int kp_psi_parse(const char *buf, size_t len, struct kp_psi *out)
{
	const char *s = buf, *end = buf + len;
	int err;

	memset(out, 0, sizeof(*out));
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		struct kp_psi_line *l;

		if (!eol)
			eol = end;
		if (eol - s >= 5 && !memcmp(s, "some ", 5))
			l = &out->some;
		else if (eol - s >= 5 && !memcmp(s, "full ", 5))
			l = &out->full;
		else if (eol == s)
			l = NULL;	/* blank line */
		else
			return -EINVAL;
		if (l) {
			if (l->present)
				return -EINVAL;	/* the same line twice */
			err = psi_line(s + 5, eol, l);
			if (err)
				return err;
		}
		s = eol + 1;
	}
	if (!out->some.present)
		return len ? -EINVAL : -ENODATA;
	return 0;
}

int kp_memfile_parse_u64(const char *buf, size_t len, uint64_t *out)
{
	const char *s = buf, *end = buf + len;
	int err;

	while (s < end && is_space(*s))
		s++;
	if (s == end)
		return -ENODATA;
	err = kp_take_u64(&s, end, out);
	if (err)
		return err;
	while (s < end && is_space(*s))
		s++;
	return s == end ? 0 : -EINVAL;
}

int kp_memfile_parse_limit(const char *buf, size_t len, uint64_t *out,
			   bool *unlimited)
{
	const char *s = buf, *end = buf + len;
	int err;

	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	*unlimited = false;
	if (end - s == 3 && !memcmp(s, "max", 3)) {
		*unlimited = true;
		*out = UINT64_MAX;
		return 0;
	}
	err = kp_memfile_parse_u64(s, (size_t)(end - s), out);
	if (!err && *out >= KP_MEM_UNLIMITED_MIN)
		*unlimited = true;
	return err;
}

/* Is @name one of the comma-separated words in [s, e)? */
static bool in_list(const char *s, const char *e, const char *name)
{
	size_t n = strlen(name);

	while (s < e) {
		const char *c = memchr(s, ',', (size_t)(e - s));

		if (!c)
			c = e;
		if ((size_t)(c - s) == n && !memcmp(s, name, n))
			return true;
		s = c + 1;
	}
	return false;
}

/* hierarchy-id:controller,list:path, one per line */
int kp_proc_cgroup_find(const char *buf, size_t len, const char *controller,
			char *out, size_t outlen)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *c1, *c2;

		if (!eol)
			eol = end;
		c1 = memchr(s, ':', (size_t)(eol - s));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
		if (c1 && c2 && in_list(c1 + 1, c2, controller)) {
			size_t n = (size_t)(eol - c2 - 1);

			if (n == 0 || c2[1] != '/')
				return -EINVAL;
			if (n >= outlen)
				return -ERANGE;
			memcpy(out, c2 + 1, n);
			out[n] = 0;
			return 0;
		}
		s = eol + 1;
	}
	return -ENOENT;
}

int kp_cgroup_procs_first(const char *buf, size_t len, int *pid)
{
	const char *s = buf, *end = buf + len, *eol;
	uint64_t v;
	int err;

	while (s < end && is_space(*s))
		s++;
	if (s == end)
		return -ENOENT;
	eol = memchr(s, '\n', (size_t)(end - s));
	err = kp_take_u64(&s, eol ? eol : end, &v);
	if (err)
		return err;
	if (s != (eol ? eol : end))
		return -EINVAL;
	if (v == 0 || v > 0x3fffffff)	/* PID_MAX_LIMIT is 2^22 */
		return -ERANGE;
	*pid = (int)v;
	return 0;
}

/* id parent major:minor root mountpoint opts [optional...] - fstype src superopts */
int kp_cgroup_find_v1(FILE *mi, const char *controller, char *mnt,
		      size_t mntlen, char *root, size_t rootlen)
{
	char *line = NULL, *tok[64], *save;
	size_t cap = 0;
	int ret = -ENOENT;

	while (ret == -ENOENT && getline(&line, &cap, mi) > 0) {
		int n = 0, sep = -1;

		for (char *t = strtok_r(line, " \n", &save); t && n < 64;
		     t = strtok_r(NULL, " \n", &save))
			tok[n++] = t;
		for (int i = 6; i < n; i++)
			if (!strcmp(tok[i], "-")) {
				sep = i;
				break;
			}
		if (sep < 0 || sep + 3 >= n || strcmp(tok[sep + 1], "cgroup") ||
		    !in_list(tok[sep + 3], tok[sep + 3] + strlen(tok[sep + 3]), controller))
			continue;
		kp_mountinfo_unescape(tok[3]);
		kp_mountinfo_unescape(tok[4]);
		if (strlen(tok[4]) >= mntlen || strlen(tok[3]) >= rootlen) {
			ret = -ERANGE;
			break;
		}
		snprintf(mnt, mntlen, "%s", tok[4]);
		snprintf(root, rootlen, "%s", tok[3]);
		ret = 0;
	}
	free(line);
	return ret;
}

static int cmp_int(const void *x, const void *y)
{
	int a = *(const int *)x, b = *(const int *)y;

	return (a > b) - (a < b);
}

/* The pids of a cgroup.procs text, sorted, into @out; their count or
 * -errno. */
static int procs_sorted(const char *buf, size_t len, int *out)
{
	const char *p = buf, *end = buf + len;
	int n = 0;

	while (p < end) {
		uint64_t v;

		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		if (kp_take_u64(&p, end, &v) || v == 0 || v > INT32_MAX)
			return -EINVAL;
		if (n == KP_PROCS_SET_MAX)
			return -E2BIG;
		out[n++] = (int)v;
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_int);
	return n;
}

int kp_procs_same_set(const char *a, size_t alen, const char *b, size_t blen)
{
	int *pa = malloc(2 * KP_PROCS_SET_MAX * sizeof(int)), *pb, na, nb, ret;

	if (!pa)
		return -ENOMEM;
	pb = pa + KP_PROCS_SET_MAX;
	na = procs_sorted(a, alen, pa);
	nb = procs_sorted(b, blen, pb);
	if (na < 0 || nb < 0)
		ret = na < 0 ? na : nb;
	else
		ret = na > 0 && na == nb && !memcmp(pa, pb, (size_t)na * sizeof(int));
	free(pa);
	return ret;
}
