/* http_body.c - response bodies and what they hold: a handler's own body
 * is counted until its response is sent; a shared body (one buffer sent
 * to many clients, the /metrics encodings) is counted while it exists,
 * knows how many responses are sending it, and tells its creator when none
 * is, at once or after lingering until a time the creator chose (so the
 * next client of the same collection can still have it). Everything here
 * runs on the daemon's loop thread. */
#include <stdlib.h>
#include "outputs/http_int.h"

static void body_done(void *cls)
{
	struct kp_body *b = cls;

	if (b->shared) {
		b->h->shared_bytes -= b->len;
		b->h->shared_alive--;
		if (b->release)
			b->release(b->cls);
	} else {
		b->h->own_bytes -= b->len;
		free(b->cls);
	}
	free(b);
}

struct MHD_Response *kp_http_own_response(struct kp_http *h, char *body, size_t len)
{
	struct kp_body *b = malloc(sizeof(*b));
	struct MHD_Response *resp;

	if (!b) {
		free(body);
		return NULL;
	}
	*b = (struct kp_body){ .h = h, .len = len, .cls = body };
	resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body, body_done, b);
	if (!resp) {
		free(body);
		free(b);
		return NULL;
	}
	h->own_bytes += len;
	return resp;
}

struct kp_http_shared *kp_http_shared_new(struct kp_http *h, void *body, size_t len,
					  const char *content_type,
					  const char *content_encoding,
					  void (*release)(void *cls), void *cls)
{
	struct kp_http_shared *s = calloc(1, sizeof(*s));
	struct kp_body *b = malloc(sizeof(*b));

	if (s && b) {
		*b = (struct kp_body){ .h = h, .len = len, .shared = true, .release = release,
				       .cls = cls };
		s->resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body,
										  body_done, b);
	}
	if (!s || !b || !s->resp) {
		free(s);
		free(b);
		release(cls);
		return NULL;
	}
	h->shared_bytes += len;
	h->shared_alive++;
	s->b = b;
	s->refs = 1;
	MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	if (content_encoding)
		MHD_add_response_header(s->resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
					content_encoding);
	MHD_add_response_header(s->resp, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return s;
}

struct kp_http_shared *kp_http_shared_get(struct kp_http_shared *s)
{
	s->refs++;
	return s;
}

static void unlinger(struct kp_http *h, struct kp_http_shared *s)
{
	struct kp_http_shared **pp;

	if (!s->lingering)
		return;
	for (pp = &h->lingering; *pp != s; pp = &(*pp)->lnext)
		;
	*pp = s->lnext;
	s->lingering = false;
}

void kp_http_shared_put(struct kp_http_shared *s)
{
	if (!s || --s->refs)
		return;
	unlinger(s->b->h, s);
	MHD_destroy_response(s->resp);	/* the body goes with MHD's last reference */
	free(s);
}

void kp_http_shared_on_idle(struct kp_http_shared *s,
			    void (*fn)(void *cls, struct kp_http_shared *s), void *cls,
			    uint64_t keep_until_ns)
{
	s->idle = fn;
	s->idle_cls = cls;
	s->keep_until_ns = keep_until_ns;
}

unsigned int kp_http_shared_users(const struct kp_http_shared *s)
{
	return s->users;
}

size_t kp_http_shared_len(const struct kp_http_shared *s)
{
	return s->b->len;
}

unsigned int kp_http_shared_alive(const struct kp_http *h)
{
	return h->shared_alive;
}

void kp_http_shared_used(struct kp_http *h, struct kp_http_shared *s)
{
	s->users++;
	unlinger(h, s);
}

/* A response sending @s is done, and puts its reference. When nobody is
 * sending @s and its creator still holds it: tell the creator, now or
 * once @s has lingered until keep_until_ns. */
void kp_http_shared_done(struct kp_http *h, struct kp_http_shared *s, uint64_t now)
{
	if (!--s->users && s->refs > 1 && s->idle) {
		if (now >= s->keep_until_ns) {
			s->idle(s->idle_cls, s);
		} else if (!s->lingering) {
			s->lingering = true;
			s->lnext = h->lingering;
			h->lingering = s;
		}
	}
	kp_http_shared_put(s);
}

void kp_http_linger_sweep(struct kp_http *h, uint64_t now)
{
	struct kp_http_shared *s = h->lingering, *next;

	for (; s; s = next) {
		next = s->lnext;
		if (now >= s->keep_until_ns) {
			unlinger(h, s);
			s->idle(s->idle_cls, s);
		}
	}
}

uint64_t kp_http_linger_next_ms(const struct kp_http *h)
{
	uint64_t next = UINT64_MAX;

	for (const struct kp_http_shared *s = h->lingering; s; s = s->lnext)
		if (s->keep_until_ns / 1000000ull + 1 < next)
			next = s->keep_until_ns / 1000000ull + 1;
	return next;
}
