/* cpufiles.c - parsers for CPU bandwidth limit and throttling files.
 *
 * The same figures come from two layouts: cgroup v2 (cpu.max, cpu.stat
 * with throttled_usec) and, on hybrid hosts, the v1 cpu controller
 * (cpu.cfs_quota_us / cpu.cfs_period_us, cpu.stat with throttled_time in
 * ns). Both end up in one struct so outputs never ask which one it was.
 */
#include <errno.h>
#include <string.h>

#include "collect/cpufiles.h"
#include "collect/kvfile.h"

/* The kernel's bounds (kernel/sched/core.c): period 1 ms .. 1 s, quota
 * at least 1 ms; anything else is not a file the kernel wrote. */
#define PERIOD_MIN_US 1000u
#define PERIOD_MAX_US 1000000u
#define QUOTA_MIN_US 1000u

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static void trim(const char **s, const char **end)
{
	while (*s < *end && is_space(**s))
		(*s)++;
	while (*end > *s && is_space((*end)[-1]))
		(*end)--;
}

static int check_limit(struct kp_cpu_limit *l)
{
	if (l->period_us < PERIOD_MIN_US || l->period_us > PERIOD_MAX_US)
		return -ERANGE;
	if (l->limited && l->quota_us < QUOTA_MIN_US)
		return -ERANGE;
	return 0;
}

static int cpu_max(const char *buf, size_t len, struct kp_cpu_limit *out)
{
	const char *s = buf, *end = buf + len;
	int err;

	memset(out, 0, sizeof(*out));
	trim(&s, &end);
	if (s == end)
		return -ENODATA;
	if (end - s > 4 && !memcmp(s, "max ", 4)) {
		s += 4;
	} else {
		out->limited = true;
		if ((err = kp_take_u64(&s, end, &out->quota_us)))
			return err;
		if (s >= end || *s != ' ')
			return -EINVAL;
		s++;
	}
	if ((err = kp_take_u64(&s, end, &out->period_us)))
		return err;
	if (s != end)
		return -EINVAL;
	return check_limit(out);
}

/* One number alone in a file, optionally negative ("-1"). */
static int whole_number(const char *buf, size_t len, int *negative, uint64_t *v)
{
	const char *s = buf, *end = buf + len;
	int err;

	trim(&s, &end);
	if (s == end)
		return -ENODATA;
	*negative = *s == '-';
	s += *negative;
	if ((err = kp_take_u64(&s, end, v)))
		return err;
	return s == end ? 0 : -EINVAL;
}

/* Nothing half-filled on error: a caller that ignores it exports no limit. */
int kp_cpu_max_parse(const char *buf, size_t len, struct kp_cpu_limit *out)
{
	int err = cpu_max(buf, len, out);

	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

static int cpu_cfs(const char *quota, size_t qlen, const char *period,
		   size_t plen, struct kp_cpu_limit *out)
{
	int neg_q, neg_p, err;
	uint64_t q;

	memset(out, 0, sizeof(*out));
	if ((err = whole_number(quota, qlen, &neg_q, &q)) ||
	    (err = whole_number(period, plen, &neg_p, &out->period_us)))
		return err;
	if (neg_p || (neg_q && q != 1))
		return -EINVAL;	/* the kernel writes -1 and nothing else below 0 */
	if (!neg_q) {
		out->limited = true;
		out->quota_us = q;
	}
	return check_limit(out);
}

int kp_cpu_cfs_parse(const char *quota, size_t qlen, const char *period,
		     size_t plen, struct kp_cpu_limit *out)
{
	int err = cpu_cfs(quota, qlen, period, plen, out);

	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

static int cpu_stat(const char *buf, size_t len, struct kp_cpu_throttle *out)
{
	enum { PERIODS = 1, THROTTLED = 2, TIME = 4 };
	const char *s = buf, *end = buf + len;
	unsigned int seen = 0;
	struct kp_kv kv;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = kp_kv_next(&s, end, &kv)) > 0) {
		if (kp_kv_is(&kv, "nr_periods")) {
			out->periods = kv.value;
			seen |= PERIODS;
		} else if (kp_kv_is(&kv, "nr_throttled")) {
			out->throttled_periods = kv.value;
			seen |= THROTTLED;
		} else if (kp_kv_is(&kv, "throttled_usec")) {	/* v2 */
			if (kv.value > UINT64_MAX / 1000)
				return -ERANGE;
			out->throttled_ns = kv.value * 1000;
			seen |= TIME;
		} else if (kp_kv_is(&kv, "throttled_time")) {	/* v1, ns */
			out->throttled_ns = kv.value;
			seen |= TIME;
		}
	}
	if (r < 0)
		return r;
	if (!seen)
		return -ENODATA;
	return seen == (PERIODS | THROTTLED | TIME) ? 0 : -EINVAL;
}

int kp_cpu_stat_parse(const char *buf, size_t len, struct kp_cpu_throttle *out)
{
	int err = cpu_stat(buf, len, out);

	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}
