/* scrape_cache.h - the /metrics bodies: one encoding per collection and
 * variant (text 0.0.4 or OpenMetrics, plain or gzip), sent as one shared
 * buffer to every client that asks for it while it is current, however
 * many they are and however slowly they read. At most KP_SCRAPE_MAX_ALIVE
 * encodings exist at once (the current ones and those still being sent);
 * past that a scrape gets the newest encoding of its variant as it is, or a
 * 503 when there is none. */
#ifndef KPULSE_SCRAPE_CACHE_H
#define KPULSE_SCRAPE_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct kp_http;
struct kp_http_shared;
struct kp_scrape_cache;

#define KP_SCRAPE_MAX_ALIVE 4
/* a scrape that arrives while the newest encoding of its variant is being
 * sent, and is younger than this, shares it instead of collecting anew */
#define KP_SCRAPE_SHARE_NS 1000000000ull
/* an encoding nobody reads is kept this long after it was made: scrapes
 * of the same collection reuse it (a scrape refreshes the model when it is
 * older than 50 ms) */
#define KP_SCRAPE_KEEP_NS 50000000ull

enum {
	KP_SCRAPE_OPENMETRICS = 1,
	KP_SCRAPE_GZIP = 2,
	KP_SCRAPE_VARIANTS = 4,
};

/* Writes one whole exposition to @f; non-zero on error. */
typedef int (*kp_scrape_render_fn)(void *ctx, FILE *f, bool openmetrics);

struct kp_scrape_cache *kp_scrape_cache__new(void);
/* Drops the cache's references; call before the server stops. */
void kp_scrape_cache__free(struct kp_scrape_cache *c);

/* True when a scrape of @variant at @now_ns should share the newest
 * encoding rather than refresh the model first. */
bool kp_scrape_cache__sharing(const struct kp_scrape_cache *c, unsigned int variant,
			      uint64_t now_ns);
/* The encoding of @variant for the collection stamped @stamp (a new
 * reference for the response), rendered by @render when there is none yet;
 * NULL when none can be had (out of memory, or the bound reached with
 * nothing of this variant to share). */
struct kp_http_shared *kp_scrape_cache__get(struct kp_scrape_cache *c, struct kp_http *h,
					    unsigned int variant, uint64_t stamp,
					    uint64_t now_ns, kp_scrape_render_fn render,
					    void *ctx);
/* Content-Type of @variant. */
const char *kp_scrape_content_type(unsigned int variant);
/* kpulse_http_metrics_encodings_total, kpulse_http_metrics_shared_stale_total */
void kp_scrape_cache__prom(const struct kp_scrape_cache *c, FILE *f);

#endif
