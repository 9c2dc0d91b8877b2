/* test_health_doc.c - /health from a model built in the test: ok,
 * degraded (a program not running, a feature missing, data lost in the
 * last minute, a bound the daemon hit; each with its reason), failing (no
 * collection yet, the last one too old, nothing attached) and the HTTP
 * status of each; features_missing; notes; the runtimes' name lookups and
 * where CPU limits come from; the other fields. The self
 * state is filled as the collector fills it: degraded and attached follow
 * from the programs, sock_len from the two socket-length programs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "base/version.h"
#include "model/model.h"
#include "outputs/health_doc.h"
#include "model_build.h"

#define NOW (10000 * S)

static struct kp_model *m;
static struct kp_health_doc_opts opts;

static void prog(const char *tp, const char *attach, bool attached, const char *reason)
{
	struct kp_self *s = &m->self;
	struct kp_prog_state *p = &s->progs[s->n_progs++];

	snprintf(p->tracepoint, sizeof(p->tracepoint), "%s", tp);
	snprintf(p->attach, sizeof(p->attach), "%s", attach);
	snprintf(p->reason, sizeof(p->reason), "%s", reason ? reason : "");
	p->loaded = attached;
	p->attached = attached;
	/* as the collector derives them from the loader */
	s->attached = 0;
	for (unsigned int i = 0; i < s->n_progs; i++)
		s->attached += s->progs[i].attached;
	s->degraded = s->attached < s->n_progs;
}

/* A healthy daemon: three programs running, everything offered, collected
 * a second ago at a 2 s interval, started 100 s ago. */
static int setup(void **st)
{
	(void)st;
	m = kp_model__new(0);
	if (!m)
		return -1;
	m->self.feat = (struct kp_features){ .btf = true, .tp_btf = true, .sched_info = true,
					     .bpf_stats = true, .sock_len = true, .psi = true,
					     .data_ready = true };
	prog("sched_switch", "tp_btf", true, NULL);
	prog("tcp_probe", "tp_btf", true, NULL);
	prog("my_new_tracepoint", "raw_tp", true, NULL);
	m->self.stats_mode = "sampled";
	m->self.collections = 50;
	m->self.last_mono_ns = NOW - 1 * S;
	opts = (struct kp_health_doc_opts){ .started_ns = NOW - 100 * S, .interval_ns = 2 * S,
					    .bpf_stats_wanted = true, .rtt_sample = 8 };
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	kp_model__free(m);
	return 0;
}

static json_t *doc(unsigned int *status)
{
	json_t *j;

	*status = 0;
	j = kp_health_doc(m, &opts, NOW, status);
	assert_non_null(j);
	return j;
}

static const char *status_of(json_t *j)
{
	return json_string_value(json_object_get(j, "status"));
}

/* The names in features_missing, joined by ',' into @buf. */
static const char *missing(json_t *j, char *buf, size_t len)
{
	json_t *arr = json_object_get(j, "features_missing");
	size_t n = 0;

	assert_true(json_is_array(arr));
	buf[0] = 0;
	for (size_t i = 0; i < json_array_size(arr); i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
				      json_string_value(json_array_get(arr, i)));
	return buf;
}

static void test_ok(void **st)
{
	unsigned int code;
	json_t *j = doc(&code), *p;
	char buf[256];

	(void)st;
	assert_string_equal(status_of(j), "ok");
	assert_int_equal(code, 200);
	assert_string_equal(missing(j, buf, sizeof(buf)), "");
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "notes")), 0);
	assert_null(json_object_get(j, "privileges"));
	assert_string_equal(json_string_value(json_object_get(j, "version")), KPULSE_VERSION);
	assert_near(json_real_value(json_object_get(j, "uptime_seconds")), 100, 1e-9);
	assert_near(json_real_value(json_object_get(j, "last_collection_age_seconds")), 1, 1e-9);
	assert_int_equal(json_integer_value(json_object_get(j, "collections")), 50);
	assert_string_equal(json_string_value(json_object_get(j, "runq_source")), "sched_info");
	assert_string_equal(json_string_value(json_object_get(j, "request_timing")), "arrival");
	assert_string_equal(json_string_value(json_object_get(j, "bpf_stats")), "sampled");
	assert_int_equal(json_integer_value(json_object_get(j, "rtt_sample")), 8);
	p = json_object_get(j, "programs");
	assert_int_equal(json_array_size(p), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *o = json_array_get(p, i);

		assert_true(json_is_true(json_object_get(o, "attached")));
		assert_true(json_is_true(json_object_get(o, "loaded")));
		assert_null(json_object_get(o, "reason"));	/* only when not running */
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "tracepoint")),
			    "sched_switch");
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "attach")),
			    "tp_btf");
	/* the oldest Linux with the program's form; none for one not listed
	 * (sched_switch runs from 4.17: prev_state's argument, 5.18, has a
	 * fallback, the switch_state row) */
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "since")),
			    "4.17");
	assert_null(json_object_get(json_array_get(p, 2), "since"));
	json_decref(j);

	/* the other answers of the fields */
	m->self.feat.sched_info = false;
	m->self.stats_mode = NULL;
	j = doc(&code);
	assert_string_equal(json_string_value(json_object_get(j, "runq_source")), "wakeup");
	assert_string_equal(json_string_value(json_object_get(j, "bpf_stats")), "off");
	json_decref(j);
}

static void expect_failing(const char *why)
{
	unsigned int code;
	json_t *j = doc(&code);

	if (strcmp(status_of(j), "failing"))
		fail_msg("%s: status %s", why, status_of(j));
	assert_int_equal(code, 503);
	json_decref(j);
}

static void expect_status(const char *status, unsigned int want_code)
{
	unsigned int code;
	json_t *j = doc(&code);

	assert_string_equal(status_of(j), status);
	assert_int_equal(code, want_code);
	json_decref(j);
}

static void test_degraded(void **st)
{
	unsigned int code;
	json_t *j, *p;
	char buf[256];

	(void)st;
	prog("sock_send_length", "tp_btf", false,
	     "verifier rejected the program: R1 invalid mem access 'scalar'");
	j = doc(&code);
	assert_string_equal(status_of(j), "degraded");
	assert_int_equal(code, 200);
	p = json_array_get(json_object_get(j, "programs"), 3);
	assert_string_equal(json_string_value(json_object_get(p, "tracepoint")), "sock_send_length");
	assert_true(json_is_false(json_object_get(p, "attached")));
	assert_string_equal(json_string_value(json_object_get(p, "reason")),
			    "verifier rejected the program: R1 invalid mem access 'scalar'");
	assert_string_equal(json_string_value(json_object_get(p, "since")), "6.3");
	/* a program not running is missing, by its tracepoint */
	assert_string_equal(missing(j, buf, sizeof(buf)), "sock_send_length");
	/* and the reason says which, with the series that shows it */
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 1);
	p = json_array_get(json_object_get(j, "reasons"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "reason")),
			    "the sock_send_length program does not run: verifier rejected the "
			    "program: R1 invalid mem access 'scalar'");
	assert_string_equal(json_string_value(json_object_get(p, "series")),
			    "kpulse_bpf_program_attached");
	json_decref(j);
}

/* The reason of one kind, or NULL. */
static json_t *reason_with(json_t *j, const char *needle)
{
	json_t *r = json_object_get(j, "reasons");

	for (size_t i = 0; i < json_array_size(r); i++) {
		json_t *o = json_array_get(r, i);

		if (strstr(json_string_value(json_object_get(o, "reason")), needle))
			return o;
	}
	return NULL;
}

/* Data lost lately: a kind of drop that grew within a minute (or three
 * intervals when longer), recursion misses; older losses are history. */
static void test_losses(void **st)
{
	unsigned int code;
	json_t *j, *r;

	(void)st;
	m->self.drops[KP_DROP_CGROUP_MAP_FULL] = 12;
	m->self.drops_last_ns[KP_DROP_CGROUP_MAP_FULL] = NOW - 30 * S;
	m->self.drops[KP_DROP_SK_STORAGE] = 3;
	m->self.drops_last_ns[KP_DROP_SK_STORAGE] = NOW - 61 * S;	/* over a minute */
	j = doc(&code);
	assert_string_equal(status_of(j), "degraded");
	assert_int_equal(code, 200);
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 1);
	r = reason_with(j, "raise --max-cgroups");
	assert_non_null(r);
	assert_non_null(strstr(json_string_value(json_object_get(r, "reason")),
			       "12 events in all, the last 30 s ago"));
	assert_string_equal(json_string_value(json_object_get(r, "series")),
			    "kpulse_bpf_events_dropped_total{reason=\"cgroup_map_full\"}");
	json_decref(j);
	/* at a 30 s interval the window is three of them: 90 s */
	opts.interval_ns = 30 * S;
	m->self.last_mono_ns = NOW - 1 * S;
	j = doc(&code);
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 2);
	json_decref(j);
	opts.interval_ns = 2 * S;
	/* a minute and more later: ok again, the counters stay */
	m->self.drops_last_ns[KP_DROP_CGROUP_MAP_FULL] = NOW - 61 * S;
	expect_status("ok", 200);
	m->self.misses_last_ns = NOW - 5 * S;
	j = doc(&code);
	assert_string_equal(status_of(j), "degraded");
	r = reason_with(j, "recursion");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "series")),
			    "kpulse_bpf_events_dropped_total{reason=\"recursion_miss\"}");
	json_decref(j);
}

/* Reasons from outside the model (a bound the daemon hit), notes that are
 * not faults, and the privileges document. */
static void test_extra_notes_privileges(void **st)
{
	unsigned int code;
	json_t *j, *extra = json_pack("[{s:s, s:s}]", "reason", "too many alerts",
				      "series", "kpulse_alerts_dropped_total");
	json_t *priv = json_pack("{s:s}", "user", "nobody");

	(void)st;
	m->self.memcg_shared = 2;
	j = doc(&code);
	assert_string_equal(status_of(j), "ok");	/* a note is not a fault */
	assert_int_equal(json_array_size(json_object_get(j, "notes")), 1);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(j, "notes"), 0)),
			       "2 containers"));
	json_decref(j);
	opts.extra = extra;
	opts.privileges = priv;
	j = doc(&code);
	assert_string_equal(status_of(j), "degraded");
	assert_non_null(reason_with(j, "too many alerts"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "privileges"),
							      "user")), "nobody");
	json_decref(j);
	/* the caller's documents are its own still */
	assert_int_equal(json_array_size(extra), 1);
	json_decref(extra);
	json_decref(priv);
	opts.extra = NULL;
	opts.privileges = NULL;
}

static void test_failing(void **st)
{
	unsigned int code;
	json_t *j;

	(void)st;
	/* no collection yet: age -1 */
	m->self.collections = 0;
	j = doc(&code);
	assert_string_equal(status_of(j), "failing");
	assert_int_equal(code, 503);
	assert_near(json_real_value(json_object_get(j, "last_collection_age_seconds")), -1, 0);
	json_decref(j);
	m->self.collections = 1;

	/* stalled: older than 3 intervals + 1 s (7 s at 2 s) */
	m->self.last_mono_ns = NOW - 7 * S;
	expect_status("ok", 200);
	m->self.last_mono_ns = NOW - 7 * S - 1 * MS;
	expect_failing("collection 7.001 s old");
	opts.interval_ns = 10 * S;		/* 31 s at 10 s */
	expect_status("ok", 200);
	m->self.last_mono_ns = NOW - 32 * S;
	expect_failing("collection 32 s old at a 10 s interval");
	m->self.last_mono_ns = NOW;
	expect_status("ok", 200);

	/* nothing attached: failing, not degraded */
	m->self.n_progs = 0;
	prog("sched_switch", "tp_btf", false, "no BTF");
	prog("tcp_probe", "raw_tp", false, "permission denied");
	expect_failing("nothing attached");
	/* one running again: degraded */
	prog("mark_victim", "tp_btf", true, NULL);
	expect_status("degraded", 200);
	/* degraded and stalled: failing wins */
	m->self.last_mono_ns = NOW - 60 * S;
	expect_failing("degraded and stalled");
}

static void test_features_missing(void **st)
{
	unsigned int code;
	json_t *j;
	char buf[256];

	(void)st;
	/* the raw_tp twins run, with maps that can fill: degraded, and why */
	m->self.feat.tp_btf = false;
	j = doc(&code);
	assert_string_equal(missing(j, buf, sizeof(buf)), "tp_btf");
	assert_string_equal(status_of(j), "degraded");
	assert_int_equal(code, 200);
	assert_non_null(reason_with(j, "raw_tp fallbacks run"));
	json_decref(j);

	/* bpf stats: missing only when the config wants them */
	m->self.feat.bpf_stats = false;
	j = doc(&code);
	assert_string_equal(missing(j, buf, sizeof(buf)), "tp_btf,bpf_stats");
	assert_string_equal(json_string_value(json_object_get(reason_with(j, "BPF_ENABLE_STATS"),
							      "series")),
			    "kpulse_bpf_program_run_seconds_total");
	json_decref(j);
	opts.bpf_stats_wanted = false;
	j = doc(&code);
	assert_string_equal(missing(j, buf, sizeof(buf)), "tp_btf");
	assert_null(reason_with(j, "BPF_ENABLE_STATS"));
	json_decref(j);
	m->self.feat.tp_btf = true;
	expect_status("ok", 200);

	/* no sk_data_ready: received bytes timed when read, which is named */
	m->self.feat.data_ready = false;
	j = doc(&code);
	assert_string_equal(missing(j, buf, sizeof(buf)), "request_arrival_time");
	assert_string_equal(json_string_value(json_object_get(j, "request_timing")), "read");
	assert_string_equal(status_of(j), "degraded");
	json_decref(j);
	m->self.feat.data_ready = true;
	expect_status("ok", 200);

	/* before 6.3 the socket-length programs do not run (sock_len is
	 * both of them running): the programs, then bytes and request
	 * latency, are missing; each program says why */
	prog("sock_send_length", "tp_btf", false, "tracepoint not found");
	prog("sock_recv_length", "tp_btf", false, "tracepoint not found");
	m->self.feat.sock_len = false;
	j = doc(&code);
	assert_string_equal(missing(j, buf, sizeof(buf)),
			    "sock_send_length,sock_recv_length,network_bytes,request_latency");
	assert_string_equal(json_string_value(json_object_get(j, "request_timing")), "none");
	assert_string_equal(status_of(j), "degraded");
	assert_int_equal(json_array_size(json_object_get(j, "reasons")), 2);
	json_decref(j);
}

/* The runtimes' names and the CPU limits' source: counted, and an index
 * past its bound is a reason to be degraded (containers shown by id). */
static void test_names_and_cpu_source(void **st)
{
	unsigned int code;
	json_t *j, *n;

	(void)st;
	j = doc(&code);
	n = json_object_get(j, "container_names");
	assert_int_equal(json_integer_value(json_object_get(n, "lookups")), 0);
	assert_int_equal(json_integer_value(json_object_get(n, "index_dropped")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "cpu_limits_source")), "none");
	assert_true(json_is_null(json_object_get(j, "node")));	/* node files not read yet */
	json_decref(j);

	m->self.names = (struct kp_names_self){ .lookups = 12, .found = 9, .file_reads = 40,
						.errors = 2, .entries = 4096 };
	m->self.cpu_source = "v1";
	j = doc(&code);
	assert_string_equal(status_of(j), "ok");	/* errors alone: counted, not degraded */
	n = json_object_get(j, "container_names");
	assert_int_equal(json_integer_value(json_object_get(n, "lookups")), 12);
	assert_int_equal(json_integer_value(json_object_get(n, "found")), 9);
	assert_int_equal(json_integer_value(json_object_get(n, "file_errors")), 2);
	assert_int_equal(json_integer_value(json_object_get(n, "index_entries")), 4096);
	assert_string_equal(json_string_value(json_object_get(j, "cpu_limits_source")), "v1");
	json_decref(j);

	m->self.names.dropped = 5;
	j = doc(&code);
	assert_string_equal(status_of(j), "degraded");
	assert_int_equal(code, 200);
	n = reason_with(j, "shown by id");
	assert_non_null(n);
	assert_string_equal(json_string_value(json_object_get(n, "series")),
			    "kpulse_runtime_index_dropped_total");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "container_names"),
							    "index_dropped")), 5);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_degraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_losses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extra_notes_privileges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_and_cpu_source, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
