/* notify.c - alert delivery (see notify.h).
 *
 * The caller serialises each alert once per receiver kind and hands the
 * text to the receiver's ring; the worker takes what is queued (up to a
 * batch), wraps it in the receiver's envelope, and POSTs it with libcurl,
 * retrying with doubling delays on network errors, 429 and 5xx. A 4xx is
 * the receiver saying the request is wrong: retrying cannot help. Waits
 * are condition-variable waits, so stopping never waits for a backoff, and
 * a request in flight is aborted through curl's progress callback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "base/clock.h"
#include "base/log.h"
#include "outputs/notify.h"
#include "outputs/prom.h"
#include "base/version.h"

#define MAX_BACKOFF_NS (60ull * 1000000000ull)

struct receiver {
	char url[KP_CFG_URL_MAX + 16];	/* where to POST */
	char label[KP_CFG_URL_MAX + 16];	/* the URL without userinfo */
	bool am;			/* Alertmanager, else webhook */
	unsigned int retries;
	uint64_t backoff_ns;
	long timeout_ms;
	CURL *curl;
	struct curl_slist *headers;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* work arrived, or stop */
	pthread_cond_t idle_cv;		/* queue drained */
	char **q;			/* ring of serialised alerts */
	unsigned int cap, head, len, inflight;
	bool stop;			/* under mu; read unlocked by the progress callback */
	bool failing;			/* last delivery failed: log recovery once */
	struct kp_notify_stats st;
};

struct kp_notify {
	struct receiver **r;
	unsigned int n;
};


static struct timespec deadline(uint64_t delay_ns)
{
	uint64_t t = kp_now_mono_ns() + delay_ns;

	return (struct timespec){ (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct receiver *r = ctx;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return __atomic_load_n(&r->stop, __ATOMIC_RELAXED);	/* non-zero aborts */
}

/* 0 delivered, 1 worth retrying, -1 refused */
static int post_once(struct receiver *r, const char *body, size_t len, char *why, size_t whylen)
{
	long code = 0;
	CURLcode c;

	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	c = curl_easy_perform(r->curl);
	if (c != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(c));
		return 1;
	}
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	snprintf(why, whylen, "HTTP %ld", code);
	return code == 429 || code >= 500 ? 1 : -1;
}

/* The batch's request body: a JSON array for Alertmanager, an envelope
 * for a webhook. Items are already serialised. */
static char *envelope(const struct receiver *r, char **items, unsigned int k, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fputs(r->am ? "[" : "{\"receiver\":\"kpulse\",\"version\":\"1\",\"alerts\":[", f);
	for (unsigned int i = 0; i < k; i++)
		fprintf(f, "%s%s", i ? "," : "", items[i]);
	fputs(r->am ? "]" : "]}", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool deliver(struct receiver *r, const char *body, size_t len)
{
	char why[CURL_ERROR_SIZE + 32] = "";

	for (unsigned int attempt = 0;; attempt++) {
		uint64_t delay;
		struct timespec until;
		bool stop;
		int rc = post_once(r, body, len, why, sizeof(why));

		if (rc == 0) {
			if (r->failing)
				kp_info("alert receiver %s: delivering again", r->label);
			r->failing = false;
			return true;
		}
		if (__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
			return false;		/* aborted by kp_notify__free */
		if (!r->failing)
			kp_err("alert receiver %s: cannot deliver (%s)%s", r->label, why,
			       rc > 0 && attempt < r->retries ? "; retrying" : "");
		r->failing = true;
		if (rc < 0 || attempt >= r->retries)
			return false;
		delay = r->backoff_ns << (attempt < 16 ? attempt : 16);
		if (delay > MAX_BACKOFF_NS)
			delay = MAX_BACKOFF_NS;
		until = deadline(delay);
		pthread_mutex_lock(&r->mu);
		r->st.retries++;
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
			;
		stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return false;
	}
}

static void *worker(void *arg)
{
	struct receiver *r = arg;
	char *batch[KP_NOTIFY_BATCH];

	pthread_mutex_lock(&r->mu);
	for (;;) {
		unsigned int k = 0;
		size_t len = 0;
		char *body;
		bool ok;

		while (!r->stop && !r->len)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop)
			break;
		while (r->len && k < KP_NOTIFY_BATCH) {
			batch[k++] = r->q[r->head];
			r->head = (r->head + 1) % r->cap;
			r->len--;
		}
		r->inflight = k;
		pthread_mutex_unlock(&r->mu);

		body = envelope(r, batch, k, &len);
		ok = body && deliver(r, body, len);
		free(body);
		for (unsigned int i = 0; i < k; i++)
			free(batch[i]);

		pthread_mutex_lock(&r->mu);
		r->inflight = 0;
		if (ok)
			r->st.sent += k;
		else
			r->st.failed += k;
		if (!r->len)
			pthread_cond_broadcast(&r->idle_cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void receiver_free(struct receiver *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		__atomic_store_n(&r->stop, true, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	for (unsigned int i = 0; i < r->len; i++)
		free(r->q[(r->head + i) % r->cap]);
	free(r->q);
	curl_slist_free_all(r->headers);
	if (r->curl)
		curl_easy_cleanup(r->curl);
	pthread_cond_destroy(&r->cv);
	pthread_cond_destroy(&r->idle_cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* "http://user:pw@host:9093/x" -> "http://host:9093/x" */
static void strip_userinfo(const char *url, char *out, size_t len)
{
	const char *s = strstr(url, "://"), *host, *at, *slash;

	if (!s) {
		snprintf(out, len, "%s", url);
		return;
	}
	host = s + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (!at) {
		snprintf(out, len, "%s", url);
		return;
	}
	snprintf(out, len, "%.*s%s", (int)(host - url), url, at + 1);
}

static struct receiver *receiver_new(const char *url, bool am, const struct kp_receivers *cfg)
{
	struct receiver *r = calloc(1, sizeof(*r));
	pthread_condattr_t ca;
	size_t n;

	if (!r)
		return NULL;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_cond_init(&r->idle_cv, &ca);
	pthread_condattr_destroy(&ca);
	r->am = am;
	/* an Alertmanager is named by its base URL */
	n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (am && !(n >= 14 && !strncmp(url + n - 14, "/api/v2/alerts", 14)))
		snprintf(r->url, sizeof(r->url), "%.*s/api/v2/alerts", (int)n, url);
	else
		snprintf(r->url, sizeof(r->url), "%s", url);
	strip_userinfo(r->url, r->label, sizeof(r->label));
	r->retries = cfg->retries;
	r->backoff_ns = cfg->backoff_ns;
	r->timeout_ms = (long)(cfg->timeout_ns / 1000000ull);
	r->cap = cfg->queue_size ? cfg->queue_size : 1;
	r->q = calloc(r->cap, sizeof(*r->q));
	r->curl = curl_easy_init();
	r->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!r->q || !r->curl || !r->headers) {
		receiver_free(r);
		return NULL;
	}
	curl_easy_setopt(r->curl, CURLOPT_URL, r->url);
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "kpulse/" KPULSE_VERSION);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);	/* threads: no SIGALRM */
	curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(r->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(r->curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(r->curl, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (pthread_create(&r->thread, NULL, worker, r)) {
		receiver_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

int kp_notify__new(struct kp_notify **out, const struct kp_receivers *cfg)
{
	static bool curl_ready;
	struct kp_notify *n = calloc(1, sizeof(*n));
	unsigned int total = cfg->n_alertmanager + cfg->n_webhook;

	if (!n)
		return -ENOMEM;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			free(n);
			return -EIO;
		}
		curl_ready = true;
	}
	n->r = total ? calloc(total, sizeof(*n->r)) : NULL;
	if (total && !n->r) {
		free(n);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < total; i++) {
		bool am = i < cfg->n_alertmanager;

		n->r[i] = receiver_new(am ? cfg->alertmanager[i] : cfg->webhook[i - cfg->n_alertmanager],
				       am, cfg);
		if (!n->r[i]) {
			kp_notify__free(n);
			return -ENOMEM;
		}
		n->n++;
	}
	*out = n;
	return 0;
}

void kp_notify__free(struct kp_notify *n)
{
	if (!n)
		return;
	for (unsigned int i = 0; i < n->n; i++)
		receiver_free(n->r[i]);
	free(n->r);
	free(n);
}

static void push(struct receiver *r, char *item)
{
	pthread_mutex_lock(&r->mu);
	if (r->len == r->cap) {		/* the newest state matters most */
		free(r->q[r->head]);
		r->head = (r->head + 1) % r->cap;
		r->len--;
		r->st.dropped++;
	}
	r->q[(r->head + r->len) % r->cap] = item;
	r->len++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

unsigned int kp_notify__post(struct kp_notify *n, const json_t *alert)
{
	char *am = NULL, *hook = NULL;
	unsigned int queued = 0;

	if (!n || !n->n || !alert)
		return 0;
	for (unsigned int i = 0; i < n->n; i++) {
		struct receiver *r = n->r[i];
		char *item;

		if (r->am && !am) {
			am = json_dumps(alert, JSON_COMPACT);
		} else if (!r->am && !hook) {
			json_t *copy = json_copy((json_t *)alert);

			if (copy) {
				json_object_set_new(copy, "status", json_string(
					json_object_get(alert, "endsAt") ? "resolved" : "firing"));
				hook = json_dumps(copy, JSON_COMPACT);
				json_decref(copy);
			}
		}
		item = strdup(r->am ? (am ? am : "") : (hook ? hook : ""));
		if (!item || !*item) {
			free(item);
			pthread_mutex_lock(&r->mu);
			r->st.dropped++;
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		push(r, item);
		queued++;
	}
	free(am);
	free(hook);
	return queued;
}

bool kp_notify__wait_idle(struct kp_notify *n, unsigned int timeout_ms)
{
	struct timespec until = deadline((uint64_t)timeout_ms * 1000000ull);
	bool idle = true;

	for (unsigned int i = 0; n && i < n->n; i++) {
		struct receiver *r = n->r[i];

		pthread_mutex_lock(&r->mu);
		while ((r->len || r->inflight) &&
		       pthread_cond_timedwait(&r->idle_cv, &r->mu, &until) != ETIMEDOUT)
			;
		idle = idle && !r->len && !r->inflight;
		pthread_mutex_unlock(&r->mu);
	}
	return idle;
}

unsigned int kp_notify__count(const struct kp_notify *n)
{
	return n ? n->n : 0;
}

const char *kp_notify__receiver(const struct kp_notify *n, unsigned int i, const char **kind,
				struct kp_notify_stats *st)
{
	struct receiver *r;

	if (!n || i >= n->n)
		return NULL;
	r = n->r[i];
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	st->queued = r->len + r->inflight;
	pthread_mutex_unlock(&r->mu);
	*kind = r->am ? "alertmanager" : "webhook";
	return r->label;
}

void kp_notify__prom(const struct kp_notify *n, FILE *f)
{
	static const char *const results[] = { "sent", "failed", "dropped" };
	struct kp_label l[4] = { { "receiver", NULL }, { "kind", NULL }, { "result", NULL },
				 { NULL, NULL } };
	struct kp_notify_stats st;

	kp_prom_family(f, "kpulse_alert_notifications_total", "counter",
		       "Alerts handed to a receiver, by outcome: sent (2xx), failed (after retries, "
		       "or refused), dropped (pushed out of a full queue).");
	for (unsigned int i = 0; i < kp_notify__count(n); i++) {
		l[0].value = kp_notify__receiver(n, i, &l[1].value, &st);
		for (int k = 0; k < 3; k++) {
			l[2].value = results[k];
			kp_prom_sample_u64(f, "kpulse_alert_notifications_total", l,
					   k == 0 ? st.sent : k == 1 ? st.failed : st.dropped);
		}
	}
	kp_prom_family(f, "kpulse_alert_notification_retries_total", "counter",
		       "Requests to a receiver repeated after a network error, 429 or 5xx.");
	l[2].name = NULL;
	for (unsigned int i = 0; i < kp_notify__count(n); i++) {
		l[0].value = kp_notify__receiver(n, i, &l[1].value, &st);
		kp_prom_sample_u64(f, "kpulse_alert_notification_retries_total", l, st.retries);
	}
	kp_prom_family(f, "kpulse_alert_notification_queue_length", "gauge",
		       "Alerts waiting for a receiver, the request in flight included.");
	for (unsigned int i = 0; i < kp_notify__count(n); i++) {
		l[0].value = kp_notify__receiver(n, i, &l[1].value, &st);
		kp_prom_sample_u64(f, "kpulse_alert_notification_queue_length", l, st.queued);
	}
}
