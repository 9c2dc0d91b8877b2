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

struct kp_window {
	uint64_t span_ns, slot_ns;
	uint32_t nslots, head, used;	/* head: newest slot */
	int have_base;
	uint64_t last[KP_HIST_BUCKETS];
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

int kp_window__push(struct kp_window *w, const uint64_t *cum, uint64_t now)
{
	struct slot *s;

	if (w->have_base) {
		for (int b = 0; b < KP_HIST_BUCKETS; b++)
			if (cum[b] < w->last[b]) {	/* reset: rebase */
				w->have_base = 0;
				break;
			}
	}
	if (!w->have_base) {
		memcpy(w->last, cum, sizeof(w->last));
		w->have_base = 1;
		return 0;
	}
	s = w->used ? &w->slots[w->head] : NULL;
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
	for (int b = 0; b < KP_HIST_BUCKETS; b++) {
		uint64_t d = cum[b] - w->last[b];

		if (d && slot_add(s, (uint32_t)b, d))
			return -ENOMEM;
	}
	memcpy(w->last, cum, sizeof(w->last));
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
	uint64_t b = sizeof(*w) + w->nslots * sizeof(struct slot);

	for (uint32_t i = 0; i < w->nslots; i++)
		b += w->slots[i].cap * sizeof(struct entry);
	return b;
}
