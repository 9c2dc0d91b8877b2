/* routes.c - see routes.h.
 *
 * /metrics and the JSON API re-read the maps when the last read is older
 * than SCRAPE_FRESH_NS, so counters are exact at scrape time and the
 * JSON's latency windows hold everything read up to the request; rates,
 * health and history are those of the last interval tick. A scrape that
 * can share an encoding other clients are being sent shares it instead
 * (then it is at most KP_SCRAPE_SHARE_NS old: many scrapers, one
 * collection, one encoding). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "app/alerting.h"
#include "app/pipeline.h"
#include "app/routes.h"
#include "base/clock.h"
#include "model/model.h"
#include "outputs/api.h"
#include "outputs/http_headers.h"
#include "outputs/metrics.h"
#include "outputs/health_prom.h"
#include "outputs/prom.h"
#include "outputs/scrape_cache.h"

#define SCRAPE_FRESH_NS 50000000ull
#define KP_ACK_TOKEN_MAX 256	/* a longer X-Kpulse-Token is cut, so never matches */

/* Maps read, and the windows fed, as of now (at most every 50 ms). */
static void fresh(struct kp_routes_ctx *d, bool windows)
{
	uint64_t now = kp_now_mono_ns(), last = d->p->model->self.last_mono_ns;

	kp_pipeline_refresh(d->p, now, SCRAPE_FRESH_NS);
	if (windows && d->p->model->self.last_mono_ns != last)
		kp_analysis__feed_windows(d->p->an, d->p->model, now);
}

struct render_ctx {
	struct kp_routes_ctx *d;
	const struct kp_http_req *req;
};

static int render_metrics(void *ctx, FILE *f, bool om)
{
	struct render_ctx *rc = ctx;
	struct kp_routes_ctx *d = rc->d;

	kp_prom_begin(f, om);
	kp_metrics__render(d->mx, f, d->p->model);
	kp_alerting__prom(d->al, f);
	kp_health_prom(f, d->mx, d->p->model, d->p->an);
	kp_http__prom(rc->req->server, f);
	kp_scrape_cache__prom(d->scrapes, f);
	kp_prom_end(f);
	return ferror(f);
}

/* One encoding per collection and variant, shared by every scrape that
 * asks while it is current (scrape_cache.h). */
static void h_metrics(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;
	const char *accept = kp_http_header(req, "Accept");
	struct render_ctx rc = { d, req };
	unsigned int v = 0;

	/* OpenMetrics when the scraper asks for it (Prometheus does) */
	if (accept && strstr(accept, "application/openmetrics-text"))
		v |= KP_SCRAPE_OPENMETRICS;
	if (kp_http_accepts_gzip(kp_http_header(req, "Accept-Encoding")))
		v |= KP_SCRAPE_GZIP;
	if (!kp_scrape_cache__sharing(d->scrapes, v, kp_now_mono_ns()))
		fresh(d, false);
	r->shared = kp_scrape_cache__get(d->scrapes, req->server, v,
					 d->p->model->self.last_mono_ns, kp_now_mono_ns(),
					 render_metrics, &rc);
	if (!r->shared) {
		kp_http_busy(req, r);
		return;
	}
	r->status = 200;
}

static void h_health(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;
	json_t *j = kp_health_doc(d->p->model, &d->health, kp_now_mono_ns(), &r->status);

	json_object_set_new(j, "http", kp_http__health(req->server));
	r->body = json_dumps(j, JSON_INDENT(2));
	r->len = r->body ? strlen(r->body) : 0;
	r->content_type = "application/json";
	json_decref(j);
}

/* Compact, written a container at a time (api.h): at 1,000 containers the
 * indented tree took twice the CPU and 1.6 times the bytes. */
static void h_containers(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;

	fresh(d, true);
	r->body = kp_api_containers_text(d->p->model, d->p->an, kp_now_mono_ns(),
					 kp_http_arg(req, "container"), &r->len);
	if (!r->body) {
		kp_http_error(r, 500, "out of memory");
		return;
	}
	r->status = 200;
	r->content_type = "application/json";
}

static void h_container(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;
	const char *key = req->url + strlen("/api/v1/containers/");
	json_t *j;

	fresh(d, true);
	j = kp_api_container(d->p->model, d->p->an, kp_now_mono_ns(), key);

	if (j)
		kp_http_json(r, 200, j);
	else
		kp_http_error(r, 404, "no such container");
}

static void h_node(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;

	(void)req;
	fresh(d, true);
	kp_http_json(r, 200, kp_api_node(d->p->model, d->p->an, kp_now_mono_ns()));
}

static void h_history(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;
	const char *err = NULL;
	json_t *j = kp_api_history(d->p->model, d->p->an, kp_now_mono_ns(),
				   kp_http_arg(req, "metric"), kp_http_arg(req, "container"),
				   kp_http_arg(req, "window"), &err);

	if (j)
		kp_http_json(r, 200, j);
	else
		kp_http_error(r, strcmp(err, "no such container") ? 400 : 404, err);
}

static void h_alerts(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;

	(void)req;
	kp_http_json(r, 200, kp_alerting__json(d->al));
}

/* POST /api/v1/alerts/{id}/ack with Authorization: Bearer <admin token> */
static void h_alert_ack(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct kp_routes_ctx *d = ctx;
	const char *msg = "no such endpoint", *token;
	char id[64], bearer[KP_ACK_TOKEN_MAX + 8];
	json_t *alert;
	unsigned int status;

	if (kp_api_ack_id(req->url, id, sizeof(id))) {
		kp_http_error(r, 404, msg);
		return;
	}
	/* with basic auth the Authorization header carries the user's
	 * credentials: the token comes as X-Kpulse-Token then */
	token = kp_http_header(req, "X-Kpulse-Token");
	if (token)
		snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	status = kp_alerting__ack(d->al, id, token ? bearer : kp_http_header(req, "Authorization"),
				  kp_now_mono_ns(), &alert, &msg);
	if (alert)
		kp_http_json(r, status, alert);
	else
		kp_http_error(r, status, msg);
}

/* The dashboard: a static page in the binary that reads the JSON API. */
extern const char kp_dashboard_html[], kp_dashboard_html_end[];

static void h_dashboard(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	size_t n = (size_t)(kp_dashboard_html_end - kp_dashboard_html);

	(void)ctx;
	(void)req;
	r->body = malloc(n);
	if (!r->body)
		return;
	memcpy(r->body, kp_dashboard_html, n);
	r->len = n;
	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
}

const struct kp_http_route kp_routes[] = {
	{ "/", h_dashboard, NULL },
	{ "/metrics", h_metrics, NULL },
	{ "/health", h_health, NULL },
	{ "/api/v1/containers", h_containers, NULL },
	{ "/api/v1/containers/", h_container, NULL },
	{ "/api/v1/node", h_node, NULL },
	{ "/api/v1/history", h_history, NULL },
	{ "/api/v1/alerts", h_alerts, NULL },
	{ "/api/v1/alerts/", h_alert_ack, "POST" },
	{ NULL, NULL, NULL },
};
