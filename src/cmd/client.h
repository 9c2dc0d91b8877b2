/* client.h - reading a running daemon's HTTP API (`snapshot --from`). */
#ifndef KPULSE_CLIENT_H
#define KPULSE_CLIENT_H

/* GET @base + @path; the body (malloc'd), or NULL with one line printed
 * when the daemon cannot be reached or answers with an error. Answers
 * larger than 64 MiB are refused. */
char *kp_http_get(const char *base, const char *path);

#endif
