/* test_notify.c - alert delivery against a real HTTP server in the test
 * (libmicrohttpd on loopback): Alertmanager and webhook bodies, retries on
 * 5xx, no retry on 4xx, a dead receiver, the bounded queue, and a stop
 * that does not wait for a slow receiver. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <microhttpd.h>
#include "outputs/notify.h"

#define MAX_REQ 64

static struct {
	pthread_mutex_t mu;
	char *body[MAX_REQ];
	char url[MAX_REQ][128];
	char ctype[MAX_REQ][64];
	unsigned int n;
	unsigned int fail_first;	/* answer 503 to this many */
	unsigned int status;		/* then this */
	unsigned int delay_ms;		/* before answering */
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct upload {
	char *buf;
	size_t len;
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *data,
			       size_t *size, void **state)
{
	struct upload *u = *state;
	struct MHD_Response *resp;
	unsigned int status;
	enum MHD_Result ret;

	(void)cls;
	(void)method;
	(void)version;
	if (!u) {
		*state = calloc(1, sizeof(struct upload));
		return MHD_YES;
	}
	if (*size) {
		u->buf = realloc(u->buf, u->len + *size + 1);
		memcpy(u->buf + u->len, data, *size);
		u->len += *size;
		u->buf[u->len] = 0;
		*size = 0;
		return MHD_YES;
	}
	if (srv.delay_ms)
		usleep(srv.delay_ms * 1000);
	pthread_mutex_lock(&srv.mu);
	status = srv.n < srv.fail_first ? 503 : srv.status;
	if (srv.n < MAX_REQ) {
		const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

		srv.body[srv.n] = u->buf ? u->buf : strdup("");
		u->buf = NULL;
		snprintf(srv.url[srv.n], sizeof(srv.url[0]), "%s", url);
		snprintf(srv.ctype[srv.n], sizeof(srv.ctype[0]), "%s", ct ? ct : "");
		srv.n++;
	}
	pthread_mutex_unlock(&srv.mu);
	resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *state;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->buf);
		free(u);
	}
	*state = NULL;
}

static struct MHD_Daemon *mhd;
static unsigned short port;

static int setup(void **s)
{
	const union MHD_DaemonInfo *i;

	(void)s;
	for (unsigned int k = 0; k < srv.n; k++)
		free(srv.body[k]);
	srv.n = 0;
	srv.fail_first = 0;
	srv.status = 200;
	srv.delay_ms = 0;
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
			       0, NULL, NULL, handler, NULL,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_SOCK_ADDR, &(struct sockaddr_in){
				       .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
			       MHD_OPTION_END);
	assert_non_null(mhd);
	i = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = i->port;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	MHD_stop_daemon(mhd);
	return 0;
}

static struct kp_receivers receivers(void)
{
	struct kp_receivers r;

	memset(&r, 0, sizeof(r));
	r.timeout_ns = 2000000000ull;
	r.queue_size = 16;
	r.retries = 3;
	r.backoff_ns = 10000000ull;
	return r;
}

static json_t *alert(const char *name, bool resolved)
{
	json_t *j = json_pack("{s:{s:s, s:s}, s:{s:s}, s:s}", "labels", "alertname", name,
			      "container", "web", "annotations", "summary", "x",
			      "startsAt", "2024-01-01T00:00:00.000Z");

	if (resolved)
		json_object_set_new(j, "endsAt", json_string("2024-01-01T00:01:00.000Z"));
	return j;
}

static void post(struct kp_notify *n, const char *name, bool resolved)
{
	json_t *j = alert(name, resolved);

	kp_notify__post(n, j);
	json_decref(j);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* All alerts received, in order, flattened out of their requests. */
static json_t *received(bool am)
{
	json_t *all = json_array();

	pthread_mutex_lock(&srv.mu);
	for (unsigned int i = 0; i < srv.n; i++) {
		json_t *b = json_loads(srv.body[i], 0, NULL), *list, *a;
		size_t k;

		assert_non_null(b);
		list = am ? b : json_object_get(b, "alerts");
		assert_true(json_is_array(list));
		json_array_foreach(list, k, a)
			json_array_append(all, a);
		json_decref(b);
	}
	pthread_mutex_unlock(&srv.mu);
	return all;
}

static void test_alertmanager_body(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify_stats st;
	struct kp_notify *n;
	const char *kind, *label;
	json_t *all;

	(void)s;
	cfg.n_alertmanager = 1;
	snprintf(cfg.alertmanager[0], KP_CFG_URL_MAX, "http://user:pw@127.0.0.1:%u/", port);
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	post(n, "A", false);
	post(n, "B", false);
	post(n, "A", true);
	assert_true(kp_notify__wait_idle(n, 5000));
	all = received(true);
	assert_int_equal(json_array_size(all), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(all, 1),
									      "labels"), "alertname")), "B");
	assert_non_null(json_object_get(json_array_get(all, 2), "endsAt"));
	assert_null(json_object_get(json_array_get(all, 0), "status"));	/* not in the v2 schema */
	json_decref(all);
	assert_string_equal(srv.url[0], "/api/v2/alerts");
	assert_string_equal(srv.ctype[0], "application/json");
	label = kp_notify__receiver(n, 0, &kind, &st);
	assert_string_equal(kind, "alertmanager");
	assert_null(strstr(label, "pw"));	/* no credentials in labels */
	assert_non_null(strstr(label, "/api/v2/alerts"));
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.failed + st.dropped + st.retries + st.queued, 0);
	kp_notify__free(n);
}

static void test_webhook_body(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify *n;
	json_t *b;

	(void)s;
	cfg.n_webhook = 1;
	snprintf(cfg.webhook[0], KP_CFG_URL_MAX, "http://127.0.0.1:%u/hook", port);
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	post(n, "A", false);
	assert_true(kp_notify__wait_idle(n, 5000));
	post(n, "A", true);
	assert_true(kp_notify__wait_idle(n, 5000));
	assert_string_equal(srv.url[0], "/hook");
	b = json_loads(srv.body[0], 0, NULL);
	assert_string_equal(json_string_value(json_object_get(b, "receiver")), "kpulse");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(b, "alerts"), 0),
							      "status")), "firing");
	json_decref(b);
	b = json_loads(srv.body[1], 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(b, "alerts"), 0),
							      "status")), "resolved");
	json_decref(b);
	kp_notify__free(n);
}

static void test_retry_on_5xx_not_on_4xx(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify_stats st;
	struct kp_notify *n;
	const char *kind;

	(void)s;
	cfg.n_alertmanager = 1;
	snprintf(cfg.alertmanager[0], KP_CFG_URL_MAX, "http://127.0.0.1:%u", port);
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	srv.fail_first = 2;
	post(n, "A", false);
	assert_true(kp_notify__wait_idle(n, 5000));
	kp_notify__receiver(n, 0, &kind, &st);
	assert_int_equal(srv.n, 3);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.sent, 1);
	/* the same body every time */
	assert_string_equal(srv.body[0], srv.body[2]);

	srv.status = 400;
	post(n, "B", false);
	assert_true(kp_notify__wait_idle(n, 5000));
	kp_notify__receiver(n, 0, &kind, &st);
	assert_int_equal(srv.n, 4);		/* refused: asked once */
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.retries, 2);
	kp_notify__free(n);
}

static void test_dead_receiver_does_not_block(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify_stats st;
	struct kp_notify *n;
	const char *kind;
	double t0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	(void)s;
	/* a port nobody listens on: bound, never listening */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	cfg.n_alertmanager = 2;
	snprintf(cfg.alertmanager[0], KP_CFG_URL_MAX, "http://127.0.0.1:%u", ntohs(a.sin_port));
	snprintf(cfg.alertmanager[1], KP_CFG_URL_MAX, "http://127.0.0.1:%u", port);
	cfg.retries = 2;
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	t0 = now_s();
	for (int i = 0; i < 10; i++)
		post(n, "A", false);
	assert_true(now_s() - t0 < 0.05);	/* posting never waits */
	assert_true(kp_notify__wait_idle(n, 5000));
	kp_notify__receiver(n, 0, &kind, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.failed, 10);
	assert_true(st.retries >= 2);
	kp_notify__receiver(n, 1, &kind, &st);	/* the live one got everything */
	assert_int_equal(st.sent, 10);
	kp_notify__free(n);
	close(fd);
}

static void test_bounded_queue_and_quick_stop(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify_stats st;
	struct kp_notify *n;
	const char *kind;
	double t0;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)s;
	cfg.n_alertmanager = 1;
	cfg.queue_size = 4;
	cfg.timeout_ns = 10000000000ull;
	snprintf(cfg.alertmanager[0], KP_CFG_URL_MAX, "http://127.0.0.1:%u", port);
	srv.delay_ms = 1500;
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	post(n, "first", false);
	usleep(200000);				/* the worker has taken it: in flight */
	t0 = now_s();
	for (int i = 0; i < 20; i++)
		post(n, "more", false);
	assert_true(now_s() - t0 < 0.05);
	kp_notify__receiver(n, 0, &kind, &st);
	assert_int_equal(st.dropped, 16);	/* 20 into a queue of 4 */
	assert_int_equal(st.queued, 5);		/* 4 waiting + 1 in flight */
	f = open_memstream(&text, &len);
	kp_notify__prom(n, f);
	fclose(f);
	assert_non_null(strstr(text, "result=\"dropped\"} 16\n"));
	assert_non_null(strstr(text, "kpulse_alert_notification_queue_length{receiver=\""));
	free(text);
	t0 = now_s();
	kp_notify__free(n);			/* aborts the slow request */
	assert_true(now_s() - t0 < 1.4);
}

static void test_no_receivers(void **s)
{
	struct kp_receivers cfg = receivers();
	struct kp_notify *n;
	json_t *j = alert("A", false);

	(void)s;
	assert_int_equal(kp_notify__new(&n, &cfg), 0);
	assert_int_equal(kp_notify__post(n, j), 0);
	assert_true(kp_notify__wait_idle(n, 10));
	assert_int_equal(kp_notify__count(n), 0);
	json_decref(j);
	kp_notify__free(n);
	kp_notify__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alertmanager_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_on_5xx_not_on_4xx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_receiver_does_not_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded_queue_and_quick_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_receivers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
