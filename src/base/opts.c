/* opts.c - see opts.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "base/opts.h"

long long kp_parse_duration(const char *s)
{
	const char *hex;
	char *end;
	double v;

	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;	/* strtod would also take "nan", "inf", spaces */
	errno = 0;
	v = strtod(s, &end);
	hex = strpbrk(s, "xXpP");
	if (errno || end == s || v < 0 || !isfinite(v) || (hex && hex < end))
		return -1;	/* hex floats too */
	if (!*end || !strcmp(end, "s"))
		v *= 1e9;
	else if (!strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "us"))
		v *= 1e3;
	else if (!strcmp(end, "m"))
		v *= 60e9;
	else if (!strcmp(end, "h"))
		v *= 3600e9;
	else if (strcmp(end, "ns"))
		return -1;
	if (v > 9e18)
		return -1;
	return (long long)v;
}

static void human(long long ns, char *buf, size_t len)
{
	if (ns % 3600000000000ll == 0)
		snprintf(buf, len, "%lldh", ns / 3600000000000ll);
	else if (ns % 60000000000ll == 0)
		snprintf(buf, len, "%lldm", ns / 60000000000ll);
	else if (ns % 1000000000ll == 0)
		snprintf(buf, len, "%llds", ns / 1000000000ll);
	else if (ns % 1000000ll == 0)
		snprintf(buf, len, "%lldms", ns / 1000000ll);
	else
		snprintf(buf, len, "%lldus", ns / 1000ll);
}

int kp_opt_duration(const char *cmd, const char *flag, const char *arg,
		    long long min, long long max, long long *out)
{
	long long v = kp_parse_duration(arg);
	char lo[32], hi[32];

	if (v >= min && v <= max) {
		*out = v;
		return 0;
	}
	human(min, lo, sizeof(lo));
	human(max, hi, sizeof(hi));
	kp_err("%s: %s '%s': expected a duration from %s to %s, e.g. 2s", cmd, flag, arg, lo, hi);
	return -1;
}

int kp_opt_count(const char *cmd, const char *flag, const char *arg,
		 long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (!errno && end != arg && !*end && v >= min && v <= max) {
		*out = v;
		return 0;
	}
	kp_err("%s: %s '%s': expected a number from %ld to %ld", cmd, flag, arg, min, max);
	return -1;
}
