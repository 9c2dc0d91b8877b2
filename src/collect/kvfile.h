/* kvfile.h - the "key value" line format of cgroup stat files (cpu.stat,
 * memory.stat): one lowercase key, one space, one unsigned decimal number
 * per line. Pure iteration over the file's bytes. */
#ifndef KPULSE_KVFILE_H
#define KPULSE_KVFILE_H

#include <stddef.h>
#include <stdint.h>

struct kp_kv {
	const char *key;	/* not terminated: use klen */
	size_t klen;
	uint64_t value;
};

/* The next line of [*s, end) into @kv, advancing *s. Returns 1 for a line,
 * 0 at the end, -EINVAL for a line that is not "key number" (a cut line
 * included), -ERANGE for a number past 64 bits. Blank lines are skipped. */
int kp_kv_next(const char **s, const char *end, struct kp_kv *kv);

/* An unsigned decimal at [*s, end), at least one digit, advancing *s past
 * it: 0, -EINVAL without a digit, -ERANGE past 64 bits. */
int kp_take_u64(const char **s, const char *end, uint64_t *out);

/* Does @kv's key equal @name? */
int kp_kv_is(const struct kp_kv *kv, const char *name);

#endif
