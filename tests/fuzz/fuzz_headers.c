/* fuzz_headers.c - request header values kpulse acts on (Accept-Encoding,
 * Origin against Host): any bytes, never a crash or an overrun, and no
 * origin names this server over both http and https. The input is split at its
 * first NUL: Origin before, Host after. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "outputs/http_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *origin, *host;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = 0;
	origin = buf;
	host = buf + strlen(buf) + 1;
	if (host > buf + size)
		host = buf + size;
	kp_http_accepts_gzip(origin);
	if (kp_http_same_origin(origin, host, false) && kp_http_same_origin(origin, host, true))
		__builtin_trap();	/* the scheme is part of the origin */
	free(buf);
	return 0;
}
