/* http_guard.c - connection limits and deadlines of the HTTP server.
 *
 * libmicrohttpd's own limits cannot hold off hostile clients: its timeout
 * restarts at every byte received, so a client trickling a header byte
 * every few seconds holds its connection forever; and once its connection
 * limit is reached it stops accepting, so a few dozen such clients lock
 * every scraper out. The guard keeps its own table in accept order (a few
 * hundred entries, scanned linearly), gives each connection an absolute
 * deadline for its phase, and when a cap is reached makes room by closing
 * the connection that is worth least: the oldest still waiting for its
 * request's headers (a well-behaved client sends them within a
 * millisecond of connecting), else a response sending for seconds.
 */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "outputs/http_guard.h"

const char *const kp_http_reject_names[KP_HTTP_REJ_N] = {
	[KP_HTTP_REJ_CONNECTIONS] = "connection_limit",
	[KP_HTTP_REJ_ADDRESS] = "address_limit",
	[KP_HTTP_REJ_EVICTED] = "evicted",
	[KP_HTTP_REJ_HEADER_TIMEOUT] = "header_timeout",
	[KP_HTTP_REJ_RESPONSE_TIMEOUT] = "response_timeout",
	[KP_HTTP_REJ_IDLE_TIMEOUT] = "idle_timeout",
	[KP_HTTP_REJ_MEMORY] = "memory",
	[KP_HTTP_REJ_UNAUTHORIZED] = "unauthorized",
	[KP_HTTP_REJ_AUTH_BUSY] = "auth_busy",
	[KP_HTTP_REJ_CROSS_ORIGIN] = "cross_origin",
};

const struct kp_guard_limits kp_guard_default_limits = {
	.max_connections = 256,
	.max_per_address = 64,
	.header_ms = 5000,
	.response_ms = 30000,
	.keepalive_ms = 15000,
	.evict_sending_ms = 2000,
};

enum phase { WAITING, SENDING };

/* A client address as the caps see it: IPv4 (also when mapped into
 * IPv6), or the /64 of an IPv6 address, the block one host gets. */
struct addr_key {
	uint8_t len;
	uint8_t b[8];
};

struct kp_guard_conn {
	struct kp_guard_conn *prev, *next;	/* accept order, oldest first */
	struct addr_key key;
	int fd;
	enum phase phase;
	bool shut;
	uint64_t since_ms;			/* the phase's start */
	uint64_t deadline_ms;
};

struct kp_guard {
	struct kp_guard_limits lim;
	kp_guard_shut_fn shut;
	void *cls;
	struct kp_guard_conn *head, *tail;
	unsigned int open;			/* entries not shut */
	uint64_t next_ms;
	uint64_t rejected[KP_HTTP_REJ_N];
};

struct kp_guard *kp_guard__new(const struct kp_guard_limits *lim,
			       kp_guard_shut_fn shut, void *cls)
{
	struct kp_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->lim = *lim;
	g->shut = shut;
	g->cls = cls;
	g->next_ms = UINT64_MAX;
	return g;
}

void kp_guard__free(struct kp_guard *g)
{
	struct kp_guard_conn *c, *next;

	if (!g)
		return;
	for (c = g->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(g);
}

static void addr_key(const struct sockaddr *sa, socklen_t len, struct addr_key *k)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(k, 0, sizeof(*k));
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		k->len = 4;
		memcpy(k->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (!memcmp(a, mapped, sizeof(mapped))) {
			k->len = 4;
			memcpy(k->b, a + 12, 4);
		} else {
			k->len = 8;
			memcpy(k->b, a, 8);
		}
	}
}

static bool same_key(const struct addr_key *a, const struct addr_key *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

static void set_deadline(struct kp_guard *g, struct kp_guard_conn *c,
			 enum phase phase, uint64_t now, uint64_t after)
{
	c->phase = phase;
	c->since_ms = now;
	c->deadline_ms = now + after;
	if (c->deadline_ms < g->next_ms)
		g->next_ms = c->deadline_ms;
}

static void shut_conn(struct kp_guard *g, struct kp_guard_conn *c, enum kp_http_reject why)
{
	c->shut = true;
	g->open--;
	g->rejected[why]++;
	g->shut(g->cls, c->fd);
}

/* The connection to close to make room for @new within @scope (NULL: any
 * address), or NULL when none may go. */
static struct kp_guard_conn *victim(struct kp_guard *g, const struct kp_guard_conn *new,
				    const struct addr_key *scope, uint64_t now)
{
	struct kp_guard_conn *c;

	for (c = g->head; c; c = c->next)
		if (c != new && !c->shut && c->phase == WAITING &&
		    (!scope || same_key(&c->key, scope)))
			return c;
	for (c = g->head; c; c = c->next)
		if (c != new && !c->shut && c->phase == SENDING &&
		    now - c->since_ms >= g->lim.evict_sending_ms &&
		    (!scope || same_key(&c->key, scope)))
			return c;
	return NULL;
}

/* @new is over a cap: close a victim, or @new itself. */
static void make_room(struct kp_guard *g, struct kp_guard_conn *new,
		      const struct addr_key *scope, enum kp_http_reject refused, uint64_t now)
{
	struct kp_guard_conn *v = victim(g, new, scope, now);

	if (v)
		shut_conn(g, v, KP_HTTP_REJ_EVICTED);
	else
		shut_conn(g, new, refused);
}

struct kp_guard_conn *kp_guard__open(struct kp_guard *g, int fd,
				     const struct sockaddr *sa, socklen_t len,
				     uint64_t now_ms)
{
	struct kp_guard_conn *c = calloc(1, sizeof(*c)), *o;
	unsigned int same = 0;

	if (!c)
		return NULL;
	c->fd = fd;
	addr_key(sa, len, &c->key);
	c->prev = g->tail;
	if (g->tail)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
	g->open++;
	set_deadline(g, c, WAITING, now_ms, g->lim.header_ms);
	for (o = g->head; o; o = o->next)
		same += !o->shut && same_key(&o->key, &c->key);
	if (same > g->lim.max_per_address)
		make_room(g, c, &c->key, KP_HTTP_REJ_ADDRESS, now_ms);
	if (!c->shut && g->open > g->lim.max_connections)
		make_room(g, c, NULL, KP_HTTP_REJ_CONNECTIONS, now_ms);
	return c;
}

void kp_guard__request(struct kp_guard *g, struct kp_guard_conn *c, uint64_t now_ms)
{
	if (c && !c->shut)
		set_deadline(g, c, SENDING, now_ms, g->lim.response_ms);
}

void kp_guard__done(struct kp_guard *g, struct kp_guard_conn *c, uint64_t now_ms)
{
	if (c && !c->shut)
		set_deadline(g, c, WAITING, now_ms, g->lim.keepalive_ms);
}

void kp_guard__close(struct kp_guard *g, struct kp_guard_conn *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		g->tail = c->prev;
	if (!c->shut)
		g->open--;
	free(c);
}

void kp_guard__sweep(struct kp_guard *g, uint64_t now_ms)
{
	struct kp_guard_conn *c;

	if (now_ms < g->next_ms)
		return;
	g->next_ms = UINT64_MAX;
	for (c = g->head; c; c = c->next) {
		if (c->shut)
			continue;
		if (now_ms >= c->deadline_ms)
			shut_conn(g, c, c->phase == WAITING ? KP_HTTP_REJ_HEADER_TIMEOUT
							    : KP_HTTP_REJ_RESPONSE_TIMEOUT);
		else if (c->deadline_ms < g->next_ms)
			g->next_ms = c->deadline_ms;
	}
}

uint64_t kp_guard__next_ms(const struct kp_guard *g)
{
	return g->next_ms;
}

void kp_guard__count(struct kp_guard *g, enum kp_http_reject why)
{
	g->rejected[why]++;
}

unsigned int kp_guard__connections(const struct kp_guard *g)
{
	return g->open;
}

const uint64_t *kp_guard__rejected(const struct kp_guard *g)
{
	return g->rejected;
}
