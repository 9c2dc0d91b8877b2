/* kvfile.c - "key value" lines of cgroup stat files.
 *
 * Strict where a wrong number would be exported: a line cut before its
 * number, or a number with trailing junk, is an error rather than a zero.
 */
#include <errno.h>
#include <string.h>

#include "collect/kvfile.h"

int kp_take_u64(const char **s, const char *end, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return 0;
}

int kp_kv_next(const char **s, const char *end, struct kp_kv *kv)
{
	const char *p = *s, *eol, *sp, *d;
	uint64_t v;
	int err;

	while (p < end && *p == '\n')
		p++;
	if (p >= end) {
		*s = end;
		return 0;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	sp = memchr(p, ' ', (size_t)(eol - p));
	if (!sp || sp == p || sp + 1 >= eol)
		return -EINVAL;
	d = sp + 1;
	if ((err = kp_take_u64(&d, eol, &v)))
		return err;
	if (d != eol)
		return -EINVAL;	/* trailing junk */
	kv->key = p;
	kv->klen = (size_t)(sp - p);
	kv->value = v;
	*s = eol;
	return 1;
}

int kp_kv_is(const struct kp_kv *kv, const char *name)
{
	return strlen(name) == kv->klen && !memcmp(kv->key, name, kv->klen);
}
