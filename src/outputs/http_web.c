/* http_web.c - the HTTP server as the web config says: plain HTTP, or TLS
 * with its certificate, client-certificate policy and versions; basic
 * auth in front of every route. The config and the files it names are
 * looked at once a second, and re-read on SIGHUP; a change is applied
 * without a restart: users at
 * once, TLS settings by starting a new libmicrohttpd daemon on the same
 * listening socket and letting the old one finish its connections
 * (MHD_quiesce_daemon), so a rotated certificate is served from the next
 * connection on. A file that does not load changes nothing and is logged
 * once. Every daemon's epoll fd, and the basic-auth worker's eventfd, sit
 * in one epoll fd, the one the daemon's loop polls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "base/log.h"
#include "outputs/basic_auth.h"
#include "outputs/http_guard.h"
#include "outputs/http_int.h"
#include "outputs/http_tls.h"

/* MHD's own table is larger than the guard's caps: connections the guard
 * shut stay in it until MHD has seen them close */
#define MHD_CONNECTIONS (kp_guard_default_limits.max_connections + 64)
/* a response that makes no progress for this long is cut (never read) */
#define IDLE_TIMEOUT_S 10
/* per connection: request line, headers and response headers */
#define CONN_MEMORY (32 * 1024)
#define CHECK_EVERY_MS 1000

void kp_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct kp_http *h = cls;

	/* client misbehaviour is answered, not logged; the last message is
	 * kept to say why a daemon would not start */
	vsnprintf(h->mhd_msg, sizeof(h->mhd_msg), fmt, ap);
	h->mhd_msg[strcspn(h->mhd_msg, "\n")] = 0;
}

/* A daemon started with @w, which it takes over (zeroed); NULL with a
 * line in @why. */
static struct kp_srv *srv_start(struct kp_http *h, struct kp_webcfg *w, char *why, size_t len)
{
	struct MHD_OptionItem tls[KP_TLS_MAX_OPTIONS] = { { MHD_OPTION_END, 0, NULL } };
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct kp_srv *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;

	if (!s) {
		kp_webcfg_free(w);
		snprintf(why, len, "out of memory");
		return NULL;
	}
	s->web = *w;
	memset(w, 0, sizeof(*w));
	if (s->web.tls) {
		flags |= MHD_USE_TLS;
		kp_http_tls_options(&s->web, tls, s->prio, sizeof(s->prio));
	}
	h->mhd_msg[0] = 0;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, kp_http_handle, h,
				MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
				MHD_OPTION_ARRAY, tls,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MHD_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, kp_http_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, kp_http_completed, h,
				MHD_OPTION_EXTERNAL_LOGGER, kp_http_mhd_log, h,
				MHD_OPTION_END);
	info = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	s->mhd_fd = info ? info->epoll_fd : -1;
	if (!s->d || s->mhd_fd < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, s->mhd_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = s })) {
		snprintf(why, len, "%s", h->mhd_msg[0] ? h->mhd_msg : "cannot start the server");
		if (s->d)
			MHD_stop_daemon(s->d);
		kp_webcfg_free(&s->web);
		free(s);
		return NULL;
	}
	return s;
}

static void srv_stop(struct kp_http *h, struct kp_srv *s)
{
	if (!s)
		return;
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->mhd_fd, NULL);
	MHD_stop_daemon(s->d);
	kp_http_tls_forget(&s->web);
	kp_webcfg_free(&s->web);
	free(s);
}

/* The current daemon stops taking connections and finishes its own. */
static void retire(struct kp_http *h, struct kp_srv *s)
{
	MHD_quiesce_daemon(s->d);	/* the listening socket stays open */
	if (h->n_old == KP_HTTP_MAX_OLD) {
		srv_stop(h, h->old[0]);	/* its connections are cut */
		memmove(h->old, h->old + 1, (KP_HTTP_MAX_OLD - 1) * sizeof(h->old[0]));
		h->n_old--;
	}
	h->old[h->n_old++] = s;
}

static void drain(struct kp_http *h)
{
	for (unsigned int i = 0; i < h->n_old;) {
		const union MHD_DaemonInfo *ci;

		MHD_run(h->old[i]->d);
		ci = MHD_get_daemon_info(h->old[i]->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (ci && ci->num_connections) {
			i++;
			continue;
		}
		srv_stop(h, h->old[i]);
		h->old[i] = h->old[--h->n_old];
	}
}

/* Remember the files @w named and how they look now. */
static void watch(struct kp_http *h, const struct kp_webcfg *w)
{
	const char *names[3] = { w->cert_file, w->key_file, w->client_ca_file };
	struct kp_webcfg_stamp st;

	for (int i = 0; i < 3; i++) {
		free(h->watch[i]);
		h->watch[i] = names[i] ? strdup(names[i]) : NULL;
	}
	kp_webcfg_stamp(h->web_path, w, &st);
	memcpy(h->stamp, st.f, sizeof(h->stamp));
}

/* Take @w (consumed): a new daemon when its TLS settings differ, its
 * users either way. Nothing changes on failure. */
static int apply(struct kp_http *h, struct kp_webcfg *w, char *why, size_t len)
{
	struct kp_srv *s = NULL;
	const struct kp_webcfg *now = w;

	if (!h->cur || !kp_webcfg_same_tls(&h->cur->web, w)) {
		s = srv_start(h, w, why, len);
		if (!s)
			return -EINVAL;
		now = &s->web;
	}
	if (kp_auth__set_users(h->auth, now->users, now->n_users)) {
		snprintf(why, len, "out of memory");
		srv_stop(h, s);
		if (now == w)
			kp_webcfg_free(w);
		return -ENOMEM;
	}
	watch(h, now);
	if (s) {
		if (h->cur)
			retire(h, h->cur);
		h->cur = s;
	} else {
		kp_webcfg_free(w);
	}
	return 0;
}

static void check(struct kp_http *h, uint64_t now)
{
	struct kp_webcfg w, names = { .cert_file = h->watch[0], .key_file = h->watch[1],
				      .client_ca_file = h->watch[2] };
	struct kp_webcfg_stamp st;
	char err[320];

	if (!h->web_path || now < h->next_check_ms)
		return;
	h->next_check_ms = now + CHECK_EVERY_MS;
	kp_webcfg_stamp(h->web_path, &names, &st);
	if (!memcmp(st.f, h->stamp, sizeof(h->stamp)))
		return;
	memcpy(h->stamp, st.f, sizeof(h->stamp));
	if (kp_webcfg_load(h->web_path, &w, err, sizeof(err)) ||
	    apply(h, &w, err, sizeof(err))) {
		if (strcmp(err, h->web_error))
			kp_err("%s; keeping the running TLS settings and users", err);
		snprintf(h->web_error, sizeof(h->web_error), "%s", err);
		return;
	}
	h->web_error[0] = 0;
	kp_info("web config: %s re-read (%s, %u basic-auth users)", h->web_path,
		h->cur->web.tls ? "TLS" : "plain HTTP", h->cur->web.n_users);
}

int kp_http_web_start(struct kp_http *h, const char *web_path, char *why, size_t whylen)
{
	struct kp_webcfg w = { 0 };

	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->auth = kp_auth__new();
	if (h->epfd < 0 || !h->auth ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, kp_auth__fd(h->auth),
		      &(struct epoll_event){ .events = EPOLLIN })) {
		snprintf(why, whylen, "cannot start the HTTP server: %s", strerror(errno));
		return -errno;
	}
	if (web_path) {
		h->web_path = strdup(web_path);
		if (!h->web_path) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		if (kp_webcfg_load(web_path, &w, why, whylen))
			return -EINVAL;
		if (w.tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			kp_webcfg_free(&w);
			snprintf(why, whylen, "%s: TLS asked for, but libmicrohttpd was built "
				 "without it", web_path);
			return -ENOTSUP;
		}
	}
	return apply(h, &w, why, whylen);
}

void kp_http_web_stop(struct kp_http *h)
{
	kp_auth__free(h->auth);		/* no verdict resumes a connection after this */
	h->auth = NULL;
	while (h->n_old)
		srv_stop(h, h->old[--h->n_old]);
	srv_stop(h, h->cur);		/* closes the listening socket */
	h->cur = NULL;
	for (int i = 0; i < 3; i++)
		free(h->watch[i]);
	free(h->web_path);
	if (h->epfd >= 0)
		close(h->epfd);
}

void kp_http_web_run(struct kp_http *h, uint64_t now_ms)
{
	kp_auth__poll(h->auth);		/* resumes connections whose verdict is in */
	MHD_run(h->cur->d);
	drain(h);
	check(h, now_ms);
}

void kp_http__reload_web(struct kp_http *h)
{
	if (!h->web_path)
		return;
	memset(h->stamp, 0xff, sizeof(h->stamp));	/* no file looks like this */
	h->web_error[0] = 0;				/* a refusal is logged again */
	h->next_check_ms = 0;
}

uint64_t kp_http_web_next_ms(const struct kp_http *h)
{
	return h->web_path ? h->next_check_ms : UINT64_MAX;
}

void kp_http_web_connection(struct kp_http *h, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
	struct kp_srv *s = NULL;

	if (!ci)
		return;
	if (h->cur && h->cur->d == ci->daemon)
		s = h->cur;
	for (unsigned int i = 0; !s && i < h->n_old; i++)
		if (h->old[i]->d == ci->daemon)
			s = h->old[i];
	if (s && s->web.tls)
		kp_http_tls_connection(&s->web, conn);
}

static void resume(void *cls)
{
	MHD_resume_connection(cls);
}

int kp_http_web_auth(struct kp_http *h, struct MHD_Connection *conn, struct kp_http_resp *r)
{
	char *user, *pass = NULL;
	enum kp_auth_verdict v;

	if (!kp_auth__enabled(h->auth))
		return 1;
	user = MHD_basic_auth_get_username_password(conn, &pass);
	v = kp_auth__check(h->auth, user, pass, resume, conn);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	MHD_free(user);
	switch (v) {
	case KP_AUTH_OK:
		return 1;
	case KP_AUTH_PENDING:
		MHD_suspend_connection(conn);
		return -1;
	case KP_AUTH_BUSY:
		kp_guard__count(h->guard, KP_HTTP_REJ_AUTH_BUSY);
		kp_http_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			      "busy checking passwords; retry shortly");
		return 0;
	default:
		kp_guard__count(h->guard, KP_HTTP_REJ_UNAUTHORIZED);
		kp_http_error(r, MHD_HTTP_UNAUTHORIZED,
			      "this server needs a user name and password (basic auth)");
		r->www_authenticate = "Basic realm=\"kpulse\"";
		return 0;
	}
}

bool kp_http_web_tls(const struct kp_http *h)
{
	return h->cur && h->cur->web.tls;
}
