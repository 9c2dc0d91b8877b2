/* http_headers.h - pure parsers of request header values the routes act
 * on: bytes in, a verdict out (no I/O; fuzzed like every parser of outside
 * input). */
#ifndef KPULSE_HTTP_HEADERS_H
#define KPULSE_HTTP_HEADERS_H

#include <stdbool.h>

/* Does an Accept-Encoding value (NULL: header absent) accept gzip? "gzip",
 * "x-gzip" or "*" with a q-value above 0, unless gzip itself is q=0. */
bool kp_http_accepts_gzip(const char *accept_encoding);

#endif
