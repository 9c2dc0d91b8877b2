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
#include "outputs/prom.h"

/* MHD's own table is larger than the guard's caps: connections the guard
 * shut stay in it until MHD has seen them close */
#define MHD_CONNECTIONS (kp_guard_default_limits.max_connections + 64)
/* a response that makes no progress for this long is cut (never read) */
#define IDLE_TIMEOUT_S 10
/* per connection: request line, headers and response headers */
#define CONN_MEMORY (32 * 1024)
/* the kernel's send buffer per connection (it doubles this): without it
 * a client that never reads gets megabytes queued in the kernel on its
 * behalf (autotuned up to net.ipv4.tcp_wmem's 4 MiB on loopback) */
#define CONN_SNDBUF (128 * 1024)
/* handlers' own bodies in flight, in all; bodies this small always pass */
#define OWN_BUDGET (32u << 20)
#define OWN_SMALL 4096

struct kp_http {
	struct MHD_Daemon *d;
	const struct kp_http_route *routes;
	void *ctx;
	struct kp_guard *guard;
	size_t own_bytes;		/* handlers' bodies in flight */
	size_t shared_bytes;		/* shared bodies that exist */
	unsigned int shared_alive;
	struct kp_http_shared *lingering;	/* unused, their creators not told yet */
};

/* The one reference MHD's response holds on a body's accounting: freed
 * with the response, when the last connection sending it is done. */
struct body {
	struct kp_http *h;
	size_t len;
	bool shared;
	void (*release)(void *cls);
	void *cls;
};

struct kp_http_shared {
	struct MHD_Response *resp;
	struct body *b;
	unsigned int refs;		/* the creator's and each user's */
	unsigned int users;		/* requests sending it now */
	void (*idle)(void *cls, struct kp_http_shared *s);
	void *idle_cls;
	uint64_t keep_until_ns;		/* unused until then, it lingers */
	struct kp_http_shared *lnext;
	bool lingering;
};

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

static void body_done(void *cls)
{
	struct body *b = cls;

	if (b->shared) {
		b->h->shared_bytes -= b->len;
		b->h->shared_alive--;
		if (b->release)
			b->release(b->cls);
	} else {
		b->h->own_bytes -= b->len;
		free(b->cls);
	}
	free(b);
}

/* A response for a handler's own body, counted until it is sent; NULL
 * (body freed) when out of memory. */
static struct MHD_Response *own_response(struct kp_http *h, char *body, size_t len)
{
	struct body *b = malloc(sizeof(*b));
	struct MHD_Response *resp;

	if (!b) {
		free(body);
		return NULL;
	}
	*b = (struct body){ .h = h, .len = len, .cls = body };
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body, body_done, b);
	if (!resp) {
		free(body);
		free(b);
		return NULL;
	}
	h->own_bytes += len;
	return resp;
}

struct kp_http_shared *kp_http_shared_new(struct kp_http *h, void *body, size_t len,
					  const char *content_type,
					  const char *content_encoding,
					  void (*release)(void *cls), void *cls)
{
	struct kp_http_shared *s = calloc(1, sizeof(*s));
	struct body *b = malloc(sizeof(*b));

	if (s && b) {
		*b = (struct body){ .h = h, .len = len, .shared = true, .release = release,
				    .cls = cls };
		s->resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body,
										  body_done, b);
	}
	if (!s || !b || !s->resp) {
		free(s);
		free(b);
		release(cls);
		return NULL;
	}
	h->shared_bytes += len;
	h->shared_alive++;
	s->b = b;
	s->refs = 1;
	MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (content_encoding)
		MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
					content_encoding);
	MHD_add_response_header(s->resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return s;
}

struct kp_http_shared *kp_http_shared_get(struct kp_http_shared *s)
{
	s->refs++;
	return s;
}

static void unlinger(struct kp_http *h, struct kp_http_shared *s)
{
	struct kp_http_shared **pp;

	if (!s->lingering)
		return;
	for (pp = &h->lingering; *pp != s; pp = &(*pp)->lnext)
		;
	*pp = s->lnext;
	s->lingering = false;
}

/* Nobody is sending @s, whose creator still holds it: tell the creator,
 * now or, if asked, once @s has lingered until keep_until_ns. */
static void went_idle(struct kp_http *h, struct kp_http_shared *s, uint64_t now)
{
	if (!s->idle)
		return;
	if (now >= s->keep_until_ns) {
		s->idle(s->idle_cls, s);
	} else if (!s->lingering) {
		s->lingering = true;
		s->lnext = h->lingering;
		h->lingering = s;
	}
}

/* Creators of bodies that have lingered long enough are told. */
static void linger_sweep(struct kp_http *h, uint64_t now)
{
	struct kp_http_shared *s = h->lingering, *next;

	for (; s; s = next) {
		next = s->lnext;
		if (now >= s->keep_until_ns) {
			unlinger(h, s);
			s->idle(s->idle_cls, s);
		}
	}
}

void kp_http_shared_put(struct kp_http_shared *s)
{
	if (!s || --s->refs)
		return;
	unlinger(s->b->h, s);
	MHD_destroy_response(s->resp);	/* the body goes with MHD's last reference */
	free(s);
}

void kp_http_shared_on_idle(struct kp_http_shared *s,
			    void (*fn)(void *cls, struct kp_http_shared *s), void *cls,
			    uint64_t keep_until_ns)
{
	s->idle = fn;
	s->idle_cls = cls;
	s->keep_until_ns = keep_until_ns;
}

unsigned int kp_http_shared_users(const struct kp_http_shared *s)
{
	return s->users;
}

size_t kp_http_shared_len(const struct kp_http_shared *s)
{
	return s->b->len;
}

unsigned int kp_http_shared_alive(const struct kp_http *h)
{
	return h->shared_alive;
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
	return own_response(h, r->body, r->len);
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
					"Bearer realm=\"kpulse\"");
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
		s->users++;
		unlinger(h, s);
		*state = s;	/* the handler's reference, put when the request completes */
		return ret;
	}
	resp = own_or_busy(h, r);
	if (!resp)
		return MHD_NO;
	*state = &answered;
	return queue(conn, r, resp, allow);
}

/* MHD calls this once the headers are in, then for each piece of a body
 * (discarded: bodies are never buffered), then once more at the end of
 * the request: the answer is queued then, not earlier, because MHD 0.9.75
 * closes a connection whose response came before the request ended. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_size, void **state)
{
	struct kp_http *h = cls;
	struct kp_http_resp r = { 0 };
	const char *allow = NULL;

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
	dispatch(h, conn, url, method, &r, &allow);
	return answer(h, conn, &r, allow, state);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	struct kp_http *h = cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (*state && *state != &headers_in && *state != &answered) {
		struct kp_http_shared *s = *state;

		/* the last user done while its creator still holds it */
		if (!--s->users && s->refs > 1)
			went_idle(h, s, kp_now_mono_ns());
		kp_http_shared_put(s);
	}
	*state = NULL;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		kp_guard__count(h->guard, KP_HTTP_REJ_IDLE_TIMEOUT);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && ci)
		kp_guard__done(h->guard, ci->socket_context, now_ms());
}

static void connection(void *cls, struct MHD_Connection *conn, void **socket_context,
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

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;	/* client misbehaviour is answered, not logged */
}

int kp_http__start(struct kp_http **out, int listen_fd,
		   const struct kp_http_route *routes, void *ctx)
{
	struct kp_http *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->routes = routes;
	h->ctx = ctx;
	h->guard = kp_guard__new(&kp_guard_default_limits, shut, h);
	if (!h->guard) {
		free(h);
		return -ENOMEM;
	}
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				handle, h,
				MHD_OPTION_LISTEN_SOCKET, listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MHD_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, completed, h,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_END);
	if (!h->d) {
		kp_guard__free(h->guard);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

void kp_http__stop(struct kp_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
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
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

/* MHD's next timeout, or the guard's next deadline if sooner */
int kp_http__timeout_ms(const struct kp_http *h)
{
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t next = kp_guard__next_ms(h->guard), now = now_ms();

	if (MHD_get_timeout(h->d, &t) != MHD_YES)
		t = 60000;
	for (const struct kp_http_shared *s = h->lingering; s; s = s->lnext)
		if (s->keep_until_ns / 1000000ull + 1 < next)
			next = s->keep_until_ns / 1000000ull + 1;
	if (next != UINT64_MAX)
		t = next <= now ? 0 : next - now < t ? next - now : t;
	return t > 60000 ? 60000 : (int)t;
}

void kp_http__run(struct kp_http *h)
{
	MHD_run(h->d);
	kp_guard__sweep(h->guard, now_ms());
	linger_sweep(h, kp_now_mono_ns());
}
