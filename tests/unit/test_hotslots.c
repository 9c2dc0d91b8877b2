/* test_hotslots.c - reading back the kernel's hot slots, on real BPF maps
 * (an array of owners, a per-CPU array of values) this test fills the way
 * the programs do: sums over CPUs, one entry per key even when a key holds
 * two slots, dead and half-claimed slots skipped, keys handed out once, and
 * a gone cgroup's slots zeroed and freed one read after it is forgotten;
 * each both with the batch lookup and slot by slot (kernels before 5.6).
 * Needs root (map creation); skipped otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/hotslots.h"

#define SLOTS 8

struct maps {
	int owner, vals, ncpus;
	size_t vsz;
	char *buf;
};

static int setup(void **state)
{
	struct maps *m = calloc(1, sizeof(*m));

	if (geteuid() != 0)
		skip();
	m->ncpus = libbpf_num_possible_cpus();
	m->vsz = (sizeof(struct kp_req_stats) + 7) & ~7ul;
	m->owner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_hot_owner", 4,
				  sizeof(struct kp_hot_owner), SLOTS, NULL);
	m->vals = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_hot_vals", 4,
				 sizeof(struct kp_req_stats), SLOTS, NULL);
	m->buf = calloc(m->ncpus, m->vsz);
	assert_true(m->owner >= 0 && m->vals >= 0 && m->buf);
	*state = m;
	return 0;
}

static int setup_slot_by_slot(void **state)
{
	setenv("KPULSE_TEST_NO_BATCH", "1", 1);
	return setup(state);
}

static int teardown(void **state)
{
	struct maps *m = *state;

	unsetenv("KPULSE_TEST_NO_BATCH");
	if (m) {
		close(m->owner);
		close(m->vals);
		free(m->buf);
		free(m);
	}
	return 0;
}

static void own(struct maps *m, __u32 slot, __u64 cgid, __u32 tag)
{
	struct kp_hot_owner o = { .cgid = cgid, .tag = tag };

	assert_int_equal(bpf_map_update_elem(m->owner, &slot, &o, BPF_ANY), 0);
}

/* slot's value on every CPU: sum_ns = base + cpu, one count in bucket 3 */
static void fill(struct maps *m, __u32 slot, __u64 base)
{
	memset(m->buf, 0, m->ncpus * m->vsz);
	for (int cpu = 0; cpu < m->ncpus; cpu++) {
		struct kp_req_stats *v = (void *)(m->buf + cpu * m->vsz);

		v->sum_ns = base + cpu;
		v->rx_bytes = 10;
		v->tx_bytes = 100;
		v->hist[3] = 1;
	}
	assert_int_equal(bpf_map_update_elem(m->vals, &slot, m->buf, BPF_ANY), 0);
}

static __u64 cpu_sum(int ncpus, __u64 base)
{
	return (__u64)ncpus * base + (__u64)ncpus * (ncpus - 1) / 2;
}

static void test_sums_by_key(void **state)
{
	struct maps *m = *state;
	struct kp_hot *h = kp_hot__new(m->owner, m->vals, m->ncpus);
	__u32 req = KP_HOT_TAG(KP_HOT_REQ, 1, 8080), rtt = KP_HOT_TAG(KP_HOT_RTT, 0, 0);
	const struct kp_req_stats *v;
	unsigned int it = 0;
	__u64 cgid;
	__u32 tag;

	assert_non_null(h);
	assert_int_equal(kp_hot__size(h), SLOTS);
	own(m, 0, 42, req);
	fill(m, 0, 1000);
	own(m, 5, 42, req);		/* the same key in a second slot */
	fill(m, 5, 2000);
	own(m, 2, 42, rtt);
	fill(m, 2, 7);
	own(m, 3, 43, 0);		/* claimed, tag not written yet */
	fill(m, 3, 9);
	own(m, 4, KP_HOT_DEAD, 0);	/* being freed */
	fill(m, 4, 9);
	assert_int_equal(kp_hot__read(h), 3);
	assert_int_equal(kp_hot__used(h), 3);

	v = kp_hot__take(h, 42, req);
	assert_non_null(v);
	assert_int_equal(v->sum_ns, cpu_sum(m->ncpus, 1000) + cpu_sum(m->ncpus, 2000));
	assert_int_equal(v->rx_bytes, 20ull * m->ncpus);
	assert_int_equal(v->tx_bytes, 200ull * m->ncpus);
	assert_int_equal(v->hist[3], 2ull * m->ncpus);
	assert_null(kp_hot__take(h, 42, KP_HOT_TAG(KP_HOT_REQ, 2, 8080)));
	assert_null(kp_hot__take(h, 43, 0));

	/* the taken key is not handed out again; the RTT one is, once */
	assert_null(kp_hot__next_untaken(h, &it, KP_HOT_REQ, &cgid, &tag));
	it = 0;
	v = kp_hot__next_untaken(h, &it, KP_HOT_RTT, &cgid, &tag);
	assert_non_null(v);
	assert_int_equal(cgid, 42);
	assert_int_equal(tag, rtt);
	assert_int_equal(v->sum_ns, cpu_sum(m->ncpus, 7));
	assert_null(kp_hot__next_untaken(h, &it, KP_HOT_RTT, &cgid, &tag));

	/* a new round hands everything out again */
	assert_int_equal(kp_hot__read(h), 3);
	it = 0;
	assert_non_null(kp_hot__next_untaken(h, &it, KP_HOT_REQ, &cgid, &tag));
	kp_hot__free(h);
}

static void test_forget_frees_after_a_read(void **state)
{
	struct maps *m = *state;
	struct kp_hot *h = kp_hot__new(m->owner, m->vals, m->ncpus);
	__u32 req = KP_HOT_TAG(KP_HOT_REQ, 2, 443);
	struct kp_hot_owner o;
	__u32 slot = 6;

	own(m, slot, 77, req);
	fill(m, slot, 500);
	own(m, 1, 78, req);
	fill(m, 1, 1);
	assert_int_equal(kp_hot__read(h), 2);
	kp_hot__forget(h, 77);
	/* marked: nobody matches or claims it, its values still there */
	assert_int_equal(bpf_map_lookup_elem(m->owner, &slot, &o), 0);
	assert_true(o.cgid == KP_HOT_DEAD && o.tag == 0);
	assert_int_equal(bpf_map_lookup_elem(m->vals, &slot, m->buf), 0);
	assert_int_equal(((struct kp_req_stats *)m->buf)->sum_ns, 500);
	/* the next read zeroes and frees it, and no longer sees the key */
	assert_int_equal(kp_hot__read(h), 1);
	assert_int_equal(bpf_map_lookup_elem(m->owner, &slot, &o), 0);
	assert_true(o.cgid == 0 && o.tag == 0);
	assert_int_equal(bpf_map_lookup_elem(m->vals, &slot, m->buf), 0);
	for (int cpu = 0; cpu < m->ncpus; cpu++) {
		struct kp_req_stats *v = (void *)(m->buf + cpu * m->vsz);

		assert_int_equal(v->sum_ns + v->rx_bytes + v->tx_bytes + v->hist[3], 0);
	}
	assert_null(kp_hot__take(h, 77, req));
	assert_non_null(kp_hot__take(h, 78, req));
	/* forgetting a cgroup twice, or one with no slot, changes nothing */
	kp_hot__forget(h, 77);
	kp_hot__forget(h, 12345);
	assert_int_equal(kp_hot__read(h), 1);
	kp_hot__free(h);
}

static void test_missing_maps(void **state)
{
	(void)state;
	assert_null(kp_hot__new(-1, -1, 2));
	assert_null(kp_hot__take(NULL, 1, 1));
	kp_hot__forget(NULL, 1);
	assert_int_equal(kp_hot__size(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sums_by_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_frees_after_a_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sums_by_key, setup_slot_by_slot, teardown),
		cmocka_unit_test_setup_teardown(test_forget_frees_after_a_read, setup_slot_by_slot,
						teardown),
		cmocka_unit_test(test_missing_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
