/* http.c - routing and limits on top of libmicrohttpd.
 *
 * One thread: MHD runs in epoll mode and the daemon's loop polls its epoll
 * fd, so handlers read the model without locks. GET and HEAD are served,
 * and POST on the routes that ask for it; request bodies are never
 * buffered.
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
#include "outputs/http.h"

#define MAX_CONNECTIONS 64
#define CONN_TIMEOUT_S 10
#define CONN_MEMORY (64 * 1024)

struct kp_http {
	struct MHD_Daemon *d;
	const struct kp_http_route *routes;
	void *ctx;
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_size, void **state)
{
	struct kp_http *h = cls;
	struct kp_http_resp r = { 0 };
	const struct kp_http_route *rt;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)state;
	*upload_size = 0;	/* bodies are ignored, never buffered */
	rt = route(h, url);
	if (!rt)
		kp_http_error(&r, MHD_HTTP_NOT_FOUND, "no such endpoint");
	else if (rt->method ? strcmp(method, rt->method) :
		 strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		kp_http_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, rt->method ?
			      "method not allowed; use POST" : "method not allowed; use GET");
	else {
		struct kp_http_req req = { url, method, conn };

		rt->fn(h->ctx, &req, &r);
	}
	if (!r.body) {
		free(r.body);
		memset(&r, 0, sizeof(r));
		kp_http_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		if (!r.body)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
	if (r.status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					rt && rt->method ? rt->method : "GET, HEAD");
	if (r.status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"kpulse\"");
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
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
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				handle, h,
				MHD_OPTION_LISTEN_SOCKET, listen_fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_END);
	if (!h->d) {
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
	free(h);
}

int kp_http__poll_fd(const struct kp_http *h)
{
	const union MHD_DaemonInfo *i =
		MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

int kp_http__timeout_ms(const struct kp_http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->d, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void kp_http__run(struct kp_http *h)
{
	MHD_run(h->d);
}
