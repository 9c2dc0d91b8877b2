/* http.h - the daemon's HTTP server: libmicrohttpd driven from the daemon's
 * own poll loop (no extra threads), bounded in connections, time and memory.
 * Routes are exact paths or prefixes ending in '/'; every error is JSON.
 * A route serves GET and HEAD, or the one method it names (a POST without
 * a body: request bodies are never buffered). */
#ifndef KPULSE_HTTP_H
#define KPULSE_HTTP_H

#include <stddef.h>

struct kp_http;

struct kp_http_resp {
	unsigned int status;
	const char *content_type;
	char *body;		/* malloc'd; the server frees it */
	size_t len;
};

struct kp_http_req {
	const char *url;
	const char *method;
	void *conn;		/* the MHD connection, for the lookups below */
};

typedef void (*kp_http_fn)(void *ctx, const struct kp_http_req *req,
			   struct kp_http_resp *r);

/* A query argument or request header; NULL when absent. */
const char *kp_http_arg(const struct kp_http_req *req, const char *name);
const char *kp_http_header(const struct kp_http_req *req, const char *name);
/* A JSON body (jansson json_t *), serialised and freed. */
void kp_http_json(struct kp_http_resp *r, unsigned int status, void *json);

struct kp_http_route {
	const char *path;	/* "/metrics"; "/api/v1/containers/" = prefix */
	kp_http_fn fn;
	const char *method;	/* the one method served; NULL = GET and HEAD */
};

/* Parse "ADDR:PORT", "[v6]:PORT" or ":PORT" and bind+listen. Returns the
 * socket, or -1 with a one-line reason in @why. */
int kp_http_listen(const char *spec, char *why, size_t whylen);

int kp_http__start(struct kp_http **out, int listen_fd,
		   const struct kp_http_route *routes, void *ctx);
void kp_http__stop(struct kp_http *h);
/* fd to poll for readiness, then call kp_http__run; and the longest the
 * caller may sleep before calling run again (ms, -1 = no limit). */
int kp_http__poll_fd(const struct kp_http *h);
int kp_http__timeout_ms(const struct kp_http *h);
void kp_http__run(struct kp_http *h);

/* JSON error body helper: {"error": msg, "status": code} */
void kp_http_error(struct kp_http_resp *r, unsigned int status, const char *msg);

#endif
