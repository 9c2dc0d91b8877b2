/* http_int.h - what the HTTP server's files share (http.c: requests and
 * the MHD callbacks; http_body.c: bodies and their accounting;
 * http_web.c: the web config: TLS daemons, their rotation, basic auth).
 * Not for the rest of kpulse: http.h is the interface. */
#ifndef KPULSE_HTTP_INT_H
#define KPULSE_HTTP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>
#include "outputs/http.h"
#include "outputs/webconfig.h"

#define KP_HTTP_MAX_OLD 4	/* daemons draining after a TLS change */

/* One MHD daemon and the web config it was started with (TLS settings;
 * all zero for plain HTTP). Allocated once and never moved: the TLS
 * verify function finds its policy by this address. */
struct kp_srv {
	struct MHD_Daemon *d;
	int mhd_fd;			/* its epoll fd, polled through kp_http.epfd */
	struct kp_webcfg web;
	char prio[160];			/* its GnuTLS priority string */
};

struct kp_http {
	struct kp_srv *cur;		/* takes new connections */
	struct kp_srv *old[KP_HTTP_MAX_OLD];	/* finishing theirs */
	unsigned int n_old;
	int epfd;			/* every daemon's epoll fd, the auth eventfd */
	int listen_fd;
	const struct kp_http_route *routes;
	void *ctx;
	struct kp_guard *guard;
	struct kp_auth *auth;
	/* the web config: its path, what it named, when to look again */
	char *web_path;
	char *watch[3];			/* the cert, key and CA files it named */
	unsigned long long stamp[4][5];
	uint64_t next_check_ms;
	char web_error[320];		/* why the last change was refused */
	char mhd_msg[256];		/* libmicrohttpd's last message */
	/* bodies */
	size_t own_bytes;		/* handlers' bodies in flight */
	size_t shared_bytes;		/* shared bodies that exist */
	unsigned int shared_alive;
	struct kp_http_shared *lingering;	/* unused, their creators not told yet */
};

/* The one reference MHD's response holds on a body's accounting: freed
 * with the response, when the last connection sending it is done. */
struct kp_body {
	struct kp_http *h;
	size_t len;
	bool shared;
	void (*release)(void *cls);
	void *cls;
};

struct kp_http_shared {
	struct MHD_Response *resp;
	struct kp_body *b;
	unsigned int refs;		/* the creator's and each user's */
	unsigned int users;		/* requests sending it now */
	void (*idle)(void *cls, struct kp_http_shared *s);
	void *idle_cls;
	uint64_t keep_until_ns;		/* unused until then, it lingers */
	struct kp_http_shared *lnext;
	bool lingering;
};

/* http_body.c */
struct MHD_Response *kp_http_own_response(struct kp_http *h, char *body, size_t len);
void kp_http_shared_used(struct kp_http *h, struct kp_http_shared *s);
void kp_http_shared_done(struct kp_http *h, struct kp_http_shared *s, uint64_t now_ns);
void kp_http_linger_sweep(struct kp_http *h, uint64_t now_ns);
uint64_t kp_http_linger_next_ms(const struct kp_http *h);

/* http_web.c */
/* The first daemon, as @web_path says (NULL: plain HTTP, no users). */
int kp_http_web_start(struct kp_http *h, const char *web_path, char *why, size_t whylen);
void kp_http_web_stop(struct kp_http *h);
/* Run every daemon; drain the old ones; look at the web config files
 * once a second and apply a change. */
void kp_http_web_run(struct kp_http *h, uint64_t now_ms);
uint64_t kp_http_web_next_ms(const struct kp_http *h);
/* A new connection: the client-certificate policy of its daemon. */
void kp_http_web_connection(struct kp_http *h, struct MHD_Connection *conn);
/* Basic auth for a request: 1 go on, 0 answered in @r (401 or 503), -1
 * suspended until the verdict is in (MHD calls the handler again). */
int kp_http_web_auth(struct kp_http *h, struct MHD_Connection *conn, struct kp_http_resp *r);
bool kp_http_web_tls(const struct kp_http *h);

/* http.c, for http_web.c: the MHD callbacks a daemon is started with */
enum MHD_Result kp_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_size, void **state);
void kp_http_completed(void *cls, struct MHD_Connection *conn, void **state,
		       enum MHD_RequestTerminationCode toe);
void kp_http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode code);
void kp_http_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
