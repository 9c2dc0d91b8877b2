/* health_doc.h - the /health document and its verdict from the model:
 * `ok`; `degraded` (something is off or data was lost in the last
 * minute: a program not running, a feature missing, events dropped, a
 * bound hit; `reasons` says which, each with the series that shows it);
 * or `failing` (nothing runs, or collection stalled). */
#ifndef KPULSE_HEALTH_DOC_H
#define KPULSE_HEALTH_DOC_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct kp_model;

struct kp_health_doc_opts {
	uint64_t started_ns;		/* CLOCK_MONOTONIC of the daemon's start */
	uint64_t interval_ns;		/* collection interval */
	bool bpf_stats_wanted;		/* config asks for bpf stats (not off) */
	unsigned int rtt_sample;
	/* more reasons to be degraded, from outside the model (bounds the
	 * daemon hit): {"reason", "series"} objects; NULL: none */
	json_t *extra;
	/* what the daemon holds once attached (user, capabilities, filter) */
	json_t *privileges;
};

/* The document; *@http_status is 200 (ok, degraded) or 503 (failing). */
json_t *kp_health_doc(const struct kp_model *m, const struct kp_health_doc_opts *o,
		      uint64_t now_ns, unsigned int *http_status);

#endif
