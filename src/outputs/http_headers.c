/* http_headers.c - see http_headers.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "outputs/http_headers.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The q-value of one list element's parameters at @p (up to ',' or the
 * end): 1 when absent; 0 when malformed, which only ever refuses. */
static double qvalue(const char *p)
{
	while (*p && *p != ',') {
		p = skip_ws(p);
		if (*p == ';') {
			p = skip_ws(p + 1);
			if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
				char *end;
				double q = strtod(p + 2, &end);

				return end == p + 2 || q < 0 || q > 1 ? 0 : q;
			}
		}
		p++;
	}
	return 1;
}

bool kp_http_accepts_gzip(const char *v)
{
	int gzip = -1, any = -1;	/* -1 absent, else accepted or not */

	while (v && *v) {
		const char *tok = skip_ws(v), *end = tok;
		size_t n;

		while (*end && *end != ',' && *end != ';' && *end != ' ' && *end != '\t')
			end++;
		n = (size_t)(end - tok);
		if ((n == 4 && !strncasecmp(tok, "gzip", 4)) ||
		    (n == 6 && !strncasecmp(tok, "x-gzip", 6)))
			gzip = qvalue(end) > 0;
		else if (n == 1 && *tok == '*')
			any = qvalue(end) > 0;
		v = strchr(end, ',');
		if (v)
			v++;
	}
	return gzip >= 0 ? gzip : any > 0;
}

/* "host", "host:port", "[v6]" or "[v6]:port" of @n bytes: the host (no
 * brackets) and the port (@dflt when absent). False when malformed. */
static bool authority(const char *s, size_t n, char *host, size_t hostlen,
		      unsigned long *port, unsigned long dflt)
{
	const char *end = s + n, *colon;
	size_t hl;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb)
			return false;
		hl = (size_t)(rb - s - 1);
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return false;
		s++;
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
	}
	if (!hl || hl >= hostlen)
		return false;
	memcpy(host, s, hl);
	host[hl] = 0;
	*port = dflt;
	if (colon) {
		char digits[8];
		size_t dl = (size_t)(end - colon - 1);
		char *e;

		if (!dl || dl >= sizeof(digits))
			return false;
		memcpy(digits, colon + 1, dl);
		digits[dl] = 0;
		*port = strtoul(digits, &e, 10);
		if (*e || digits[0] < '0' || digits[0] > '9' || !*port || *port > 65535)
			return false;
	}
	for (size_t i = 0; i < hl; i++)
		if (host[i] <= ' ' || host[i] == '/' || host[i] == '@' || host[i] == 0x7f)
			return false;
	return true;
}

bool kp_http_same_origin(const char *origin, const char *host, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme);
	char oh[256], hh[256];
	unsigned long op, hp, dflt = tls ? 443 : 80;

	if (!origin || !host || strncasecmp(origin, scheme, sl))
		return false;
	origin += sl;
	return authority(origin, strlen(origin), oh, sizeof(oh), &op, dflt) &&
	       authority(host, strlen(host), hh, sizeof(hh), &hp, dflt) &&
	       op == hp && !strcasecmp(oh, hh);
}
