/* http.c - routing and limits on top of libmicrohttpd.
 *
 * One thread: MHD runs in epoll mode and the daemon's loop polls its epoll
 * fd, so handlers read the model without locks. GET and HEAD are served,
 * and POST on the routes that ask for it; request bodies are never
 * buffered. Who may stay connected, and for how long, is http_guard.c's
 * call: MHD tells it of each connection, request and completion, and it
 * closes a connection by shutting its socket down (MHD then sees the end
 * of the stream and cleans up at its next event). Bodies in flight are
 * counted: a handler's own bodies against OWN_BUDGET, shared ones (one
 * per /metrics encoding, however many clients read it) by their owner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <jansson.h>
#include <microhttpd.h>
#include "base/clock.h"
#include "outputs/http.h"
#include "outputs/http_guard.h"
#include "outputs/http_headers.h"
#include "outputs/http_int.h"
#include "outputs/prom.h"

/* the kernel's send buffer per connection (it doubles this): without it
 * a client that never reads gets megabytes queued in the kernel on its
 * behalf (autotuned up to net.ipv4.tcp_wmem's 4 MiB on loopback) */
#define CONN_SNDBUF (128 * 1024)
/* handlers' own bodies in flight, in all; bodies this small always pass */
#define OWN_BUDGET (32u << 20)
#define OWN_SMALL 4096

int kp_http_listen(const char *spec, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char host[256], port[16];
	const char *colon;
	char *end;
	long pnum;
	int fd, one = 1, err;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':' || rb - spec - 1 >= (long)sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(rb - spec - 1), spec + 1);
		colon = rb + 1;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || colon - spec >= (long)sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	}
	pnum = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || pnum < 1 || pnum > 65535)
		goto bad;
	snprintf(port, sizeof(port), "%ld", pnum);
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		snprintf(why, whylen, "--listen '%s': cannot resolve '%s': %s",
			 spec, host, gai_strerror(err));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
		snprintf(why, whylen, "cannot listen on %s: %s%s", spec, strerror(errno),
			 errno == EADDRINUSE ? " (is another kpulse running? pick "
					       "another port with --listen)" : "");
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
bad:
	snprintf(why, whylen, "--listen '%s': expected ADDR:PORT, e.g. "
		 "0.0.0.0:9477, [::1]:9477 or :9477", spec);
	return -1;
}

void kp_http_error(struct kp_http_resp *r, unsigned int status, const char *msg)
{
	json_t *j = json_pack("{s:s, s:i}", "error", msg, "status", (int)status);

	r->status = status;
	r->content_type = "application/json";
	r->body = json_dumps(j, JSON_COMPACT);
	r->len = r->body ? strlen(r->body) : 0;
	json_decref(j);
}

const char *kp_http_arg(const struct kp_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *kp_http_header(const struct kp_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void kp_http_json(struct kp_http_resp *r, unsigned int status, void *json)
{
	r->status = status;
	r->content_type = "application/json";
	r->body = json ? json_dumps(json, JSON_INDENT(2)) : NULL;
	r->len = r->body ? strlen(r->body) : 0;
	json_decref(json);
}

static uint64_t now_ms(void)
{
	return kp_now_mono_ns() / 1000000ull;
}

static const struct kp_http_route *route(const struct kp_http *h, const char *url)
{
	for (const struct kp_http_route *r = h->routes; r->path; r++) {
		size_t n = strlen(r->path);

		/* "/x/" is a prefix (something must follow), "/" and "/x" exact */
		if (n > 1 && r->path[n - 1] == '/' ? !strncmp(url, r->path, n) && url[n]
						   : !strcmp(url, r->path))
			return r;
	}
	return NULL;
}

/* Route and run the handler; *@allow is set for a 405. */
static void dispatch(struct kp_http *h, struct MHD_Connection *conn, const char *url,
		     const char *method, struct kp_http_resp *r, const char **allow)
{
	const struct kp_http_route *rt = route(h, url);

	if (!rt)
		kp_http_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint");
	else if (rt->method ? strcmp(method, rt->method) :
		 strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		kp_http_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, rt->method ?
			      "method not allowed; use POST" : "method not allowed; use GET");
	else {
		struct kp_http_req req = { url, method, conn, h };

		rt->fn(h->ctx, &req, r);
	}
	if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED)
		*allow = rt && rt->method ? rt->method : "GET, HEAD";
}

void kp_http_busy(const struct kp_http_req *req, struct kp_http_resp *r)
{
	kp_guard__count(req->server->guard, KP_HTTP_REJ_MEMORY);
	kp_http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		      "busy: too many responses being sent; retry shortly");
}

/* The handler's own body as a response, or a 503 when bodies in flight
 * are at their bound (the body is freed either way). */
static struct MHD_Response *own_or_busy(struct kp_http *h, struct kp_http_resp *r)
{
	if (r->body && r->len > OWN_SMALL && h->own_bytes + r->len > OWN_BUDGET) {
		free(r->body);
		memset(r, 0, sizeof(*r));
		kp_guard__count(h->guard, KP_HTTP_REJ_MEMORY);
		kp_http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "busy: too many responses being sent; retry shortly");
	}
	if (!r->body) {
		memset(r, 0, sizeof(*r));
		kp_http_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		if (!r->body)
			return NULL;
	}
	return kp_http_own_response(h, r->body, r->len);
}

static enum MHD_Result queue(struct MHD_Connection *conn, const struct kp_http_resp *r,
			     struct MHD_Response *resp, const char *allow)
{
	enum MHD_Result ret;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (r->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					r->www_authenticate ? r->www_authenticate
							    : "Bearer realm=\"kpulse\"");
	if (r->status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Request states kept in MHD's per-request pointer, besides a shared body
 * being sent: headers in (body, if any, being discarded), answered. */
static char headers_in, answered;

/* Queue @r's shared body or own body on @conn. */
static enum MHD_Result answer(struct kp_http *h, struct MHD_Connection *conn,
			      struct kp_http_resp *r, const char *allow, void **state)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->shared) {
		struct kp_http_shared *s = r->shared;

		free(r->body);
		ret = MHD_queue_response(conn, r->status, s->resp);
		if (ret != MHD_YES) {
			kp_http_shared_put(s);
			return ret;
		}
		kp_http_shared_used(h, s);
		*state = s;	/* the handler's reference, put when the request completes */
		return ret;
	}
	resp = own_or_busy(h, r);
	if (!resp)
		return MHD_NO;
	*state = &answered;
	return queue(conn, r, resp, allow);
}

/* A browser sends Origin on cross-site requests; one that names another
 * site than the one asked is refused, whatever the route (a page elsewhere
 * must not drive this API with the user's credentials). */
static bool cross_origin(struct kp_http *h, struct MHD_Connection *conn, struct kp_http_resp *r)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");

	if (!origin || kp_http_same_origin(origin, host, kp_http_web_tls(h)))
		return false;
	kp_guard__count(h->guard, KP_HTTP_REJ_CROSS_ORIGIN);
	kp_http_error(r, MHD_HTTP_FORBIDDEN, "cross-origin request refused: the Origin header "
		      "names another site than this server");
	return true;
}

/* MHD calls this once the headers are in, then for each piece of a body
 * (discarded: bodies are never buffered), then once more at the end of
 * the request: the answer is queued then, not earlier, because MHD 0.9.75
 * closes a connection whose response came before the request ended. A
 * request waiting for its basic-auth verdict is suspended, and MHD calls
 * this again once it is resumed. */
enum MHD_Result kp_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_size, void **state)
{
	struct kp_http *h = cls;
	struct kp_http_resp r = { 0 };
	const char *allow = NULL;
	int auth;

	(void)version;
	(void)upload_data;
	if (!*state) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

		kp_guard__request(h->guard, ci ? ci->socket_context : NULL, now_ms());
		*state = &headers_in;
		return MHD_YES;
	}
	if (*upload_size || *state != &headers_in) {
		*upload_size = 0;
		return MHD_YES;
	}
	auth = kp_http_web_auth(h, conn, &r);
	if (auth < 0)
		return MHD_YES;
	if (auth > 0 && !cross_origin(h, conn, &r))
		dispatch(h, conn, url, method, &r, &allow);
	return answer(h, conn, &r, allow, state);
}

void kp_http_completed(void *cls, struct MHD_Connection *conn, void **state,
		       enum MHD_RequestTerminationCode toe)
{
	struct kp_http *h = cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (*state && *state != &headers_in && *state != &answered)
		kp_http_shared_done(h, *state, kp_now_mono_ns());
	*state = NULL;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		kp_guard__count(h->guard, KP_HTTP_REJ_IDLE_TIMEOUT);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && ci)
		kp_guard__done(h->guard, ci->socket_context, now_ms());
}

void kp_http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	struct kp_http *h = cls;
	const union MHD_ConnectionInfo *fd, *addr;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		kp_guard__close(h->guard, *socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!fd)
		return;
	setsockopt(fd->connect_fd, SOL_SOCKET, SO_SNDBUF, &(int){ CONN_SNDBUF }, sizeof(int));
	kp_http_web_connection(h, conn);
	*socket_context = kp_guard__open(h->guard, fd->connect_fd,
					 addr ? addr->client_addr : NULL,
					 sizeof(struct sockaddr_storage), now_ms());
}

/* The guard's way of closing: MHD sees the stream end and cleans up. */
static void shut(void *cls, int fd)
{
	(void)cls;
	shutdown(fd, SHUT_RDWR);
}

int kp_http_check_web_config(const char *path, char *msg, size_t len)
{
	struct kp_webcfg w;
	int ret = kp_webcfg_load(path, &w, msg, len);

	if (ret)
		return ret;
	snprintf(msg, len, "%s: ok (%s%s, %u basic-auth users)", path,
		 w.tls ? "TLS" : "plain HTTP",
		 w.client_auth == KP_CLIENT_NONE ? "" : " with client certificates", w.n_users);
	kp_webcfg_free(&w);
	return 0;
}

int kp_http__start(struct kp_http **out, int listen_fd, const char *web_config,
		   const struct kp_http_route *routes, void *ctx, char *why, size_t whylen)
{
	struct kp_http *h = calloc(1, sizeof(*h));
	int ret;

	if (!h) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	h->routes = routes;
	h->ctx = ctx;
	h->listen_fd = listen_fd;
	h->epfd = -1;
	h->guard = kp_guard__new(&kp_guard_default_limits, shut, h);
	ret = h->guard ? kp_http_web_start(h, web_config, why, whylen) : -ENOMEM;
	if (ret) {
		if (!h->guard)
			snprintf(why, whylen, "out of memory");
		h->listen_fd = -1;	/* the caller still owns it */
		kp_http_web_stop(h);
		kp_guard__free(h->guard);
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

void kp_http__stop(struct kp_http *h)
{
	if (!h)
		return;
	kp_http_web_stop(h);
	kp_guard__free(h->guard);
	free(h);
}

void kp_http__prom(const struct kp_http *h, FILE *f)
{
	const uint64_t *rej = kp_guard__rejected(h->guard);
	struct kp_label l[2] = { { "reason", NULL }, { NULL, NULL } };

	kp_prom_family(f, "kpulse_http_connections", "gauge",
		       "Open HTTP connections (at most 256, 64 per client address).");
	kp_prom_sample_u64(f, "kpulse_http_connections", NULL,
			   kp_guard__connections(h->guard));
	kp_prom_family(f, "kpulse_http_rejected_total", "counter",
		       "HTTP connections refused or closed by a limit, and requests answered "
		       "503 for memory, by reason.");
	for (int i = 0; i < KP_HTTP_REJ_N; i++) {
		l[0].value = kp_http_reject_names[i];
		kp_prom_sample_u64(f, "kpulse_http_rejected_total", l, rej[i]);
	}
	kp_prom_family(f, "kpulse_http_response_bytes", "gauge",
		       "Bytes of response bodies held for responses in flight: shared "
		       "/metrics encodings and the other endpoints' own bodies.");
	kp_prom_sample_u64(f, "kpulse_http_response_bytes", NULL,
			   h->own_bytes + h->shared_bytes);
}

void *kp_http__health(const struct kp_http *h)
{
	const uint64_t *rej = kp_guard__rejected(h->guard);
	json_t *j = json_object(), *r = json_object();

	for (int i = 0; i < KP_HTTP_REJ_N; i++)
		json_object_set_new(r, kp_http_reject_names[i], json_integer((json_int_t)rej[i]));
	json_object_set_new(j, "connections",
			    json_integer(kp_guard__connections(h->guard)));
	json_object_set_new(j, "response_bytes",
			    json_integer((json_int_t)(h->own_bytes + h->shared_bytes)));
	json_object_set_new(j, "rejected", r);
	return j;
}

int kp_http__poll_fd(const struct kp_http *h)
{
	return h->epfd;
}

/* The soonest of every daemon's timeout, the guard's next deadline, a
 * lingering body's end and the next look at the web config. */
int kp_http__timeout_ms(const struct kp_http *h)
{
	uint64_t next = kp_guard__next_ms(h->guard), now = now_ms(), t = 60000, x;
	MHD_UNSIGNED_LONG_LONG mt;

	if (MHD_get_timeout(h->cur->d, &mt) == MHD_YES && mt < t)
		t = mt;
	for (unsigned int i = 0; i < h->n_old; i++)
		if (MHD_get_timeout(h->old[i]->d, &mt) == MHD_YES && mt < t)
			t = mt;
	x = kp_http_linger_next_ms(h);
	next = x < next ? x : next;
	x = kp_http_web_next_ms(h);
	next = x < next ? x : next;
	if (next != UINT64_MAX)
		t = next <= now ? 0 : next - now < t ? next - now : t;
	return (int)t;
}

void kp_http__run(struct kp_http *h)
{
	uint64_t now = now_ms();

	kp_http_web_run(h, now);
	kp_guard__sweep(h->guard, now);
	kp_http_linger_sweep(h, kp_now_mono_ns());
}
