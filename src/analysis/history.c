/* history.c - series on a shared timeline, rings made only for series whose
 * value moves (see history.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/history.h"

/* A tick the series had no point at: a NaN no add() stores (added NaNs are
 * made the plain quiet NaN). Compared as bits. */
#define GAP_BITS 0x7fc0beefu

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static float gap(void)
{
	uint32_t u = GAP_BITS;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

void kp_timeline_init(struct kp_timeline *tl, uint32_t cap)
{
	memset(tl, 0, sizeof(*tl));
	tl->cap = cap ? cap : 1;
}

void kp_timeline_free(struct kp_timeline *tl)
{
	free(tl->t);
	tl->t = NULL;
}

int kp_timeline_tick(struct kp_timeline *tl, uint32_t t)
{
	if (!tl->t && !(tl->t = calloc(tl->cap, sizeof(*tl->t))))
		return -ENOMEM;
	tl->t[tl->seq % tl->cap] = t;
	tl->seq++;
	return 0;
}

uint32_t kp_timeline_last(const struct kp_timeline *tl)
{
	return tl->seq && tl->t ? tl->t[(tl->seq - 1) % tl->cap] : 0;
}

/* The oldest tick still on the timeline. */
static uint32_t oldest(const struct kp_timeline *tl)
{
	return tl->seq > tl->cap ? tl->seq - tl->cap : 0;
}

void kp_history_free(struct kp_history *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* Give a constant series its ring: c at each of its ticks still on the
 * timeline, gaps elsewhere. */
static int materialize(const struct kp_timeline *tl, struct kp_history *h)
{
	float g = gap();

	h->v = malloc(tl->cap * sizeof(*h->v));
	if (!h->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < tl->cap; i++)
		h->v[i] = g;
	for (uint32_t s = h->first > oldest(tl) ? h->first : oldest(tl); s <= h->last; s++)
		h->v[s % tl->cap] = h->c;
	return 0;
}

int kp_history_add(const struct kp_timeline *tl, struct kp_history *h, double v)
{
	float f = isnan(v) ? NAN : (float)v;
	uint32_t cur;

	if (!tl->seq || !tl->t)
		return -EINVAL;	/* no tick open */
	cur = tl->seq - 1;
	if (!h->any || (!h->v && h->first == cur)) {
		h->any = true;
		h->first = h->last = cur;
		h->c = f;
		return 0;
	}
	if (!h->v) {
		if (bits(f) == bits(h->c) && (cur == h->last || cur == h->last + 1)) {
			h->last = cur;
			return 0;
		}
		if (materialize(tl, h))
			return -ENOMEM;
	}
	/* the ticks since its last point are gaps (at most a ring's worth) */
	for (uint32_t s = h->last + 1, n = 0; s < cur && n < tl->cap; s++, n++)
		h->v[s % tl->cap] = gap();
	h->v[cur % tl->cap] = f;
	h->last = cur;
	return 0;
}

void kp_history_start_prev(const struct kp_timeline *tl, struct kp_history *h, double v)
{
	if (h->any || tl->seq < 2 || !tl->t || tl->cap < 2)
		return;
	h->any = true;
	h->first = h->last = tl->seq - 2;
	h->c = isnan(v) ? NAN : (float)v;
}

bool kp_history_range(const struct kp_timeline *tl, const struct kp_history *h,
		      uint32_t *lo, uint32_t *hi)
{
	uint32_t o = oldest(tl);

	if (!h->any || !tl->t || h->last < o)
		return false;
	*lo = h->first > o ? h->first : o;
	*hi = h->last;
	return true;
}

bool kp_history_at(const struct kp_timeline *tl, const struct kp_history *h, uint32_t seq,
		   uint32_t *t, float *v)
{
	float f = h->v ? h->v[seq % tl->cap] : h->c;

	if (bits(f) == GAP_BITS)
		return false;
	*t = tl->t[seq % tl->cap];
	*v = f;
	return true;
}

uint32_t kp_history_count(const struct kp_timeline *tl, const struct kp_history *h)
{
	uint32_t lo, hi, n = 0, t;
	float v;

	if (!kp_history_range(tl, h, &lo, &hi))
		return 0;
	for (uint32_t s = lo; s <= hi; s++)
		n += kp_history_at(tl, h, s, &t, &v);
	return n;
}

uint64_t kp_history_bytes(const struct kp_timeline *tl, const struct kp_history *h, int n)
{
	uint64_t b = tl->t ? (uint64_t)tl->cap * sizeof(*tl->t) : 0;

	for (int i = 0; i < n; i++)
		if (h[i].v)
			b += (uint64_t)tl->cap * sizeof(*h[i].v);
	return b;
}
