/* window.c - sparse ring of histogram deltas (see window.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "analysis/window.h"
#include "kpulse_abi.h"

struct entry {
	uint32_t bucket;
	uint32_t count;	/* per slot; a slot is seconds long, so this fits */
};

struct slot {
	uint64_t start_ns;
	uint64_t end_ns;
	uint32_t n, cap;
	struct entry *e;
};

/* A bucket of the previous cumulative snapshot that was not zero. */
struct base {
	uint32_t bucket;
	uint64_t count;
};

/* The previous snapshot is kept sparse, in bucket order: a histogram has
 * 528 buckets (4 KiB dense) and a container's few dozen events fill a
 * handful, so a window per container costs a few hundred bytes, not 4 KiB. */
struct kp_window {
	uint64_t span_ns, slot_ns;
	uint32_t nslots, head, used;	/* head: newest slot */
	int have_base;
	uint32_t nlast, last_cap, next_cap;
	struct base *last;
	struct base *next;	/* the next base, written while last is read */
	struct slot slots[];
};

struct kp_window *kp_window__new(uint64_t span_ns, uint64_t slot_ns)
{
	uint32_t n;
	struct kp_window *w;

	if (!span_ns || !slot_ns)
		return NULL;
	n = (uint32_t)(span_ns / slot_ns) + 2;
	w = calloc(1, sizeof(*w) + n * sizeof(struct slot));
	if (!w)
		return NULL;
	w->span_ns = span_ns;
	w->slot_ns = slot_ns;
	w->nslots = n;
	return w;
}

void kp_window__free(struct kp_window *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->nslots; i++)
		free(w->slots[i].e);
	free(w->last);
	free(w->next);
	free(w);
}

static int slot_add(struct slot *s, uint32_t b, uint64_t c)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->e[i].bucket == b) {
			s->e[i].count += (uint32_t)c;
			return 0;
		}
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 8;
		struct entry *e = realloc(s->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = (struct entry){ b, (uint32_t)c };
	return 0;
}

/* Keep @cum as the base for the next push; -ENOMEM leaves the window
 * without a base (the next push starts over). */
static int set_base(struct kp_window *w, const uint64_t *cum)
{
	uint32_t n = 0;

	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		n += cum[b] != 0;
	if (n > w->last_cap) {
		struct base *l = realloc(w->last, n * sizeof(*l));

		if (!l) {
			w->have_base = 0;
			return -ENOMEM;
		}
		w->last = l;
		w->last_cap = n;
	}
	w->nlast = 0;
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		if (cum[b])
			w->last[w->nlast++] = (struct base){ (uint32_t)b, cum[b] };
	w->have_base = 1;
	return 0;
}

/* The slot @now falls in, opened when the newest one is over. */
static struct slot *slot_at(struct kp_window *w, uint64_t now)
{
	struct slot *s = w->used ? &w->slots[w->head] : NULL;

	if (!s || now >= s->start_ns + w->slot_ns) {
		w->head = w->used ? (w->head + 1) % w->nslots : 0;
		if (w->used < w->nslots)
			w->used++;
		s = &w->slots[w->head];
		s->start_ns = now;
		s->n = 0;
		if (s->cap > 64) {	/* do not keep a burst's memory forever */
			free(s->e);
			s->e = NULL;
			s->cap = 0;
		}
	}
	s->end_ns = now;
	return s;
}

/* Room for @n entries in the next base. */
static int next_room(struct kp_window *w, uint32_t n)
{
	uint32_t cap = w->next_cap ? w->next_cap : 8;
	struct base *b;

	if (n <= w->next_cap)
		return 0;
	while (cap < n)
		cap *= 2;
	b = realloc(w->next, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	w->next = b;
	w->next_cap = cap;
	return 0;
}

int kp_window__push(struct kp_window *w, const uint64_t *cum, uint64_t now)
{
	struct slot *s;
	struct base *t;
	uint32_t j = 0, nn = 0, tc;

	if (w->have_base) {
		for (uint32_t i = 0; i < w->nlast; i++)
			if (cum[w->last[i].bucket] < w->last[i].count) {	/* reset: rebase */
				w->have_base = 0;
				break;
			}
	}
	if (!w->have_base)
		return set_base(w, cum);
	s = slot_at(w, now);
	/* one pass: the deltas into the slot, the new base into next */
	for (int b = 0; b < KP_HIST_BUCKETS; b++) {
		uint64_t prev = 0, d;

		if (!cum[b])
			continue;	/* zero now: zero before too (no reset) */
		if (j < w->nlast && w->last[j].bucket == (uint32_t)b)
			prev = w->last[j++].count;
		if (next_room(w, nn + 1))
			return -ENOMEM;
		w->next[nn++] = (struct base){ (uint32_t)b, cum[b] };
		d = cum[b] - prev;
		if (d && slot_add(s, (uint32_t)b, d))
			return -ENOMEM;
	}
	t = w->last;
	tc = w->last_cap;
	w->last = w->next;
	w->last_cap = w->next_cap;
	w->nlast = nn;
	w->next = t;
	w->next_cap = tc;
	return 0;
}

uint64_t kp_window__sum(const struct kp_window *w, uint64_t span_ns,
			uint64_t now, uint64_t *out)
{
	uint64_t total = 0, from = now > span_ns ? now - span_ns : 0;

	for (uint32_t k = 0; k < w->used; k++) {
		const struct slot *s = &w->slots[(w->head + w->nslots - k) % w->nslots];

		if (s->end_ns <= from)
			break;	/* older slots are older still */
		for (uint32_t i = 0; i < s->n; i++) {
			out[s->e[i].bucket] += s->e[i].count;
			total += s->e[i].count;
		}
	}
	return total;
}

uint64_t kp_window__bytes(const struct kp_window *w)
{
	uint64_t b = sizeof(*w) + w->nslots * sizeof(struct slot) +
		     (w->last_cap + w->next_cap) * sizeof(struct base);

	for (uint32_t i = 0; i < w->nslots; i++)
		b += w->slots[i].cap * sizeof(struct entry);
	return b;
}
