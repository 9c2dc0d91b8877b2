/* heatmap.c - ring of coarse latency columns (see heatmap.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/heatmap.h"
#include "model/hist.h"

struct column {
	uint64_t start_ns, end_ns;
	uint32_t n[KP_HEATMAP_ROWS];	/* a column is seconds long: fits */
};

/* Columns are kept only when they hold events, in a ring that grows to
 * at most ncols (a span's worth), so an idle cgroup costs little. */
struct kp_heatmap {
	uint64_t span_ns, col_ns;
	uint32_t ncols, cap, head, used;	/* head: oldest column */
	int have_base;
	uint64_t last[KP_HEATMAP_ROWS];	/* cumulative, folded */
	struct column *cols;
};

/* Row 0 holds [0, 1024 ns); row r >= 1 holds [2^(r+9), 2^(r+10)) ns; the
 * last row everything from 2^32 ns (4.3 s) up. */
unsigned int kp_heatmap_row(unsigned int b)
{
	uint64_t lo = kp_hist_lower(b);
	unsigned int msb = 0;

	if (lo < 1024)
		return 0;
	while (lo >> (msb + 1))
		msb++;
	return msb - 9 < KP_HEATMAP_ROWS ? msb - 9 : KP_HEATMAP_ROWS - 1;
}

uint64_t kp_heatmap_row_lower(unsigned int r)
{
	return r ? 1ull << (r + 9) : 0;
}

struct kp_heatmap *kp_heatmap__new(uint64_t span_ns, uint64_t col_ns)
{
	struct kp_heatmap *h;

	if (!span_ns || !col_ns)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->span_ns = span_ns;
	h->col_ns = col_ns;
	h->ncols = (uint32_t)(span_ns / col_ns) + 1;
	return h;
}

void kp_heatmap__free(struct kp_heatmap *h)
{
	if (h)
		free(h->cols);
	free(h);
}

static struct column *col_at(const struct kp_heatmap *h, uint32_t i)
{
	return &h->cols[(h->head + i) % h->cap];
}

/* A new newest column at @now: columns past the span leave first; a full
 * ring grows (doubling, up to ncols) or, at ncols, drops its oldest. NULL
 * when out of memory: the events are not shown, nothing else is lost. */
static struct column *open_column(struct kp_heatmap *h, uint64_t now)
{
	struct column *c;

	while (h->used && col_at(h, 0)->end_ns + h->span_ns < now) {
		h->head = (h->head + 1) % h->cap;
		h->used--;
	}
	if (h->used == h->cap && h->cap < h->ncols) {
		uint32_t cap = h->cap ? h->cap * 2 : 8;
		struct column *n;

		if (cap > h->ncols)
			cap = h->ncols;
		n = malloc(cap * sizeof(*n));
		if (!n)
			return NULL;
		for (uint32_t i = 0; i < h->used; i++)
			n[i] = *col_at(h, i);
		free(h->cols);
		h->cols = n;
		h->cap = cap;
		h->head = 0;
	}
	if (h->used == h->cap) {
		h->head = (h->head + 1) % h->cap;
		h->used--;
	}
	c = col_at(h, h->used++);
	memset(c, 0, sizeof(*c));
	c->start_ns = now;
	return c;
}

void kp_heatmap__push(struct kp_heatmap *h, const uint64_t *cum, uint64_t now)
{
	uint64_t fold[KP_HEATMAP_ROWS] = { 0 };
	struct column *c;
	bool any = false;

	for (unsigned int b = 0; b < KP_HIST_BUCKETS; b++)
		if (cum[b])
			fold[kp_heatmap_row(b)] += cum[b];
	if (h->have_base)
		for (int r = 0; r < KP_HEATMAP_ROWS; r++)
			if (fold[r] < h->last[r]) {	/* a reset: rebase */
				h->have_base = 0;
				break;
			}
	if (!h->have_base) {
		memcpy(h->last, fold, sizeof(fold));
		h->have_base = 1;
		return;
	}
	for (int r = 0; r < KP_HEATMAP_ROWS; r++)
		any |= fold[r] != h->last[r];
	if (!any)
		return;
	c = h->used ? col_at(h, h->used - 1) : NULL;
	if (!c || now >= c->start_ns + h->col_ns)
		c = open_column(h, now);
	if (c) {
		c->end_ns = now;
		for (int r = 0; r < KP_HEATMAP_ROWS; r++)
			c->n[r] += (uint32_t)(fold[r] - h->last[r]);
	}
	memcpy(h->last, fold, sizeof(fold));
}

unsigned int kp_heatmap__columns(const struct kp_heatmap *h)
{
	return h ? h->used : 0;
}

const uint32_t *kp_heatmap__column(const struct kp_heatmap *h, unsigned int i,
				   uint64_t *start_ns, uint64_t *end_ns)
{
	const struct column *c;

	if (!h || i >= h->used)
		return NULL;
	c = col_at(h, i);
	*start_ns = c->start_ns;
	*end_ns = c->end_ns;
	return c->n;
}

uint64_t kp_heatmap__col_ns(const struct kp_heatmap *h)
{
	return h ? h->col_ns : 0;
}

uint64_t kp_heatmap__bytes(const struct kp_heatmap *h)
{
	return h ? sizeof(*h) + h->cap * sizeof(struct column) : 0;
}
