/* http.h - the daemon's HTTP server: libmicrohttpd driven from the daemon's
 * own poll loop (no extra threads), bounded in connections, time and memory
 * (http_guard.h). Routes are exact paths or prefixes ending in '/'; every
 * error is JSON. A route serves GET and HEAD, or the one method it names (a
 * POST without a body: request bodies are never buffered). A body is the
 * handler's own (malloc'd, freed once sent; their bytes in flight are
 * bounded, past that a 503) or shared: one buffer sent to every client
 * that asks while it is current (the /metrics encodings). */
#ifndef KPULSE_HTTP_H
#define KPULSE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kp_http;
struct kp_http_shared;

struct kp_http_resp {
	unsigned int status;
	const char *content_type;
	char *body;		/* malloc'd; the server frees it */
	size_t len;
	/* instead of body: a shared body; the server takes over this
	 * reference and puts it once the response is sent */
	struct kp_http_shared *shared;
	const char *www_authenticate;	/* a 401's challenge; NULL: Bearer */
};

struct kp_http_req {
	const char *url;
	const char *method;
	void *conn;		/* the MHD connection, for the lookups below */
	struct kp_http *server;
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

/* Serve @routes on @listen_fd (taken over on success) as the web config
 * file @web_config says (NULL: plain HTTP, no users): TLS, client
 * certificates, basic auth; the file and those it names are watched and a
 * change applied without a restart. On error, one line in @why. */
int kp_http__start(struct kp_http **out, int listen_fd, const char *web_config,
		   const struct kp_http_route *routes, void *ctx, char *why, size_t whylen);
void kp_http__stop(struct kp_http *h);
/* Load web config @path as the server would: 0 with a summary line in
 * @msg, or a negative errno with the error there. */
int kp_http_check_web_config(const char *path, char *msg, size_t len);
/* Re-read the web config and the files it names at the next run, changed
 * or not (SIGHUP); a file that does not load changes nothing. */
void kp_http__reload_web(struct kp_http *h);
/* fd to poll for readiness, then call kp_http__run; and the longest the
 * caller may sleep before calling run again (ms, -1 = no limit). */
int kp_http__poll_fd(const struct kp_http *h);
int kp_http__timeout_ms(const struct kp_http *h);
void kp_http__run(struct kp_http *h);

/* A shared body: @body (@len bytes) with its Content-Type and, when not
 * NULL, Content-Encoding. The caller holds one reference; @release(@cls)
 * runs once that is put and the last response sending it is done. NULL
 * when out of memory (then @release has run). */
struct kp_http_shared *kp_http_shared_new(struct kp_http *h, void *body, size_t len,
					  const char *content_type,
					  const char *content_encoding,
					  void (*release)(void *cls), void *cls);
struct kp_http_shared *kp_http_shared_get(struct kp_http_shared *s);
void kp_http_shared_put(struct kp_http_shared *s);
/* @fn(@cls, @s) runs when no response is sending @s while the creator
 * still holds its reference (to put it): when the last one is done, or at
 * @keep_until_ns (CLOCK_MONOTONIC) if that is later, so a body can wait a
 * moment for the next client. */
void kp_http_shared_on_idle(struct kp_http_shared *s,
			    void (*fn)(void *cls, struct kp_http_shared *s), void *cls,
			    uint64_t keep_until_ns);
/* Responses sending @s right now. */
unsigned int kp_http_shared_users(const struct kp_http_shared *s);
size_t kp_http_shared_len(const struct kp_http_shared *s);
/* Shared bodies that still exist (referenced, or being sent). */
unsigned int kp_http_shared_alive(const struct kp_http *h);

/* The server's own series (connections, refusals by reason, bytes held
 * by responses in flight) and its /health section (a json_t *). */
void kp_http__prom(const struct kp_http *h, FILE *f);
void *kp_http__health(const struct kp_http *h);

/* 503 with Retry-After: a memory bound is reached (counted). */
void kp_http_busy(const struct kp_http_req *req, struct kp_http_resp *r);

/* JSON error body helper: {"error": msg, "status": code} */
void kp_http_error(struct kp_http_resp *r, unsigned int status, const char *msg);

#endif
