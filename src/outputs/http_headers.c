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
