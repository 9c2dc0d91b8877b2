/* heatmap.c - ring of coarse latency columns (see heatmap.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/heatmap.h"
#include "model/hist.h"

/* A column's counts are kept sparse: the rows that had events (mask) and
 * their counts, in row order, in one ring of counts shared by all columns
 * (cnt, at off): columns leave from the front and grow at the back, as the
 * counts do. A container that runs now and then fills one or two rows per
 * column: 24 + 8 bytes instead of 112, which at 1,000 such containers and
 * 15 minutes of 5 s columns is ~6 MB instead of 20. */
struct column {
	uint64_t start_ns, end_ns;
	uint32_t mask;	/* bit r: row r has a count */
	uint32_t off;	/* its first count in cnt */
};

/* Columns are kept only when they hold events, in a ring that grows to
 * at most ncols (a span's worth), so an idle cgroup costs little. */
struct kp_heatmap {
	uint64_t span_ns, col_ns;
	uint32_t ncols, cap, head, used;	/* head: oldest column */
	int have_base;
	uint64_t last[KP_HEATMAP_ROWS];	/* cumulative, folded */
	struct column *cols;
	uint32_t *cnt;			/* the counts' ring */
	uint32_t ccap, chead, cused;	/* chead: the oldest column's first */
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
	if (h) {
		free(h->cols);
		free(h->cnt);
	}
	free(h);
}

static struct column *col_at(const struct kp_heatmap *h, uint32_t i)
{
	return &h->cols[(h->head + i) % h->cap];
}

/* The oldest column leaves, and its counts. */
static void drop_oldest(struct kp_heatmap *h)
{
	uint32_t k = (uint32_t)__builtin_popcount(col_at(h, 0)->mask);

	h->chead = (h->chead + k) % (h->ccap ? h->ccap : 1);
	h->cused -= k;
	h->head = (h->head + 1) % h->cap;
	h->used--;
}

/* A new newest column at @now: columns past the span leave first; a full
 * ring grows (doubling, up to ncols) or, at ncols, drops its oldest. NULL
 * when out of memory: the events are not shown, nothing else is lost. */
static struct column *open_column(struct kp_heatmap *h, uint64_t now)
{
	struct column *c;

	while (h->used && col_at(h, 0)->end_ns + h->span_ns < now)
		drop_oldest(h);
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
	if (h->used == h->cap)
		drop_oldest(h);
	c = col_at(h, h->used++);
	memset(c, 0, sizeof(*c));
	c->start_ns = now;
	c->off = h->ccap ? (h->chead + h->cused) % h->ccap : 0;
	return c;
}

/* Room for one more count: the ring doubles, laid out from 0 again. */
static int counts_room(struct kp_heatmap *h)
{
	uint32_t cap, off = 0;
	uint32_t *n;

	if (h->cused < h->ccap)
		return 0;
	cap = h->ccap ? h->ccap * 2 : 16;
	n = malloc(cap * sizeof(*n));
	if (!n)
		return -1;
	for (uint32_t i = 0; i < h->cused; i++)
		n[i] = h->cnt[(h->chead + i) % h->ccap];
	for (uint32_t i = 0; i < h->used; i++) {
		struct column *c = col_at(h, i);

		c->off = off;
		off += (uint32_t)__builtin_popcount(c->mask);
	}
	free(h->cnt);
	h->cnt = n;
	h->ccap = cap;
	h->chead = 0;
	return 0;
}

/* Add @d events to row @r of the newest column @c (whose counts end the
 * ring); false when out of memory. */
static bool column_add(struct kp_heatmap *h, struct column *c, int r, uint32_t d)
{
	uint32_t j = (uint32_t)__builtin_popcount(c->mask & ((1u << r) - 1));
	uint32_t k = (uint32_t)__builtin_popcount(c->mask);

	if (!(c->mask & (1u << r))) {
		if (counts_room(h))
			return false;
		/* make room at j: the column's later counts move up by one */
		for (uint32_t i = k; i > j; i--)
			h->cnt[(c->off + i) % h->ccap] = h->cnt[(c->off + i - 1) % h->ccap];
		h->cnt[(c->off + j) % h->ccap] = 0;
		c->mask |= 1u << r;
		h->cused++;
	}
	h->cnt[(c->off + j) % h->ccap] += d;
	return true;
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
			if (fold[r] != h->last[r] &&
			    !column_add(h, c, r, (uint32_t)(fold[r] - h->last[r])))
				break;	/* out of memory: this column is short */
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
	static __thread uint32_t rows[KP_HEATMAP_ROWS];
	const struct column *c;
	uint32_t j = 0;

	if (!h || i >= h->used)
		return NULL;
	c = col_at(h, i);
	*start_ns = c->start_ns;
	*end_ns = c->end_ns;
	for (int r = 0; r < KP_HEATMAP_ROWS; r++)
		rows[r] = c->mask & (1u << r) ? h->cnt[(c->off + j++) % h->ccap] : 0;
	return rows;
}

uint64_t kp_heatmap__col_ns(const struct kp_heatmap *h)
{
	return h ? h->col_ns : 0;
}

uint64_t kp_heatmap__bytes(const struct kp_heatmap *h)
{
	return h ? sizeof(*h) + h->cap * sizeof(struct column) + h->ccap * sizeof(*h->cnt) : 0;
}
