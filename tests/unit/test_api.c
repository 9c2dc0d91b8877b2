/* test_api.c - the /api/v1 documents from a model built in the test and
 * its analysis: the containers list (order, fields, units, filtering; the
 * runtimes' names, CPU limit and throttling, memory.stat), one container by
 * id, name, path or <namespace>/<pod>/<name> with its histograms and
 * request_ports, the node, and the history with its errors, every series
 * README names and the run-queue heatmap. Expected figures come from the
 * inputs and the bucket layout (model_build.h), not from the code under
 * test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "analysis/analysis.h"
#include "base/opts.h"
#include "model/hist.h"
#include "model/model.h"
#include "outputs/api.h"
#include "model_build.h"

#define T0 (5000 * S)
#define ODD_PATH "/test.slice/odd\xff\"\n.scope"
#define ODD_SHOWN "/test.slice/odd\\xff\"\\x0a.scope"	/* model/text.h */
#define KP_HEATMAP_ROWS_TEST 24	/* README: 24 rows */
#define API_IMAGE "ghcr.io/acme/api:v2"

/* The value at @path ("a.b.c"; a number selects an array element) or NULL. */
static json_t *jget(json_t *j, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strtok_r(buf, ".", &save); p && j; p = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(p, NULL, 10))
				     : json_object_get(j, p);
	return j;
}

static double jnum(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	if (!json_is_number(v))
		fail_msg("%s: not a number", path);
	return json_number_value(v);
}

static const char *jstr(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	return json_string_value(v);
}

/* Whole numbers (counts, bytes) are JSON integers. */
static json_int_t jint(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	return json_integer_value(v);
}

/* ---- the model over time ---- */

struct world {
	struct kp_model *m;
	struct kp_analysis *a;
	struct kp_container *web, *api, *calm, *busy, *odd;
	struct kp_lat req[3];	/* calm's: :8080 and :9090 in, :5432 out */
	uint64_t now;
};

/* calm serves requests on two ports and makes some to a third */
static void calm_requests(struct world *w)
{
	static const struct {
		int dir;
		uint16_t port;
		uint64_t ns, n;
	} r[3] = { { 0, 8080, 2 * MS, 10 }, { 0, 9090, 30 * MS, 1 }, { 1, 5432, 500 * US, 4 } };

	for (int i = 0; i < 3; i++) {
		tb_record(w->req[i].hist, &w->req[i].sum_ns, r[i].ns, r[i].n);
		w->req[i].count += r[i].n;
		assert_int_equal(kp_portset__update(kp_model__ports(w->m, w->calm, r[i].dir),
						    r[i].port, &w->req[i], NULL), 0);
	}
	kp_portset__settle(w->calm->req[0], w->now);
	kp_portset__settle(w->calm->req[1], w->now);
}

static void tick(struct world *w, unsigned int seconds)
{
	for (unsigned int i = 0; i < seconds; i++) {
		/* web: 0.5 cores, slow run-queue waits; api: an OOM kill at the
		 * second tick, 0.25 cores; busy: 1.5 cores under a 2-core limit,
		 * throttled in 2 of 10 periods; calm: 0.1, fast requests */
		w->web->t.cpu_ns += 500 * MS;
		w->web->t.nvcsw += 10;
		w->web->t.nivcsw += 4;
		tb_record(w->web->t.runq_hist, &w->web->t.runq_sum_ns, 80 * MS, 3);
		tb_record(w->web->t.runq_hist, &w->web->t.runq_sum_ns, 20 * US, 97);
		w->web->tcp->rx_bytes += 3000;
		w->web->tcp->tx_bytes += 1448 * 10;
		w->api->t.cpu_ns += 250 * MS;
		w->busy->t.cpu_ns += 1500 * MS;
		w->busy->cpu.throttle.periods += 10;
		w->busy->cpu.throttle.throttled_periods += 2;
		w->busy->cpu.throttle.throttled_ns += 25 * MS;
		w->calm->t.cpu_ns += 100 * MS;
		w->m->node.cpu_ns += 2 * S;
		tb_record(w->m->node.runq_hist, &w->m->node.runq_sum_ns, 40 * US, 1000);
		w->now += S;
		calm_requests(w);
		if (w->now == T0 + 2 * S)
			w->api->mem.oom_kills = 1;
		kp_analysis__update(w->a, w->m, w->now);
	}
}

static void world_new(struct world *w)
{
	struct kp_analysis_opts o;
	struct kp_container *k;

	memset(w, 0, sizeof(*w));
	w->m = kp_model__new(4);
	kp_analysis_opts_default(&o, 1 * S);
	w->a = kp_analysis__new(&o, T0);
	assert_non_null(w->m);
	assert_non_null(w->a);
	w->now = T0;
	w->web = tb_container(w->m, 1001, WEB_PATH, "web", WEB_ID, KP_RT_DOCKER, NULL);
	w->api = tb_container(w->m, 1002, API_PATH, "api", API_ID, KP_RT_CONTAINERD, POD_UID);
	w->calm = tb_container(w->m, 1003, "/test.slice/calm", "/test.slice/calm", NULL,
			       KP_RT_CGROUP, NULL);
	w->busy = tb_container(w->m, 1004, "/system.slice/busy.service", "busy.service", NULL,
			       KP_RT_SYSTEMD, NULL);
	w->odd = NULL;
	k = kp_model__get(w->m, 999);	/* never resolved */
	k->t.cpu_ns = 9 * S;
	kp_model__tcp(w->web);
	w->web->mem.files.has_usage = true;
	w->web->mem.files.usage_bytes = 300ull << 20;
	w->web->mem.files.has_limit = true;
	w->web->mem.files.limit_bytes = 1ull << 30;
	w->web->mem.files.has_psi[KP_PSI_CPU] = true;
	w->web->mem.files.psi[KP_PSI_CPU].some = (struct kp_psi_line){ true, 1.5, 2.5, 3.5, 4500000 };
	w->web->mem.direct_reclaims = 2;
	w->web->mem.memcg_reclaims = 3;
	w->web->mem.reclaim_sum_ns = 250 * MS;
	w->web->mem.files.has_stat = true;
	w->web->mem.files.working_set_bytes = 200ull << 20;
	w->web->mem.files.rss_bytes = 150ull << 20;
	w->web->mem.files.cache_bytes = 80ull << 20;
	w->web->mem.files.has_swap = true;
	w->web->mem.files.swap_bytes = 1ull << 20;
	w->api->mem.files.has_usage = true;
	w->api->mem.files.usage_bytes = 4096;
	w->busy->cpu.has_limit = true;
	w->busy->cpu.limit = (struct kp_cpu_limit){ true, 200000, 100000 };
	w->busy->cpu.has_throttle = true;
	w->busy->cpu.throttle = (struct kp_cpu_throttle){ 500, 400, 7 * S };	/* before kpulse */
	tb_named(w->m, w->web, WEB_IMAGE, NULL, NULL);
	tb_named(w->m, w->api, API_IMAGE, "api-7d9f-0", "prod");
	kp_analysis__update(w->a, w->m, w->now);	/* the baseline */
}

static void world_free(struct world *w)
{
	kp_model__free(w->m);
	kp_analysis__free(w->a);
}

/* The list as /api/v1/containers sends it (written a container at a
 * time) is the tree's compact dump, byte for byte. */
static void same_text(const struct world *w, const char *pattern, json_t *doc)
{
	size_t len = 0;
	char *text = kp_api_containers_text(w->m, w->a, w->now, pattern, &len);
	char *want = json_dumps(doc, JSON_COMPACT);

	assert_non_null(text);
	assert_non_null(want);
	assert_int_equal(len, strlen(want));
	assert_string_equal(text, want);
	free(text);
	free(want);
}

static void test_containers_order_and_fields(void **st)
{
	struct world w;
	json_t *doc, *web, *api, *f, *lat;
	size_t i;
	double p99;

	(void)st;
	world_new(&w);
	tick(&w, 10);
	doc = kp_api_containers(w.m, w.a, w.now, NULL);
	assert_true(json_is_array(doc));
	same_text(&w, NULL, doc);
	/* the unresolved one is not listed */
	assert_int_equal(json_array_size(doc), 4);
	/* worst first: api (an OOM kill: -40), web (p99 80 ms: -30), busy
	 * (throttled in 20% of periods: -30 * 15 / 45), calm */
	assert_string_equal(jstr(doc, "0.name"), "api");
	assert_string_equal(jstr(doc, "1.name"), "web");
	assert_string_equal(jstr(doc, "2.name"), "busy.service");
	assert_string_equal(jstr(doc, "3.name"), "/test.slice/calm");
	assert_near(jnum(doc, "0.health.score"), 60, 1e-9);
	assert_near(jnum(doc, "1.health.score"), 70, 1e-9);
	assert_near(jnum(doc, "2.health.score"), 90, 1e-9);
	assert_near(jnum(doc, "3.health.score"), 100, 0);

	web = json_array_get(doc, 1);
	assert_string_equal(jstr(web, "id"), WEB_ID);
	assert_string_equal(jstr(web, "runtime"), "docker");
	assert_string_equal(jstr(web, "cgroup"), WEB_PATH);
	assert_int_equal(jint(web, "cgroup_id"), 1001);
	assert_null(jget(web, "pod_uid"));
	assert_string_equal(jstr(web, "image"), WEB_IMAGE);
	assert_null(jget(web, "pod"));
	assert_null(jget(web, "namespace"));
	/* health: the main reason and each known factor, penalties negative */
	assert_non_null(strstr(jstr(web, "health.reason"), "p99 run-queue latency"));
	f = jget(web, "health.factors");
	assert_true(json_is_array(f));
	for (i = 0; i < json_array_size(f); i++)
		if (!strcmp(jstr(json_array_get(f, i), "name"), "runq_p99"))
			break;
	assert_true(i < json_array_size(f));
	p99 = (double)tb_upper(80 * MS) / 1e9;
	assert_near(jnum(json_array_get(f, i), "value"), p99, 1e-12);
	assert_near(jnum(json_array_get(f, i), "penalty"), -30, 0);
	for (size_t k = 0; k < json_array_size(f); k++) {
		const char *n = jstr(json_array_get(f, k), "name");

		/* no request latency and no memory PSI here: not listed */
		assert_true(strcmp(n, "request_p99") && strcmp(n, "memory_pressure"));
		assert_true(jnum(json_array_get(f, k), "penalty") <= 0);
	}
	/* CPU in cores and seconds, switches per second and in total */
	assert_near(jnum(web, "cpu.cores"), 0.5, 1e-9);
	assert_near(jnum(web, "cpu.seconds_total"), 5.0, 1e-9);
	assert_near(jnum(web, "context_switches.voluntary_per_second"), 10, 1e-9);
	assert_near(jnum(web, "context_switches.involuntary_per_second"), 4, 1e-9);
	assert_int_equal(jint(web, "context_switches.voluntary_total"), 100);
	/* memory in bytes, reclaim in stalls and seconds */
	assert_int_equal(jint(web, "memory.usage_bytes"), 300 << 20);
	assert_int_equal(jint(web, "memory.limit_bytes"), 1 << 30);
	assert_int_equal(jint(web, "memory.reclaim.stalls_total"), 5);
	assert_int_equal(jint(web, "memory.reclaim.direct_stalls_total"), 2);
	assert_near(jnum(web, "memory.reclaim.seconds_total"), 0.25, 1e-12);
	assert_int_equal(jint(web, "memory.oom_kills_total"), 0);
	/* memory.stat as cAdvisor reads it, swap where accounted */
	assert_int_equal(jint(web, "memory.working_set_bytes"), 200 << 20);
	assert_int_equal(jint(web, "memory.rss_bytes"), 150 << 20);
	assert_int_equal(jint(web, "memory.cache_bytes"), 80 << 20);
	assert_int_equal(jint(web, "memory.swap_bytes"), 1 << 20);
	/* no CPU limit: neither limit nor throttling */
	assert_null(jget(web, "cpu.limit_cores"));
	assert_null(jget(web, "cpu.throttling"));
	/* PSI: percentages and total seconds, only the files that exist */
	assert_near(jnum(web, "pressure.cpu.some.avg10"), 1.5, 0);
	assert_near(jnum(web, "pressure.cpu.some.total_seconds"), 4.5, 1e-12);
	assert_null(jget(web, "pressure.cpu.full"));
	assert_null(jget(web, "pressure.memory"));
	/* TCP: counts and bytes, rates per second */
	assert_int_equal(jint(web, "tcp.bytes.received_total"), 30000);
	assert_near(jnum(web, "tcp.bytes.receive_per_second"), 3000, 1e-6);
	assert_near(jnum(web, "tcp.bytes.transmit_per_second"), 14480, 1e-6);
	/* latencies in seconds over each window; runq always, others once seen */
	lat = jget(web, "latency");
	assert_non_null(jget(lat, "runq.1m"));
	assert_non_null(jget(lat, "runq.5m"));
	assert_null(jget(lat, "rtt"));
	assert_null(jget(lat, "request_inbound"));
	assert_int_equal(jint(lat, "runq.1m.count"), 1000);
	/* 30 of 1000 at 80 ms: p99 and max there, p50..p95 at 20 us */
	assert_near(jnum(lat, "runq.1m.p99"), p99, 1e-12);
	assert_near(jnum(lat, "runq.1m.max"), p99, 1e-12);
	assert_near(jnum(lat, "runq.1m.p95"), (double)tb_upper(20 * US) / 1e9, 1e-15);
	assert_near(jnum(lat, "runq.1m.p50"), (double)tb_upper(20 * US) / 1e9, 1e-15);
	assert_true(jnum(lat, "runq.1m.p99") >= 0.080 && jnum(lat, "runq.1m.p99") <= 0.080 * 1.0625);

	/* busy: its limit, cpu.stat's totals and the share over the 1 m window */
	f = json_array_get(doc, 2);
	assert_near(jnum(f, "cpu.limit_cores"), 2, 0);
	assert_int_equal(jint(f, "cpu.throttling.periods_total"), 500 + 10 * 10);
	assert_int_equal(jint(f, "cpu.throttling.throttled_periods_total"), 400 + 10 * 2);
	assert_near(jnum(f, "cpu.throttling.throttled_seconds_total"), 7.25, 1e-12);
	assert_near(jnum(f, "cpu.throttling.throttled_percent"), 20, 1e-9);
	assert_non_null(strstr(jstr(f, "health.reason"), "CPU throttled by its limit in 20%"));
	assert_null(jget(f, "memory.working_set_bytes"));	/* no memory.stat */

	api = json_array_get(doc, 0);
	assert_string_equal(jstr(api, "pod_uid"), POD_UID);
	assert_string_equal(jstr(api, "image"), API_IMAGE);
	assert_string_equal(jstr(api, "pod"), "api-7d9f-0");
	assert_string_equal(jstr(api, "namespace"), "prod");
	assert_null(jget(api, "memory.swap_bytes"));
	assert_string_equal(jstr(api, "runtime"), "containerd");
	assert_int_equal(jint(api, "memory.oom_kills_total"), 1);
	assert_near(jnum(api, "memory.oom_kills_window"), 1, 0);
	assert_null(jget(api, "memory.limit_bytes"));	/* unlimited */
	assert_null(jget(api, "tcp"));
	assert_non_null(strstr(jstr(api, "health.reason"), "OOM kill"));
	/* a kind with no events: count 0, percentiles null */
	assert_int_equal(jint(api, "latency.runq.1m.count"), 0);
	assert_true(json_is_null(jget(api, "latency.runq.1m.p99")));
	json_decref(doc);

	/* a container made after the last update has no state yet: not listed */
	tb_container(w.m, 1005, "/late", "late", NULL, KP_RT_CGROUP, NULL);
	doc = kp_api_containers(w.m, w.a, w.now, NULL);
	assert_int_equal(json_array_size(doc), 4);
	json_decref(doc);
	world_free(&w);
}

static size_t listed(const struct world *w, const char *pattern, const char *first)
{
	json_t *doc = kp_api_containers(w->m, w->a, w->now, pattern);
	size_t n = json_array_size(doc);

	if (first)
		assert_string_equal(jstr(doc, "0.name"), first);
	same_text(w, pattern, doc);
	json_decref(doc);
	return n;
}

static void test_containers_filter(void **st)
{
	struct world w;

	(void)st;
	world_new(&w);
	tick(&w, 3);
	assert_int_equal(listed(&w, NULL, NULL), 4);
	assert_int_equal(listed(&w, "", NULL), 4);
	assert_int_equal(listed(&w, "we*", "web"), 1);
	assert_int_equal(listed(&w, "eb", "web"), 1);			/* name substring */
	assert_int_equal(listed(&w, "0123*", "api"), 1);		/* id glob */
	assert_int_equal(listed(&w, "1003", "/test.slice/calm"), 1);	/* cgroup id */
	assert_int_equal(listed(&w, "kubepods.slice/*", "api"), 1);	/* path, no '/' */
	assert_int_equal(listed(&w, "/system.slice/*", NULL), 2);
	assert_int_equal(listed(&w, "ghost", NULL), 0);
	assert_int_equal(listed(&w, "999", NULL), 0);			/* unresolved */
	world_free(&w);
}

static void test_one_container(void **st)
{
	struct world w;
	json_t *one, *rows;
	uint64_t total = 0;
	bool saw_slow = false, saw_fast = false;

	(void)st;
	world_new(&w);
	tick(&w, 4);
	/* by id, name and path; the same document */
	one = kp_api_container(w.m, w.a, w.now, WEB_ID);
	assert_non_null(one);
	assert_string_equal(jstr(one, "name"), "web");
	json_decref(one);
	one = kp_api_container(w.m, w.a, w.now, WEB_PATH);
	assert_non_null(one);
	assert_string_equal(jstr(one, "id"), WEB_ID);
	json_decref(one);
	one = kp_api_container(w.m, w.a, w.now, "1003");
	assert_non_null(one);
	assert_string_equal(jstr(one, "cgroup"), "/test.slice/calm");
	json_decref(one);
	/* a Kubernetes container also as <namespace>/<pod>/<name> */
	one = kp_api_container(w.m, w.a, w.now, "prod/api-7d9f-0/api");
	assert_non_null(one);
	assert_string_equal(jstr(one, "id"), API_ID);
	json_decref(one);
	assert_null(kp_api_container(w.m, w.a, w.now, "prod/api-7d9f-0"));
	assert_null(kp_api_container(w.m, w.a, w.now, "prod/api-7d9f-1/api"));
	/* not patterns, not the unresolved, not unknown */
	assert_null(kp_api_container(w.m, w.a, w.now, "we*"));
	assert_null(kp_api_container(w.m, w.a, w.now, "eb"));
	assert_null(kp_api_container(w.m, w.a, w.now, "999"));
	assert_null(kp_api_container(w.m, w.a, w.now, "nope"));
	assert_null(kp_api_container(w.m, w.a, w.now, ""));

	/* histograms: the longest window's non-empty fine buckets, seconds */
	one = kp_api_container(w.m, w.a, w.now, "web");
	assert_string_equal(jstr(one, "histograms.runq.window"), "5m");
	rows = jget(one, "histograms.runq.buckets");
	assert_true(json_is_array(rows));
	assert_int_equal(json_array_size(rows), 2);
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		double lo = jnum(r, "0"), hi = jnum(r, "1");
		json_int_t n = jint(r, "2");

		total += (uint64_t)n;
		if (lo <= 80e-3 && 80e-3 < hi) {
			saw_slow = true;
			assert_int_equal(n, 12);
			assert_near(hi, (double)tb_upper(80 * MS) / 1e9, 1e-15);
		} else if (lo <= 20e-6 && 20e-6 < hi) {
			saw_fast = true;
			assert_int_equal(n, 4 * 97);
		}
		assert_true(hi - lo <= lo / 16 + 1e-15);	/* the 6.25% bound */
	}
	assert_true(saw_slow && saw_fast);
	assert_int_equal(total, jint(one, "latency.runq.5m.count"));
	assert_null(jget(one, "histograms.rtt"));
	json_decref(one);

	/* the top bucket (~66.6 s and up) has no upper edge: listed, not lost */
	tb_record(w.web->t.runq_hist, &w.web->t.runq_sum_ns, 100 * S, 1);
	tick(&w, 1);
	one = kp_api_container(w.m, w.a, w.now, "web");
	rows = jget(one, "histograms.runq.buckets");
	assert_int_equal(json_array_size(rows), 3);
	assert_near(jnum(rows, "2.0"), (double)kp_hist_lower(KP_HIST_BUCKETS - 1) / 1e9, 1e-9);
	assert_true(jnum(rows, "2.0") <= 100.0);
	assert_true(json_is_null(jget(rows, "2.1")));
	assert_int_equal(jint(rows, "2.2"), 1);
	json_decref(one);
	world_free(&w);
}

/* One port entry of request_ports: [direction, port] and its figures. */
static json_t *port_entry(json_t *ports, const char *dir, json_t *port)
{
	for (size_t i = 0; i < json_array_size(ports); i++) {
		json_t *e = json_array_get(ports, i);

		if (!strcmp(jstr(e, "direction"), dir) && json_equal(jget(e, "port"), port))
			return e;
	}
	return NULL;
}

static void assert_port(json_t *ports, const char *dir, json_t *port, json_int_t count,
			uint64_t ns)
{
	json_t *e = port_entry(ports, dir, port);
	double edge = (double)tb_upper(ns) / 1e9;

	json_decref(port);
	assert_non_null(e);
	assert_string_equal(jstr(e, "window"), "1m");
	assert_int_equal(jint(e, "count"), count);
	assert_near(jnum(e, "p50"), edge, 1e-15);
	assert_near(jnum(e, "p99"), edge, 1e-15);
	assert_near(jnum(e, "max"), edge, 1e-15);
}

/* request_ports of one container: each named port per direction and
 * "other" for the rest (here one name per direction), over the shortest
 * window; a container without requests has an empty list. */
static void test_request_ports(void **st)
{
	struct world w;
	json_t *one, *ports, *port;

	(void)st;
	world_new(&w);
	w.m->max_ports = 1;	/* before calm's portsets are made */
	tick(&w, 10);
	one = kp_api_container(w.m, w.a, w.now, "/test.slice/calm");
	ports = jget(one, "request_ports");
	assert_true(json_is_array(ports));
	assert_int_equal(json_array_size(ports), 3);
	assert_port(ports, "inbound", json_integer(8080), 100, 2 * MS);	/* the busier */
	assert_port(ports, "inbound", json_string("other"), 10, 30 * MS);
	assert_port(ports, "outbound", json_integer(5432), 40, 500 * US);
	port = json_integer(9090);	/* a name only for the busier port */
	assert_null(port_entry(ports, "inbound", port));
	json_decref(port);
	/* every port's requests, in the container's own latency */
	assert_int_equal(jint(one, "latency.request_inbound.1m.count"), 110);
	json_decref(one);
	one = kp_api_container(w.m, w.a, w.now, "web");
	assert_int_equal(json_array_size(jget(one, "request_ports")), 0);
	json_decref(one);
	/* in one container's document, not in the list */
	one = kp_api_containers(w.m, w.a, w.now, "/test.slice/calm");
	assert_null(jget(one, "0.request_ports"));
	json_decref(one);
	world_free(&w);
}

/* Names are arbitrary bytes: a container whose name is not valid UTF-8 is
 * listed, and found, by its shown name (\xNN for bytes that are not
 * text), not dropped. */
static void test_hostile_names(void **st)
{
	struct world w;
	json_t *doc, *one, *h;
	const char *err = NULL;
	size_t n;
	char *text;

	(void)st;
	world_new(&w);
	w.odd = tb_container(w.m, 1006, ODD_PATH, ODD_PATH, NULL, KP_RT_CGROUP, NULL);
	tick(&w, 2);
	doc = kp_api_containers(w.m, w.a, w.now, NULL);
	n = json_array_size(doc);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_non_null(json_array_get(doc, i));
	text = json_dumps(doc, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "odd\\\\xff\\\"\\\\x0a.scope"));
	free(text);
	same_text(&w, NULL, doc);
	json_decref(doc);
	doc = kp_api_containers(w.m, w.a, w.now, "/test.slice/odd*");
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(jstr(doc, "0.name"), ODD_SHOWN);
	assert_string_equal(jstr(doc, "0.cgroup"), ODD_SHOWN);
	json_decref(doc);
	one = kp_api_container(w.m, w.a, w.now, ODD_SHOWN);
	assert_non_null(one);
	json_decref(one);
	assert_null(kp_api_container(w.m, w.a, w.now, ODD_PATH));	/* the raw bytes: no */
	h = kp_api_history(w.m, w.a, w.now, "cpu_cores", ODD_SHOWN, NULL, &err);
	assert_non_null(h);
	assert_string_equal(jstr(h, "container"), ODD_SHOWN);
	json_decref(h);
	world_free(&w);
}

static long meminfo_total_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void test_node(void **st)
{
	struct world w;
	struct kp_oom_record r;
	json_t *n;

	(void)st;
	world_new(&w);
	w.m->node_mem.oom_kills = 1;
	w.m->node_mem.direct_reclaims = 4;
	w.m->node_mem.reclaim_sum_ns = 1500 * MS;
	w.m->node_tcp.conn_in = 12;
	w.m->node_tcp.retrans = 3;
	w.m->node_mem.files.has_psi[KP_PSI_IO] = true;
	w.m->node_mem.files.psi[KP_PSI_IO].full = (struct kp_psi_line){ true, 7, 8, 9, 10 };
	memset(&r, 0, sizeof(r));
	r.unix_ns = 1734567891ull * S + 500 * MS;
	r.pid = 4242;
	r.tgid = 4240;
	snprintf(r.comm, sizeof(r.comm), "hog");
	snprintf(r.cgroup, sizeof(r.cgroup), "%s", API_PATH);
	r.ident = w.api->ident;
	r.anon_rss_bytes = 1 << 20;
	r.memcg_usage_bytes = 2 << 20;
	kp_oom_list_push(&w.m->ooms, &r);
	w.m->disks.n = 1;
	w.m->disks.d[0] = (struct kp_disk){ .name = "vda", .read_bytes = 1000, .write_bytes = 2000,
					    .has_rates = true, .read_bps = 10, .write_bps = 20,
					    .busy = 0.5 };
	tick(&w, 3);
	n = kp_api_node(w.m, w.a, w.now);
	assert_non_null(n);
	assert_int_equal(jint(n, "cpu.count"), sysconf(_SC_NPROCESSORS_ONLN));
	assert_near(jnum(n, "cpu.cores_busy"), 2.0, 1e-9);
	assert_near(jnum(n, "cpu.seconds_total"), 6.0, 1e-9);
	assert_int_equal(jint(n, "memory.total_bytes"), meminfo_total_kib() * 1024);
	assert_true(jint(n, "memory.available_bytes") > 0);
	assert_int_equal(jint(n, "memory.oom_kills_total"), 1);
	assert_int_equal(jint(n, "memory.reclaim.stalls_total"), 4);
	assert_near(jnum(n, "memory.reclaim.seconds_total"), 1.5, 1e-12);
	assert_near(jnum(n, "pressure.io.full.avg60"), 8, 0);
	assert_null(jget(n, "pressure.io.some"));
	assert_non_null(jget(n, "load.1m"));
	assert_int_equal(jint(n, "network.connections.inbound_total"), 12);
	assert_int_equal(jint(n, "network.retransmits_total"), 3);
	assert_int_equal(jint(n, "latency.runq.1m.count"), 3000);
	assert_near(jnum(n, "latency.runq.1m.p99"), (double)tb_upper(40 * US) / 1e9, 1e-15);
	/* the kill and 1.5 s of reclaim came after the baseline: in the window */
	assert_near(jnum(n, "health.score"), 100 - 40 - 15 * (1.5 / 60 - 0.01) / (0.20 - 0.01),
		    1e-9);
	assert_int_equal(json_array_size(jget(n, "oom_events")), 1);
	assert_near(jnum(n, "oom_events.0.time"), 1734567891.5, 1e-6);
	assert_int_equal(jint(n, "oom_events.0.pid"), 4240);
	assert_int_equal(jint(n, "oom_events.0.tid"), 4242);
	assert_string_equal(jstr(n, "oom_events.0.comm"), "hog");
	assert_string_equal(jstr(n, "oom_events.0.container"), "api");
	assert_string_equal(jstr(n, "oom_events.0.cgroup"), API_PATH);
	assert_int_equal(jint(n, "oom_events.0.anon_rss_bytes"), 1 << 20);
	assert_string_equal(jstr(n, "disk.0.device"), "vda");
	assert_int_equal(jint(n, "disk.0.write_bytes_total"), 2000);
	assert_near(jnum(n, "disk.0.busy_ratio"), 0.5, 0);
	json_decref(n);
	/* before two disk reads: rates null, not zero */
	w.m->disks.d[0].has_rates = false;
	n = kp_api_node(w.m, w.a, w.now);
	assert_true(json_is_null(jget(n, "disk.0.read_bytes_per_second")));
	/* /proc/net/dev not read (yet, or unreadable): no list */
	assert_true(json_is_null(jget(n, "network_devices")));
	json_decref(n);
	world_free(&w);
}

static void set_netdev(struct kp_netdev *d, const char *name, uint64_t rx, uint64_t tx)
{
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->v[KP_NET_RX_BYTES] = rx;
	d->v[KP_NET_TX_BYTES] = tx;
	d->v[KP_NET_RX_PACKETS] = rx / 100;
	d->v[KP_NET_TX_DROP] = 7;
}

/* network_devices: /proc/net/dev's totals as of the tick, bytes per second
 * between two reads of it (null after one), names shown as text. */
static void test_network_devices(void **st)
{
	struct kp_node_figs *nf;
	struct world w;
	json_t *n;

	(void)st;
	world_new(&w);
	nf = &w.m->nodefigs;
	nf->have[KP_NODE_NETDEV] = true;
	nf->net.n = 2;
	set_netdev(&nf->net.d[0], "eth0", 1000000, 2000000);
	set_netdev(&nf->net.d[1], "br\xff" "0", 5, 6);	/* a byte that is not text */
	nf->read_ns = w.now + S;
	tick(&w, 1);
	n = kp_api_node(w.m, w.a, w.now);
	assert_int_equal(json_array_size(jget(n, "network_devices")), 2);
	assert_string_equal(jstr(n, "network_devices.0.device"), "eth0");
	assert_int_equal(jint(n, "network_devices.0.receive_bytes_total"), 1000000);
	assert_int_equal(jint(n, "network_devices.0.transmit_bytes_total"), 2000000);
	assert_int_equal(jint(n, "network_devices.0.receive_packets_total"), 10000);
	assert_int_equal(jint(n, "network_devices.0.transmit_drop_total"), 7);
	assert_true(json_is_null(jget(n, "network_devices.0.receive_bytes_per_second")));
	assert_string_equal(jstr(n, "network_devices.1.device"), "br\\xff0");
	json_decref(n);
	/* 2 s later: 3 MB in, 1 MB out on eth0 */
	nf->net.d[0].v[KP_NET_RX_BYTES] += 3000000;
	nf->net.d[0].v[KP_NET_TX_BYTES] += 1000000;
	nf->read_ns = w.now + 2 * S;
	tick(&w, 2);
	n = kp_api_node(w.m, w.a, w.now);
	assert_near(jnum(n, "network_devices.0.receive_bytes_per_second"), 1500000, 1e-6);
	assert_near(jnum(n, "network_devices.0.transmit_bytes_per_second"), 500000, 1e-6);
	assert_near(jnum(n, "network_devices.1.receive_bytes_per_second"), 0, 0);
	json_decref(n);
	world_free(&w);
}

static void assert_history_error(const struct world *w, const char *metric, const char *c,
				 const char *window, const char *want)
{
	const char *err = NULL;
	json_t *j = kp_api_history(w->m, w->a, w->now, metric, c, window, &err);

	assert_null(j);
	assert_non_null(err);
	assert_non_null(strstr(err, want));
}

static void test_history(void **st)
{
	struct world w;
	const char *err = NULL;
	json_t *h, *pts;
	double wall;

	(void)st;
	world_new(&w);
	tick(&w, 20);
	assert_history_error(&w, "nope", NULL, NULL, "unknown or missing metric");
	assert_history_error(&w, NULL, NULL, NULL, "unknown or missing metric");
	assert_history_error(&w, "cpu_cores", NULL, "soon", "bad window");
	assert_history_error(&w, "cpu_cores", NULL, "0", "bad window");
	assert_history_error(&w, "cpu_cores", NULL, "-5m", "bad window");
	assert_history_error(&w, "cpu_cores", NULL, "nan", "bad window");
	assert_history_error(&w, "cpu_cores", NULL, "inf", "bad window");
	/* the parser says so itself, not by the cast of NaN going negative */
	assert_int_equal(kp_parse_duration("nan"), -1);
	assert_int_equal(kp_parse_duration("nanms"), -1);
	assert_history_error(&w, "cpu_cores", NULL, "", "bad window");
	assert_history_error(&w, "cpu_cores", "ghost", NULL, "no such container");
	assert_history_error(&w, "cpu_cores", "999", NULL, "no such container");
	assert_history_error(&w, "cpu_cores", "we*", NULL, "no such container");

	/* the node by default: 20 points, one a second, ending now */
	wall = (double)time(NULL);
	h = kp_api_history(w.m, w.a, w.now, "cpu_cores", NULL, NULL, &err);
	assert_non_null(h);
	assert_string_equal(jstr(h, "metric"), "cpu_cores");
	assert_string_equal(jstr(h, "container"), "node");
	pts = jget(h, "points");
	assert_int_equal(json_array_size(pts), 20);
	for (size_t i = 0; i < 20; i++) {
		json_t *p = json_array_get(pts, i);

		assert_near(jnum(p, "1"), 2.0, 1e-6);
		if (i)
			assert_near(jnum(p, "0") - jnum(json_array_get(pts, i - 1), "0"), 1, 1e-9);
	}
	assert_true(fabs(jnum(pts, "19.0") - wall) <= 2);
	json_decref(h);

	/* a container by name, within a window: t = 15..20 */
	h = kp_api_history(w.m, w.a, w.now, "cpu_cores", "web", "5s", &err);
	assert_non_null(h);
	assert_string_equal(jstr(h, "container"), "web");
	assert_int_equal(json_array_size(jget(h, "points")), 6);
	assert_near(jnum(h, "points.0.1"), 0.5, 1e-6);
	json_decref(h);
	h = kp_api_history(w.m, w.a, w.now, "health_score", WEB_ID, "15m", &err);
	assert_int_equal(json_array_size(jget(h, "points")), 20);
	assert_near(jnum(h, "points.19.1"), 70, 1e-4);
	json_decref(h);
	/* a cumulative series: OOM kills of api, 0 then 1 */
	h = kp_api_history(w.m, w.a, w.now, "oom_kills_total", "api", NULL, &err);
	pts = jget(h, "points");
	assert_near(jnum(pts, "0.1"), 0, 0);
	assert_near(jnum(pts, "1.1"), 0, 0);
	assert_near(jnum(pts, "2.1"), 1, 0);
	json_decref(h);
	/* "node" names the node too */
	h = kp_api_history(w.m, w.a, w.now, "runq_p99_seconds", "node", "10s", &err);
	assert_int_equal(json_array_size(jget(h, "points")), 11);
	assert_near(jnum(h, "points.0.1"), (double)tb_upper(40 * US) / 1e9, 1e-9);
	json_decref(h);
	world_free(&w);
}

/* Every series README lists answers, for a container and the node; the
 * error names them all. */
static void test_history_series_names(void **st)
{
	static const char *const readme[] = {
		"cpu_cores", "health_score", "memory_usage_bytes", "memory_limit_bytes",
		"runq_p50_seconds", "runq_p99_seconds", "cpu_pressure_some_percent",
		"memory_pressure_some_percent", "io_pressure_some_percent", "rtt_p50_seconds",
		"rtt_p99_seconds", "request_inbound_p50_seconds", "request_inbound_p99_seconds",
		"request_outbound_p50_seconds", "request_outbound_p99_seconds",
		"network_receive_bytes_per_second", "network_transmit_bytes_per_second",
		"oom_kills_total", "reclaim_seconds_total", "tcp_retransmits_total",
		"tcp_segments_sent_estimate_total", "cpu_limit_cores", "cpu_throttled_percent",
		"memory_working_set_bytes", "runq_heatmap",
	};
	struct world w;
	const char *err = NULL;
	json_t *h;

	(void)st;
	world_new(&w);
	tick(&w, 3);
	for (size_t i = 0; i < sizeof(readme) / sizeof(readme[0]); i++) {
		for (int node = 0; node < 2; node++) {
			h = kp_api_history(w.m, w.a, w.now, readme[i], node ? NULL : "web", NULL, &err);
			if (!h)
				fail_msg("%s: %s", readme[i], err);
			assert_string_equal(jstr(h, "metric"), readme[i]);
			json_decref(h);
		}
		kp_api_history(w.m, w.a, w.now, "nope", NULL, NULL, &err);
		assert_non_null(strstr(err, readme[i]));
	}
	assert_int_equal(KP_S_MAX + 1, sizeof(readme) / sizeof(readme[0]));
	/* series web has points in, and ones it has none in (no requests) */
	h = kp_api_history(w.m, w.a, w.now, "memory_limit_bytes", "web", NULL, &err);
	assert_int_equal(json_array_size(jget(h, "points")), 3);
	assert_near(jnum(h, "points.2.1"), 1 << 30, 0);
	json_decref(h);
	h = kp_api_history(w.m, w.a, w.now, "request_inbound_p99_seconds", "web", NULL, &err);
	assert_int_equal(json_array_size(jget(h, "points")), 0);
	json_decref(h);
	h = kp_api_history(w.m, w.a, w.now, "request_inbound_p99_seconds", "/test.slice/calm",
			   NULL, &err);
	assert_near(jnum(h, "points.2.1"), (double)tb_upper(30 * MS) / 1e9, 1e-9);
	json_decref(h);
	world_free(&w);
}

/* runq_heatmap: 24 power-of-two rows, columns of max(interval, 5 s), and
 * every run-queue event of the span in exactly one cell of its row. */
static void test_runq_heatmap(void **st)
{
	struct world w;
	const char *err = NULL;
	json_t *h, *rows, *pts;
	uint64_t per_row[KP_HEATMAP_ROWS_TEST] = { 0 };
	double prev = 0, wall = (double)time(NULL);

	(void)st;
	world_new(&w);
	tick(&w, 20);
	h = kp_api_history(w.m, w.a, w.now, "runq_heatmap", "web", NULL, &err);
	assert_non_null(h);
	assert_string_equal(jstr(h, "container"), "web");
	assert_near(jnum(h, "column_seconds"), 5, 0);
	rows = jget(h, "rows_lower_seconds");
	assert_int_equal(json_array_size(rows), KP_HEATMAP_ROWS_TEST);
	assert_near(jnum(rows, "0"), 0, 0);
	assert_near(jnum(rows, "1"), 1024e-9, 1e-18);	/* 1.02 us */
	for (size_t r = 1; r < KP_HEATMAP_ROWS_TEST; r++)	/* the last from 4.3 s */
		assert_near(jnum(json_array_get(rows, r), ""), ldexp(1, (int)r + 9) / 1e9, 1e-18);
	pts = jget(h, "points");
	assert_true(json_array_size(pts) >= 4 && json_array_size(pts) <= 5);
	for (size_t i = 0; i < json_array_size(pts); i++) {
		json_t *p = json_array_get(pts, i), *col = jget(p, "1");

		assert_true(jnum(p, "0") > prev);
		prev = jnum(p, "0");
		assert_int_equal(json_array_size(col), KP_HEATMAP_ROWS_TEST);
		for (size_t r = 0; r < KP_HEATMAP_ROWS_TEST; r++)
			per_row[r] += (uint64_t)jint(json_array_get(col, r), "");
	}
	assert_true(fabs(prev - wall) <= 2);
	/* 80 ms is in [2^26, 2^27) ns (row 17), 20 us in [2^14, 2^15) (row 5) */
	for (size_t r = 0; r < KP_HEATMAP_ROWS_TEST; r++)
		assert_int_equal(per_row[r], r == 17 ? 3 * 20 : r == 5 ? 97 * 20 : 0);
	json_decref(h);
	/* a window keeps the columns that end inside it */
	h = kp_api_history(w.m, w.a, w.now, "runq_heatmap", "web", "5s", &err);
	assert_true(json_array_size(jget(h, "points")) <= 2);
	json_decref(h);
	/* a container without run-queue events: rows, no points */
	h = kp_api_history(w.m, w.a, w.now, "runq_heatmap", "api", NULL, &err);
	assert_int_equal(json_array_size(jget(h, "points")), 0);
	json_decref(h);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containers_order_and_fields),
		cmocka_unit_test(test_containers_filter),
		cmocka_unit_test(test_one_container),
		cmocka_unit_test(test_request_ports),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_network_devices),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_history_series_names),
		cmocka_unit_test(test_runq_heatmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
