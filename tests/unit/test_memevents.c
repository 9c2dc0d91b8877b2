/* test_memevents.c - OOM records from kernel events (pages to bytes, the
 * "no limit" page counter, dating), the bounded recent list, and the log
 * line with hostile comm and cgroup names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/memevents.h"
#include "collect/container.h"

/* The collector names a cgroup from its path; the same here. */
static void set_cgroup(struct kp_oom_record *r, const char *path)
{
	struct kp_identity id;

	if (path)
		kp_identity_from_path(path, &id);
	kp_oom_record_set_cgroup(r, path, path ? &id : NULL);
}

static struct kp_oom_event event(__u32 pid)
{
	struct kp_oom_event e = {
		.ts_ns = 5000000000ull, .cgid = 34225, .pid = pid, .tgid = pid,
		.uid = 1000, .oom_score_adj = (__u32)-17,
		.total_vm_pages = 9034, .anon_rss_pages = 8160, .file_rss_pages = 281,
		.shmem_rss_pages = 2, .pgtables_bytes = 102400,
		.memcg_usage_pages = 8192, .memcg_limit_pages = 8192,
	};

	memcpy(e.comm, "workload", 9);
	return e;
}

static void test_from_event(void **s)
{
	struct kp_oom_event e = event(21567);
	struct kp_oom_record r;

	(void)s;
	kp_oom_record_from_event(&r, &e, 4096, 7000000000ull, 1700000002000000000ull);
	assert_int_equal(r.pid, 21567);
	assert_int_equal(r.oom_score_adj, -17);
	assert_string_equal(r.comm, "workload");
	assert_int_equal(r.total_vm_bytes, 9034ull * 4096);
	assert_int_equal(r.anon_rss_bytes, 8160ull * 4096);
	assert_int_equal(r.file_rss_bytes, 281ull * 4096);
	assert_int_equal(r.shmem_rss_bytes, 2ull * 4096);
	assert_int_equal(r.pgtables_bytes, 102400);
	assert_true(r.has_memcg);
	assert_true(r.memcg_limited);
	assert_int_equal(r.memcg_limit_bytes, 32ull << 20);
	assert_int_equal(r.memcg_usage_bytes, 32ull << 20);
	/* the kill happened 2 s before "now" on both clocks */
	assert_int_equal(r.unix_ns, 1700000000000000000ull);
	assert_string_equal(r.cgroup, "");
}

static void test_unlimited_memcg(void **s)
{
	struct kp_oom_event e = event(1);
	struct kp_oom_record r;

	(void)s;
	e.memcg_limit_pages = 0x7fffffffffffffffull / 4096;	/* PAGE_COUNTER_MAX */
	kp_oom_record_from_event(&r, &e, 4096, 0, 0);
	assert_true(r.has_memcg);
	assert_false(r.memcg_limited);
	e.memcg_limit_pages = 0x7fffffffffffffffull / 65536;
	kp_oom_record_from_event(&r, &e, 65536, 0, 0);
	assert_false(r.memcg_limited);
	e.memcg_usage_pages = e.memcg_limit_pages = 0;	/* no memcg in the kernel */
	kp_oom_record_from_event(&r, &e, 4096, 0, 0);
	assert_false(r.has_memcg);
}

static void test_comm_not_terminated(void **s)
{
	struct kp_oom_event e = event(1);
	struct kp_oom_record r;

	(void)s;
	memset(e.comm, 'A', sizeof(e.comm));	/* the kernel gave 16 bytes, no NUL */
	kp_oom_record_from_event(&r, &e, 4096, 0, 0);
	assert_int_equal(strlen(r.comm), 15);
}

static char *logged(const struct kp_oom_record *r)
{
	char *buf = calloc(1, 4096);
	FILE *f = fmemopen(buf, 4095, "w");

	kp_oom_record_log(f, r);
	fclose(f);
	return buf;
}

static void test_log_line(void **s)
{
	struct kp_oom_event e = event(21567);
	struct kp_oom_record r;
	char *line;

	(void)s;
	kp_oom_record_from_event(&r, &e, 4096, 0, 0);
	set_cgroup(&r, "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope");
	line = logged(&r);
	assert_non_null(strstr(line, "kpulse: oom_kill pid=21567 tgid=21567 comm=\"workload\" "));
	assert_non_null(strstr(line, " container=\"0123456789ab\" "));
	assert_non_null(strstr(line, " cgroup_id=34225 uid=1000 oom_score_adj=-17 "));
	assert_non_null(strstr(line, " memcg_limit_bytes=33554432\n"));
	assert_non_null(strstr(line, " anon_rss_bytes=33423360 "));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
}

static void test_log_hostile_names(void **s)
{
	struct kp_oom_event e = event(7);
	struct kp_oom_record r;
	char *line;

	(void)s;
	memcpy(e.comm, "a\"b\\c\nd\x01", 9);
	e.memcg_limit_pages = 0x7fffffffffffffffull / 4096;
	kp_oom_record_from_event(&r, &e, 4096, 0, 0);
	/* a control byte and one that is not UTF-8: the record holds them
	 * visible (\xNN, as every output shows names), the log line escapes
	 * that backslash and the quote */
	set_cgroup(&r, "/evil\"\x01 name=x\xff");
	line = logged(&r);
	assert_non_null(strstr(line, "comm=\"a\\\"b\\\\c\\nd\\x01\""));
	assert_non_null(strstr(line, "cgroup=\"/evil\\\"\\\\x01 name=x\\\\xff\""));
	assert_non_null(strstr(line, " memcg_limit_bytes=max\n"));
	/* still one line */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
	/* unknown cgroup: empty names */
	set_cgroup(&r, NULL);
	line = logged(&r);
	assert_non_null(strstr(line, " container=\"\" cgroup=\"\" "));
	free(line);
}

static void test_list_bounded(void **s)
{
	struct kp_oom_list *l = calloc(1, sizeof(*l));
	struct kp_oom_record r = {};

	(void)s;
	assert_int_equal(kp_oom_list_count(l), 0);
	assert_null(kp_oom_list_get(l, 0));
	for (uint32_t i = 1; i <= 3; i++) {
		r.pid = i;
		assert_int_equal(kp_oom_list_push(l, &r)->seq, i);
	}
	assert_int_equal(kp_oom_list_count(l), 3);
	assert_int_equal(kp_oom_list_get(l, 0)->pid, 1);
	assert_int_equal(kp_oom_list_get(l, 2)->pid, 3);
	assert_null(kp_oom_list_get(l, 3));
	for (uint32_t i = 4; i <= 3 * KP_OOM_KEPT + 5; i++) {
		r.pid = i;
		kp_oom_list_push(l, &r);
	}
	assert_int_equal(kp_oom_list_count(l), KP_OOM_KEPT);
	assert_int_equal(l->total, 3 * KP_OOM_KEPT + 5);
	/* oldest kept first, newest last, in order */
	for (unsigned int i = 0; i < KP_OOM_KEPT; i++) {
		const struct kp_oom_record *x = kp_oom_list_get(l, i);

		assert_int_equal(x->pid, 2 * KP_OOM_KEPT + 6 + i);
		assert_int_equal(x->seq, x->pid);
	}
	assert_null(kp_oom_list_get(l, KP_OOM_KEPT));
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_event),
		cmocka_unit_test(test_unlimited_memcg),
		cmocka_unit_test(test_comm_not_terminated),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_log_hostile_names),
		cmocka_unit_test(test_list_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
