/* notify.h - delivery of alerts to Alertmanager (POST <url>/api/v2/alerts,
 * a JSON array of postable alerts) and to generic webhooks (POST <url>,
 * {"receiver": "kpulse", "version": "1", "alerts": [...]} with a "status"
 * per alert), with retries, backoff and a bounded queue per receiver.
 *
 * Each receiver has its own queue and worker thread (libcurl), so a slow
 * or dead receiver delays nobody else, and posting never blocks the
 * caller: a full queue drops its oldest alert, and counts it. Alerts queued
 * together are sent in one request (up to KP_NOTIFY_BATCH).
 */
#ifndef KPULSE_NOTIFY_H
#define KPULSE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#define KP_NOTIFY_BATCH 64
#define KP_CFG_MAX_RECEIVERS 8
#define KP_CFG_URL_MAX 512

/* The receivers and how to deliver to them (the config's `receivers`). */
struct kp_receivers {
	char alertmanager[KP_CFG_MAX_RECEIVERS][KP_CFG_URL_MAX];
	unsigned int n_alertmanager;
	char webhook[KP_CFG_MAX_RECEIVERS][KP_CFG_URL_MAX];
	unsigned int n_webhook;
	uint64_t timeout_ns;		/* per HTTP request */
	unsigned int queue_size;	/* per receiver; full = oldest dropped */
	unsigned int retries;		/* after the first attempt */
	uint64_t backoff_ns;		/* first retry delay, doubling */
	uint64_t resend_ns;		/* firing alerts are re-sent this often */
};

struct kp_notify;

/* Start one worker per receiver in @cfg (none at all is fine: posting is
 * then a no-op). Call from the main thread before any other thread uses
 * libcurl. Returns 0 or a negative errno. */
int kp_notify__new(struct kp_notify **out, const struct kp_receivers *cfg);
/* Stop the workers: a request in flight is aborted, queued alerts are
 * dropped. Accepts NULL. */
void kp_notify__free(struct kp_notify *n);

/* Queue one Alertmanager postable alert (kp_alert_am_json) for every
 * receiver; "endsAt" present means resolved. Never blocks on the network.
 * Returns the number of receivers it was queued for. */
unsigned int kp_notify__post(struct kp_notify *n, const json_t *am_alert);

/* Wait up to @timeout_ms for every queue to drain and every request to
 * end; true when idle. For tests and shutdown. */
bool kp_notify__wait_idle(struct kp_notify *n, unsigned int timeout_ms);

struct kp_notify_stats {
	uint64_t sent;		/* alerts a receiver accepted (2xx) */
	uint64_t failed;	/* given up on after the retries, or refused (4xx) */
	uint64_t dropped;	/* pushed out of a full queue */
	uint64_t retries;	/* requests repeated */
	unsigned int queued;	/* waiting now, in flight included */
};
unsigned int kp_notify__count(const struct kp_notify *n);
/* Receiver @i: its URL (userinfo removed), kind and counters. */
const char *kp_notify__receiver(const struct kp_notify *n, unsigned int i, const char **kind,
				struct kp_notify_stats *st);

/* kpulse_alert_notifications_total{receiver,kind,result} and
 * kpulse_alert_notification_queue_length{receiver,kind}. */
void kp_notify__prom(const struct kp_notify *n, FILE *f);

#endif
