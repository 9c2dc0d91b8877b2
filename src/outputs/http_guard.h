/* http_guard.h - who is connected to the HTTP server, since when and
 * doing what, and the limits on it: connections per client address and in
 * all, a deadline for a request's headers (however slowly they trickle), a
 * deadline for a response, and which connection gives way when a cap is
 * reached. Pure: no sockets, time is a parameter; a connection is closed
 * through the @shut callback (the server shuts the socket down and its
 * library closes it at the next event). */
#ifndef KPULSE_HTTP_GUARD_H
#define KPULSE_HTTP_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Why a connection was refused or cut, or a request refused; the
 * label values of kpulse_http_rejected_total{reason}. */
enum kp_http_reject {
	KP_HTTP_REJ_CONNECTIONS,	/* table full, nothing could give way */
	KP_HTTP_REJ_ADDRESS,		/* its address at its cap, likewise */
	KP_HTTP_REJ_EVICTED,		/* closed to make room for a newer one */
	KP_HTTP_REJ_HEADER_TIMEOUT,	/* request headers not in by the deadline */
	KP_HTTP_REJ_RESPONSE_TIMEOUT,	/* response not sent by the deadline */
	KP_HTTP_REJ_IDLE_TIMEOUT,	/* a response made no progress (never read) */
	KP_HTTP_REJ_MEMORY,		/* 503: response memory at its bound */
	KP_HTTP_REJ_UNAUTHORIZED,	/* 401: no or wrong basic-auth credentials */
	KP_HTTP_REJ_AUTH_BUSY,		/* 503: too many password checks waiting */
	KP_HTTP_REJ_CROSS_ORIGIN,	/* 403: Origin names another site */
	KP_HTTP_REJ_N,
};

extern const char *const kp_http_reject_names[KP_HTTP_REJ_N];

struct kp_guard_limits {
	unsigned int max_connections;	/* in all */
	unsigned int max_per_address;	/* per IPv4 address or IPv6 /64 */
	uint64_t header_ms;		/* accept -> request headers complete */
	uint64_t response_ms;		/* headers -> response fully sent */
	uint64_t keepalive_ms;		/* response sent -> next request's headers */
	uint64_t evict_sending_ms;	/* a response this old may give way */
};

/* The limits the daemon runs with (README, "Bounded"). */
extern const struct kp_guard_limits kp_guard_default_limits;

struct kp_guard;
struct kp_guard_conn;

typedef void (*kp_guard_shut_fn)(void *cls, int fd);

struct kp_guard *kp_guard__new(const struct kp_guard_limits *lim,
			       kp_guard_shut_fn shut, void *cls);
void kp_guard__free(struct kp_guard *g);

/* A connection accepted at @now_ms. Always returns its entry (NULL only
 * when out of memory): over a cap, the oldest connection of the same scope
 * still waiting for its request's headers gives way, else one whose
 * response has been sending for evict_sending_ms, else the new one is shut
 * at once. */
struct kp_guard_conn *kp_guard__open(struct kp_guard *g, int fd,
				     const struct sockaddr *sa, socklen_t len,
				     uint64_t now_ms);
/* Its request's headers are in: the response deadline starts. */
void kp_guard__request(struct kp_guard *g, struct kp_guard_conn *c, uint64_t now_ms);
/* Its response is sent (keep-alive): waits for the next request. */
void kp_guard__done(struct kp_guard *g, struct kp_guard_conn *c, uint64_t now_ms);
/* The connection is gone; @c is freed. */
void kp_guard__close(struct kp_guard *g, struct kp_guard_conn *c);
/* Shut every connection past its deadline. */
void kp_guard__sweep(struct kp_guard *g, uint64_t now_ms);
/* When the next deadline falls (UINT64_MAX: none). */
uint64_t kp_guard__next_ms(const struct kp_guard *g);

/* Count a refusal decided elsewhere (idle timeout, memory). */
void kp_guard__count(struct kp_guard *g, enum kp_http_reject why);
/* Open connections (those shut but not yet closed excluded), and the
 * counters. */
unsigned int kp_guard__connections(const struct kp_guard *g);
const uint64_t *kp_guard__rejected(const struct kp_guard *g);

#endif
