/* routes.h - the daemon's HTTP routes: each handler asks the pipeline for
 * a fresh enough model and hands it to an output (metrics, api,
 * health_doc, alerting, the dashboard). */
#ifndef KPULSE_ROUTES_H
#define KPULSE_ROUTES_H

#include <stdint.h>
#include "outputs/health_doc.h"
#include "outputs/http.h"

struct kp_pipeline;
struct kp_alerting;
struct kp_metrics;
struct kp_scrape_cache;

struct kp_routes_ctx {
	struct kp_pipeline *p;
	struct kp_alerting *al;
	struct kp_metrics *mx;
	struct kp_scrape_cache *scrapes;	/* freed before the server stops */
	struct kp_health_doc_opts health;
};

/* GET /, /metrics, /health, /api/v1/...; POST /api/v1/alerts/{id}/ack.
 * The routes' ctx is a struct kp_routes_ctx. */
extern const struct kp_http_route kp_routes[];

#endif
