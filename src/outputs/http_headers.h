/* http_headers.h - pure parsers of request header values the routes act
 * on: bytes in, a verdict out (no I/O; fuzzed like every parser of outside
 * input). */
#ifndef KPULSE_HTTP_HEADERS_H
#define KPULSE_HTTP_HEADERS_H

#include <stdbool.h>

/* Does an Accept-Encoding value (NULL: header absent) accept gzip? "gzip",
 * "x-gzip" or "*" with a q-value above 0, unless gzip itself is q=0. */
bool kp_http_accepts_gzip(const char *accept_encoding);

/* Does an Origin header name this server, asked for as @host (the Host
 * header; NULL absent) over TLS or not? Scheme, host and port must all
 * match (a missing port is the scheme's default); "null", and anything
 * malformed, is another site. */
bool kp_http_same_origin(const char *origin, const char *host, bool tls);

#endif
