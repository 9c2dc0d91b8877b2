/* throttle.c - throttled share over sliding windows (see throttle.h).
 *
 * A ring of samples, one per slot: a push within the newest sample's slot
 * only moves the current values. The share over a span is the change from
 * the newest sample at least @span old (or the oldest kept) to now.
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/throttle.h"

struct sample {
	uint64_t t_ns, periods, throttled;
};

struct kp_throttle {
	uint64_t slot_ns;
	unsigned int cap, n, head;	/* head: next write */
	struct sample cur;		/* the last push */
	struct sample *s;
};

struct kp_throttle *kp_throttle__new(uint64_t longest_ns, uint64_t slot_ns)
{
	struct kp_throttle *t = calloc(1, sizeof(*t));

	if (!t || !slot_ns)
		goto fail;
	t->slot_ns = slot_ns;
	t->cap = (unsigned int)(longest_ns / slot_ns) + 2;
	t->s = calloc(t->cap, sizeof(*t->s));
	if (!t->s)
		goto fail;
	return t;
fail:
	free(t);
	return NULL;
}

void kp_throttle__free(struct kp_throttle *t)
{
	if (!t)
		return;
	free(t->s);
	free(t);
}

static const struct sample *at(const struct kp_throttle *t, unsigned int age)
{
	return &t->s[(t->head + t->cap - 1 - age) % t->cap];	/* age 0: newest */
}

void kp_throttle__push(struct kp_throttle *t, uint64_t now, uint64_t periods,
		       uint64_t throttled)
{
	struct sample x = { now, periods, throttled };

	if (t->n && (periods < t->cur.periods || throttled < t->cur.throttled))
		t->n = 0;	/* counters went back: a new cgroup */
	t->cur = x;
	if (t->n && now - at(t, 0)->t_ns < t->slot_ns)
		return;
	t->s[t->head] = x;
	t->head = (t->head + 1) % t->cap;
	if (t->n < t->cap)
		t->n++;
}

double kp_throttle__pct(const struct kp_throttle *t, uint64_t span_ns, uint64_t now)
{
	const struct sample *ref = NULL;
	double periods;

	if (!t->n || (t->n == 1 && t->cur.t_ns == at(t, 0)->t_ns))
		return NAN;
	for (unsigned int age = 0; age < t->n; age++) {
		ref = at(t, age);
		if (now - ref->t_ns >= span_ns)
			break;
	}
	if (ref->t_ns == t->cur.t_ns)
		ref = at(t, t->n > 1 ? 1 : 0);	/* newest is the current read */
	periods = (double)(t->cur.periods - ref->periods);
	if (periods < 1)
		return 0;
	return 100 * (double)(t->cur.throttled - ref->throttled) / periods;
}
