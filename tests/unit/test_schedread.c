/* test_schedread.c - the read rule of schedread.c against the flush of
 * sched.bpf.c, step by step: every interleaving of one flush (its stores,
 * in the order pend_flush makes them) with a reader's copy of the slots and
 * then of the cgroup's value (field by field, low to high addresses, as
 * the kernel copies them). Whenever kp_sched_sum says the figures agree,
 * they must be the true total, never a flushed figure counted twice or
 * left out; and a copy that raced must be caught at least sometimes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "collect/schedread.h"

#define CG 42
#define NCPU 2

/* the kernel side: CPU 1 flushes; CPU 0 holds a value and pending too */
struct world {
	struct kp_cpu_slot slot[NCPU];
	struct kp_cg_stats val[NCPU];
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	for (int c = 0; c < NCPU; c++) {
		w->slot[c].seq = 6;
		w->val[c].cpu_ns = 1000 * (c + 1);
		w->val[c].nvcsw = 10;
		w->val[c].flush_seq = 6;
		w->slot[c].pend[0].cgid = CG;
		w->slot[c].pend[0].cpu_ns = 300 + c;
		w->slot[c].pend[0].nvcsw = 3;
	}
}

static uint64_t truth_cpu(void)
{
	return 1000 + 300 + 2000 + 301;
}

/* pend_flush on CPU 1, one store per step */
#define FLUSH_STEPS 7
static void flush_step(struct world *w, int step)
{
	struct kp_cpu_slot *s = &w->slot[1];
	struct kp_cg_stats *v = &w->val[1];

	switch (step) {
	case 0: s->seq++; break;
	case 1: v->flush_seq = s->seq + 1; break;
	case 2: v->cpu_ns += s->pend[0].cpu_ns; break;
	case 3: v->nvcsw += s->pend[0].nvcsw; break;
	case 4: s->pend[0].cpu_ns = 0; s->pend[0].nvcsw = 0; break;
	case 5: s->seq++; break;
	case 6: s->pend[0].cgid = 7; break;	/* taken over by another cgroup */
	}
}

/* the reader: slot copies (seq, then pend), then value copies (figures,
 * then flush_seq), each CPU in turn */
#define READ_STEPS (4 * NCPU)
struct reader {
	struct kp_cpu_slot slot[NCPU];
	struct kp_cg_stats val[NCPU];
};

static void read_step(struct reader *r, const struct world *w, int step)
{
	int c = (step / 2) % NCPU;

	if (step < 2 * NCPU) {
		if (step % 2 == 0)
			r->slot[c].seq = w->slot[c].seq;
		else	/* pend[] (and cgid, ts) come after seq */
			memcpy(r->slot[c].pend, w->slot[c].pend, sizeof(w->slot[c].pend));
	} else {
		if (step % 2 == 0) {
			r->val[c] = w->val[c];	/* figures... */
			r->val[c].flush_seq = 0;
		} else {
			r->val[c].flush_seq = w->val[c].flush_seq;	/* ...then the stamp */
		}
	}
}

/* Every way to interleave the two step sequences: a bit mask of which
 * steps are the reader's. */
static void test_every_interleaving_exact_or_caught(void **state)
{
	unsigned int total = FLUSH_STEPS + READ_STEPS, exact = 0, caught = 0;

	(void)state;
	for (unsigned int mask = 0; mask < (1u << total); mask++) {
		struct world w;
		struct reader r;
		struct kp_sched_totals t;
		int f = 0, rd = 0, ret;

		if (__builtin_popcount(mask) != READ_STEPS)
			continue;
		world_init(&w);
		memset(&r, 0, sizeof(r));
		for (unsigned int i = 0; i < total; i++) {
			if (mask & (1u << i))
				read_step(&r, &w, rd++);
			else
				flush_step(&w, f++);
		}
		if (!kp_slots_settled(r.slot, NCPU))
			continue;	/* the collector copies the slots again */
		ret = kp_sched_sum(r.val, sizeof(r.val[0]), r.slot, NCPU, CG, 0, &t);
		if (ret == 0) {
			assert_int_equal(t.cpu_ns, truth_cpu());
			assert_int_equal(t.nvcsw, 10 + 3 + 10 + 3);
			exact++;
		} else {
			assert_int_equal(ret, -EAGAIN);
			caught++;
		}
	}
	assert_true(exact > 0);
	assert_true(caught > 0);
}

/* Without the check (slots NULL) only the value counts: never more than
 * the truth, whatever the interleaving. */
static void test_value_alone_never_over(void **state)
{
	unsigned int total = FLUSH_STEPS + READ_STEPS;

	(void)state;
	for (unsigned int mask = 0; mask < (1u << total); mask++) {
		struct world w;
		struct reader r;
		struct kp_sched_totals t;
		int f = 0, rd = 0;

		if (__builtin_popcount(mask) != READ_STEPS)
			continue;
		world_init(&w);
		memset(&r, 0, sizeof(r));
		for (unsigned int i = 0; i < total; i++) {
			if (mask & (1u << i))
				read_step(&r, &w, rd++);
			else
				flush_step(&w, f++);
		}
		assert_int_equal(kp_sched_sum(r.val, sizeof(r.val[0]), NULL, NCPU, CG, 0, &t), 0);
		assert_true(t.cpu_ns <= truth_cpu());
	}
}

/* The slice running on a CPU counts up to `now`; one that began after it
 * does not; a histogram entry pending is added to its bucket. */
static void test_running_and_pending_hist(void **state)
{
	struct kp_cpu_slot s[NCPU];
	struct kp_sched_totals t;

	(void)state;
	memset(s, 0, sizeof(s));
	s[0].cgid = CG;
	s[0].ts = 5000;
	s[1].cgid = CG;
	s[1].ts = 9000;		/* after now */
	s[1].pend[1].cgid = CG;
	s[1].pend[1].n = 2;
	s[1].pend[1].bucket[0] = 17;
	s[1].pend[1].count[0] = 4;
	s[1].pend[1].bucket[1] = KP_HIST_BUCKETS + 3;	/* out of range: ignored */
	s[1].pend[1].count[1] = 9;
	s[1].pend[1].runq_sum_ns = 77;
	assert_int_equal(kp_sched_sum(NULL, 0, s, NCPU, CG, 8000, &t), 0);
	assert_int_equal(t.cpu_ns, 3000);
	assert_int_equal(t.runq_sum_ns, 77);
	assert_int_equal(t.runq_hist[17], 4);
	assert_int_equal(kp_sched_sum(NULL, 0, s, NCPU, CG + 1, 8000, &t), 0);
	assert_int_equal(t.cpu_ns, 0);
}

static void test_settled(void **state)
{
	struct kp_cpu_slot s[NCPU];

	(void)state;
	memset(s, 0, sizeof(s));
	s[1].seq = 4;
	assert_true(kp_slots_settled(s, NCPU));
	s[1].seq = 5;
	assert_false(kp_slots_settled(s, NCPU));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_interleaving_exact_or_caught),
		cmocka_unit_test(test_value_alone_never_over),
		cmocka_unit_test(test_running_and_pending_hist),
		cmocka_unit_test(test_settled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
