/* ports.c - bounded port labels for request latency (contract in ports.h).
 *
 * Each port keeps its cumulative figures and a request rate decayed with a
 * one-minute time constant. "other" is never stored: it is the sum of the
 * unnamed ports plus, for named ones, the part they had when promoted
 * (their base), which is what keeps it monotonic across promotions and
 * demotions.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/ports.h"

#define RATE_TAU_NS 60e9	/* decay time constant of the request rate */
#define SWAP_FACTOR 2.0		/* a challenger must be this much busier */

struct port_ent {
	uint16_t port;
	bool named;
	bool in_other;		/* "other" has counted it at some point */
	double score;		/* decayed request count */
	uint64_t last_count;	/* count at the previous settle */
	struct kp_lat *base;	/* named: what stays in "other" */
	struct kp_lat cum;
};

struct kp_portset {
	unsigned int max_named;
	unsigned int n, cap;
	struct port_ent *ents;	/* ascending by port */
	uint64_t last_ns;
	bool settled;
};

struct kp_portset *kp_portset__new(unsigned int max_named)
{
	struct kp_portset *ps = calloc(1, sizeof(*ps));

	if (ps)
		ps->max_named = max_named;
	return ps;
}

void kp_portset__free(struct kp_portset *ps)
{
	if (!ps)
		return;
	for (unsigned int i = 0; i < ps->n; i++)
		free(ps->ents[i].base);
	free(ps->ents);
	free(ps);
}

/* Index of @port, or where it would go (with *found false). */
static unsigned int find(const struct kp_portset *ps, uint16_t port, bool *found)
{
	unsigned int lo = 0, hi = ps->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (ps->ents[mid].port < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < ps->n && ps->ents[lo].port == port;
	return lo;
}

void kp_lat_add(struct kp_lat *a, const struct kp_lat *b)
{
	a->count += b->count;
	a->sum_ns += b->sum_ns;
	a->rx_bytes += b->rx_bytes;
	a->tx_bytes += b->tx_bytes;
	for (int i = 0; i < KP_HIST_BUCKETS; i++)
		a->hist[i] += b->hist[i];
}

/* a -= b, for b taken from an earlier state of a: no underflow */
static void lat_sub(struct kp_lat *a, const struct kp_lat *b)
{
	a->count -= b->count;
	a->sum_ns -= b->sum_ns;
	a->rx_bytes -= b->rx_bytes;
	a->tx_bytes -= b->tx_bytes;
	for (int i = 0; i < KP_HIST_BUCKETS; i++)
		a->hist[i] -= b->hist[i];
}

int kp_portset__update(struct kp_portset *ps, uint16_t port,
		       const struct kp_lat *cum, struct kp_lat *delta)
{
	struct port_ent *e;
	bool found;
	unsigned int i = find(ps, port, &found);

	if (delta)
		memset(delta, 0, sizeof(*delta));
	if (!found) {
		if (ps->n == ps->cap) {
			unsigned int cap = ps->cap ? 2 * ps->cap : 4;
			struct port_ent *p = realloc(ps->ents, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			ps->ents = p;
			ps->cap = cap;
		}
		memmove(&ps->ents[i + 1], &ps->ents[i], (ps->n - i) * sizeof(*e));
		ps->n++;
		e = &ps->ents[i];
		memset(e, 0, sizeof(*e));
		e->port = port;
	}
	e = &ps->ents[i];
	if (cum->count < e->cum.count || cum->sum_ns < e->cum.sum_ns ||
	    cum->rx_bytes < e->cum.rx_bytes || cum->tx_bytes < e->cum.tx_bytes)
		return 0;
	if (delta) {
		*delta = *cum;
		lat_sub(delta, &e->cum);
	}
	e->cum = *cum;
	return 0;
}

static void promote(struct port_ent *e)
{
	/* what "other" already showed stays there; a port "other" never
	 * counted starts its own series with everything it has */
	if (e->in_other) {
		e->base = malloc(sizeof(*e->base));
		if (!e->base)
			return;
		*e->base = e->cum;
	}
	e->named = true;
}

static void demote(struct port_ent *e)
{
	free(e->base);
	e->base = NULL;
	e->named = false;
}

/* Busiest unnamed port with requests, or NULL. Ties: lower port. */
static struct port_ent *strongest_unnamed(struct kp_portset *ps)
{
	struct port_ent *best = NULL;

	for (unsigned int i = 0; i < ps->n; i++) {
		struct port_ent *e = &ps->ents[i];

		if (e->named || e->port == 0 || e->score <= 0)
			continue;
		if (!best || e->score > best->score)
			best = e;
	}
	return best;
}

/* Least busy named port, or NULL. Ties: higher port. */
static struct port_ent *weakest_named(struct kp_portset *ps)
{
	struct port_ent *worst = NULL;

	for (unsigned int i = 0; i < ps->n; i++) {
		struct port_ent *e = &ps->ents[i];

		if (e->named && (!worst || e->score <= worst->score))
			worst = e;
	}
	return worst;
}

void kp_portset__settle(struct kp_portset *ps, uint64_t now_ns)
{
	double decay = 1.0;
	unsigned int named = 0;
	struct port_ent *in, *out;

	if (ps->settled && now_ns > ps->last_ns)
		decay = exp(-(double)(now_ns - ps->last_ns) / RATE_TAU_NS);
	ps->last_ns = now_ns;
	ps->settled = true;
	for (unsigned int i = 0; i < ps->n; i++) {
		struct port_ent *e = &ps->ents[i];

		e->score = e->score * decay + (double)(e->cum.count - e->last_count);
		e->last_count = e->cum.count;
		named += e->named;
	}
	/* free slots go to the busiest */
	while (named < ps->max_named && (in = strongest_unnamed(ps))) {
		promote(in);
		if (!in->named)
			break;	/* out of memory: try again next round */
		named++;
	}
	/* a full set changes only for a clearly busier port */
	while ((in = strongest_unnamed(ps)) && (out = weakest_named(ps)) &&
	       in->score > SWAP_FACTOR * out->score) {
		promote(in);
		if (!in->named)
			break;
		demote(out);
	}
	for (unsigned int i = 0; i < ps->n; i++)
		if (!ps->ents[i].named)
			ps->ents[i].in_other = true;
}

unsigned int kp_portset__named_count(const struct kp_portset *ps)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < ps->n; i++)
		n += ps->ents[i].named;
	return n;
}

uint16_t kp_portset__named(const struct kp_portset *ps, unsigned int idx,
			   struct kp_lat *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < ps->n; i++) {
		const struct port_ent *e = &ps->ents[i];

		if (!e->named || idx--)
			continue;
		*out = e->cum;
		if (e->base)
			lat_sub(out, e->base);
		return e->port;
	}
	return 0;
}

bool kp_portset__other(const struct kp_portset *ps, struct kp_lat *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < ps->n; i++) {
		const struct port_ent *e = &ps->ents[i];

		if (!e->named)
			kp_lat_add(out, &e->cum);
		else if (e->base)
			kp_lat_add(out, e->base);
	}
	return out->count > 0;
}

unsigned int kp_portset__ports(const struct kp_portset *ps)
{
	return ps->n;
}

uint16_t kp_portset__port(const struct kp_portset *ps, unsigned int i)
{
	return i < ps->n ? ps->ents[i].port : 0;
}
