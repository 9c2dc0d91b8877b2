/* test_model.c - the model's containers: made, found, named and removed;
 * what a container is called (its id, its labels, with the names the
 * runtimes' files give: image, pod and namespace only when known; a
 * Kubernetes container is also "<namespace>/<pod>/<name>"; renaming moves
 * ident_gen so outputs rebuild their escaped labels); and the one matcher
 * behind -c, ?container= and alert rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/model.h"
#include "model/hist.h"
#include "model_build.h"


static unsigned int count_shown(const struct kp_model *m)
{
	struct kp_container *k, *tmp;
	unsigned int n = 0;

	KP_MODEL_FOR_EACH_SHOWN(m, k, tmp)
		n++;
	return n;
}

static unsigned int count_all(const struct kp_model *m)
{
	struct kp_container *k, *tmp;
	unsigned int n = 0;

	KP_MODEL_FOR_EACH(m, k, tmp)
		n++;
	return n;
}

static void test_get_find_resolve_remove(void **st)
{
	struct kp_model *m = kp_model__new(4);
	struct kp_container *a, *b, *again;
	struct kp_identity id = { .runtime = KP_RT_SYSTEMD, .name = "nginx.service" };
	char path[64];

	(void)st;
	assert_non_null(m);
	assert_int_equal(m->n_containers, 0);
	assert_int_equal(m->max_ports, 4);
	assert_null(kp_model__find(m, 42));

	a = kp_model__get(m, 42);
	assert_non_null(a);
	assert_int_equal(a->cgid, 42);
	assert_string_equal(a->cgid_str, "42");
	assert_null(a->path);		/* made unresolved */
	assert_false(kp_model_shown(a));
	assert_int_equal(a->t.cpu_ns, 0);
	assert_null(a->tcp);
	assert_null(a->req[0]);
	assert_null(a->req[1]);
	assert_int_equal(m->n_containers, 1);
	again = kp_model__get(m, 42);	/* the same one, not a second */
	assert_ptr_equal(again, a);
	assert_int_equal(m->n_containers, 1);
	assert_ptr_equal(kp_model__find(m, 42), a);

	b = kp_model__get(m, 18446744073709551615ull);
	assert_string_equal(b->cgid_str, "18446744073709551615");
	assert_int_equal(m->n_containers, 2);
	assert_int_equal(count_all(m), 2);
	assert_int_equal(count_shown(m), 0);

	/* the path is copied: the caller's buffer may change after */
	snprintf(path, sizeof(path), "/system.slice/nginx.service");
	assert_int_equal(kp_model__resolve(m, a, path, &id), 0);
	path[1] = 'X';
	assert_string_equal(a->path, "/system.slice/nginx.service");
	assert_string_equal(a->ident.name, "nginx.service");
	assert_true(kp_model_shown(a));
	assert_int_equal(count_shown(m), 1);
	/* named again (the collector re-resolves): the new path wins */
	assert_int_equal(kp_model__resolve(m, a, "/system.slice/nginx2.service", &id), 0);
	assert_string_equal(a->path, "/system.slice/nginx2.service");

	kp_model__remove(m, a);
	assert_int_equal(m->n_containers, 1);
	assert_null(kp_model__find(m, 42));
	assert_ptr_equal(kp_model__find(m, 18446744073709551615ull), b);
	assert_int_equal(count_all(m), 1);
	assert_int_equal(count_shown(m), 0);

	/* made again after removal: a fresh, zeroed container */
	a = kp_model__get(m, 42);
	assert_null(a->path);
	assert_int_equal(m->n_containers, 2);
	kp_model__free(m);
	kp_model__free(NULL);
}

static void test_many(void **st)
{
	struct kp_model *m = kp_model__new(0);
	char path[32];

	(void)st;
	for (uint64_t i = 1; i <= 1000; i++) {
		struct kp_container *k = kp_model__get(m, i * 7919);

		k->t.cpu_ns = i;
		if (i % 3 == 0) {
			struct kp_identity id = { .runtime = KP_RT_CGROUP };

			snprintf(path, sizeof(path), "/c%llu", (unsigned long long)i);
			snprintf(id.name, sizeof(id.name), "%s", path);
			assert_int_equal(kp_model__resolve(m, k, path, &id), 0);
		}
	}
	assert_int_equal(m->n_containers, 1000);
	assert_int_equal(count_shown(m), 333);
	for (uint64_t i = 1; i <= 1000; i += 2)
		kp_model__remove(m, kp_model__find(m, i * 7919));
	assert_int_equal(m->n_containers, 500);
	assert_int_equal(count_all(m), 500);
	assert_int_equal(count_shown(m), 166);	/* multiples of 3 and of 2 under 1000 */
	for (uint64_t i = 2; i <= 1000; i += 2) {
		struct kp_container *k = kp_model__find(m, i * 7919);

		assert_non_null(k);
		assert_int_equal(k->t.cpu_ns, i);
	}
	kp_model__free(m);
}

static void test_tcp_and_ports_made_once(void **st)
{
	struct kp_model *m = kp_model__new(3);
	struct kp_container *k = kp_model__get(m, 7);
	struct kp_tcp_totals *t;
	struct kp_portset *in, *out;

	(void)st;
	t = kp_model__tcp(k);
	assert_non_null(t);
	assert_ptr_equal(k->tcp, t);
	assert_int_equal(t->conn_in + t->retrans + t->rx_bytes, 0);
	t->retrans = 5;
	assert_ptr_equal(kp_model__tcp(k), t);
	assert_int_equal(k->tcp->retrans, 5);

	in = kp_model__ports(m, k, 0);
	out = kp_model__ports(m, k, 1);
	assert_non_null(in);
	assert_non_null(out);
	assert_ptr_not_equal(in, out);
	assert_ptr_equal(k->req[0], in);
	assert_ptr_equal(k->req[1], out);
	assert_ptr_equal(kp_model__ports(m, k, 0), in);
	assert_ptr_equal(kp_model__ports(m, k, 1), out);
	/* the portset names at most the model's max_ports ports */
	for (uint16_t p = 1; p <= 5; p++) {
		struct kp_lat l = { .count = p * 10u };

		assert_int_equal(kp_portset__update(in, p, &l, NULL), 0);
	}
	kp_portset__settle(in, 1 * S);
	assert_int_equal(kp_portset__named_count(in), 3);
	kp_model__remove(m, k);		/* frees tcp and portsets (valgrind) */
	assert_int_equal(m->n_containers, 0);
	kp_model__free(m);
}

static void test_id_and_labels(void **st)
{
	struct kp_model *m = kp_model__new(0);
	struct kp_container *plain, *dock, *pod;
	struct kp_label l[KP_CONTAINER_LABELS + 1];

	(void)st;
	plain = tb_container(m, 1001, "/test.slice/plain", "/test.slice/plain", NULL,
			     KP_RT_CGROUP, NULL);
	dock = tb_container(m, 1002, WEB_PATH, "web", WEB_ID, KP_RT_DOCKER, NULL);
	pod = tb_container(m, 1003, API_PATH, "api", API_ID, KP_RT_CONTAINERD, POD_UID);

	/* no runtime id: the cgroup id stands in */
	assert_string_equal(kp_container_id(plain), "1001");
	assert_string_equal(kp_container_id(dock), WEB_ID);

	memset(l, 0xa5, sizeof(l));
	kp_container_labels(plain, l);
	assert_string_equal(l[0].name, "container");
	assert_string_equal(l[0].value, "/test.slice/plain");
	assert_string_equal(l[1].name, "container_id");
	assert_string_equal(l[1].value, "1001");
	assert_string_equal(l[2].name, "runtime");
	assert_string_equal(l[2].value, "cgroup");
	assert_string_equal(l[3].name, "cgroup");
	assert_string_equal(l[3].value, "/test.slice/plain");
	assert_null(l[4].name);		/* no pod_uid outside pods */

	memset(l, 0xa5, sizeof(l));
	kp_container_labels(dock, l);
	assert_string_equal(l[0].value, "web");
	assert_string_equal(l[1].value, WEB_ID);
	assert_string_equal(l[2].value, "docker");
	assert_string_equal(l[3].value, WEB_PATH);
	assert_null(l[4].name);

	memset(l, 0xa5, sizeof(l));
	kp_container_labels(pod, l);
	assert_string_equal(l[0].value, "api");
	assert_string_equal(l[1].value, API_ID);
	assert_string_equal(l[2].value, "containerd");
	assert_string_equal(l[4].name, "pod_uid");
	assert_string_equal(l[4].value, POD_UID);
	assert_null(l[5].name);
	kp_model__free(m);
}

static void test_match_rules(void **st)
{
	const char *path = "/kubepods.slice/web-7d9f.scope";

	(void)st;
	/* NULL and "" match everything, even a container without strings */
	assert_true(kp_match(NULL, "web", "abc", path));
	assert_true(kp_match("", "web", "abc", path));
	assert_true(kp_match(NULL, NULL, NULL, NULL));
	assert_true(kp_match("", NULL, NULL, NULL));
	assert_false(kp_match("web", NULL, NULL, NULL));

	/* glob on the name */
	assert_true(kp_match("web-*", "web-1", "aaaa", "/x"));
	assert_true(kp_match("w?b-[0-9]", "web-1", "aaaa", "/x"));
	assert_false(kp_match("db-*", "web-1", "aaaa", "/x"));
	/* a substring of the name (no glob needed) */
	assert_true(kp_match("eb-", "web-1", "aaaa", "/x"));
	assert_true(kp_match("web-1", "web-1", "aaaa", "/x"));
	assert_false(kp_match("web-12", "web-1", "aaaa", "/x"));

	/* glob on the id, but not a substring of it */
	assert_true(kp_match("4f1e*", "web", WEB_ID, "/x"));
	assert_true(kp_match(WEB_ID, "web", WEB_ID, "/x"));
	assert_false(kp_match("1e2d", "web", WEB_ID, "/x"));

	/* glob on the cgroup path, with or without its leading '/' */
	assert_true(kp_match(path, "n", "i", path));
	assert_true(kp_match(path + 1, "n", "i", path));
	assert_true(kp_match("/kubepods.slice/*", "n", "i", path));
	assert_true(kp_match("kubepods.slice/*", "n", "i", path));
	assert_true(kp_match("*7d9f*", "n", "i", path));
	assert_false(kp_match("7d9f", "n", "i", path));		/* no substring on paths */
	assert_false(kp_match("/kubepods.slice", "n", "i", path));
	assert_false(kp_match("system.slice/*", "n", "i", path));
	/* a pattern that is only a path matches neither name nor id by chance */
	assert_false(kp_match("kubepods.slice/*", "web", "kubepods", "/other"));
}

static void test_container_matches_and_is(void **st)
{
	struct kp_model *m = kp_model__new(0);
	struct kp_container *dock, *plain, *unres;

	(void)st;
	dock = tb_container(m, 1002, WEB_PATH, "web", WEB_ID, KP_RT_DOCKER, NULL);
	plain = tb_container(m, 77, "/test.slice/job", "/test.slice/job", NULL,
			     KP_RT_CGROUP, NULL);
	unres = kp_model__get(m, 99);

	/* kp_container_matches applies kp_match to the container's strings */
	assert_true(kp_container_matches(dock, "we"));
	assert_true(kp_container_matches(dock, "4f1e2d*"));
	assert_true(kp_container_matches(dock, "system.slice/docker-*"));
	assert_true(kp_container_matches(dock, NULL));
	assert_false(kp_container_matches(dock, "job"));
	/* a plain cgroup's id is its cgroup id */
	assert_true(kp_container_matches(plain, "77"));
	assert_true(kp_container_matches(plain, "7*"));
	assert_true(kp_container_matches(plain, "job"));
	assert_true(kp_container_matches(plain, "test.slice/job"));
	assert_false(kp_container_matches(plain, "7"));	/* ids: no substring */
	assert_true(kp_container_matches(unres, "99"));

	/* kp_container_is: exactly its id, name or path, never a pattern */
	assert_true(kp_container_is(dock, WEB_ID));
	assert_true(kp_container_is(dock, "web"));
	assert_true(kp_container_is(dock, WEB_PATH));
	assert_false(kp_container_is(dock, "we"));
	assert_false(kp_container_is(dock, "web*"));
	assert_false(kp_container_is(dock, "4f1e2d3c4b5a"));
	assert_false(kp_container_is(dock, "1002"));	/* has a runtime id */
	assert_true(kp_container_is(plain, "77"));
	assert_true(kp_container_is(plain, "/test.slice/job"));
	assert_false(kp_container_is(plain, "test.slice/job"));
	/* an unresolved container is nobody yet */
	assert_false(kp_container_is(unres, "99"));
	assert_false(kp_container_is(unres, ""));
	kp_model__free(m);
}

/* Names are the cgroup's bytes; the model keeps the raw path (to read its
 * files) and shows bytes that are not text as \xNN, in the name, the id
 * and the cgroup alike; users find a container by that spelling. */
static void test_names_made_visible(void **st)
{
	struct kp_model *m = kp_model__new(0);
	struct kp_container *k;
	struct kp_label l[KP_CONTAINER_LABELS + 1];

	(void)st;
	k = tb_container(m, 5, "/t/a\xff" "b\nc\"d\\e\xc3\xa9", "a\xff" "b\nc\"d\\e\xc3\xa9", NULL,
			 KP_RT_CGROUP, NULL);
	assert_string_equal(k->path, "/t/a\xff" "b\nc\"d\\e\xc3\xa9");		/* raw */
	assert_string_equal(k->cgroup, "/t/a\\xffb\\x0ac\"d\\e\xc3\xa9");	/* shown */
	assert_string_equal(k->ident.name, "a\\xffb\\x0ac\"d\\e\xc3\xa9");
	kp_container_labels(k, l);
	assert_string_equal(l[3].value, k->cgroup);
	assert_true(kp_container_is(k, "/t/a\\xffb\\x0ac\"d\\e\xc3\xa9"));
	assert_false(kp_container_is(k, "/t/a\xff" "b\nc\"d\\e\xc3\xa9"));
	/* a backslash in a pattern is a backslash */
	assert_true(kp_container_matches(k, "/t/a\\xff*"));
	assert_true(kp_container_matches(k, "\\x0a"));
	assert_true(kp_container_matches(k, "*\xc3\xa9"));
	kp_model__free(m);
}

static const char *label(const struct kp_label *l, const char *name)
{
	for (; l->name; l++)
		if (!strcmp(l->name, name))
			return l->value;
	return NULL;
}

static void test_labels_and_keys(void **st)
{
	struct kp_model *m = kp_model__new(16);
	struct kp_label l[KP_CONTAINER_LABELS + 1];
	struct kp_identity id = { .runtime = KP_RT_DOCKER };
	struct kp_container *k = kp_model__get(m, 42);
	unsigned int gen;

	(void)st;
	snprintf(id.id, sizeof(id.id), WEB_ID);
	snprintf(id.name, sizeof(id.name), "3f4e5d6c7b8a");
	assert_int_equal(kp_model__resolve(m, k, "/docker/" WEB_ID, &id), 0);
	kp_container_labels(k, l);
	assert_string_equal(label(l, "container"), "3f4e5d6c7b8a");
	assert_null(label(l, "image"));
	assert_null(label(l, "pod"));
	gen = k->ident_gen;
	snprintf(id.name, sizeof(id.name), "web");
	snprintf(id.image, sizeof(id.image), "nginx:1.25");
	id.named = true;
	kp_model__rename(m, k, &id);
	assert_int_not_equal(k->ident_gen, gen);
	kp_container_labels(k, l);
	assert_string_equal(label(l, "container"), "web");
	assert_string_equal(label(l, "image"), "nginx:1.25");
	assert_string_equal(label(l, "runtime"), "docker");
	assert_true(kp_container_is(k, "web"));
	assert_true(kp_container_matches(k, "we*"));
	assert_false(kp_container_is(k, "team/pod/web"));	/* not a pod */
	/* a Kubernetes container: every label, and the qualified key */
	snprintf(id.pod, sizeof(id.pod), "api-0");
	snprintf(id.namespace, sizeof(id.namespace), "prod");
	snprintf(id.pod_uid, sizeof(id.pod_uid), "6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c");
	kp_model__rename(m, k, &id);
	kp_container_labels(k, l);
	assert_string_equal(label(l, "pod"), "api-0");
	assert_string_equal(label(l, "namespace"), "prod");
	assert_string_equal(label(l, "pod_uid"), "6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c");
	assert_non_null(label(l, "cgroup"));
	assert_true(kp_container_is(k, "prod/api-0/web"));
	assert_false(kp_container_is(k, "prod/api-0/we"));
	assert_false(kp_container_is(k, "prod/api-1/web"));
	assert_false(kp_container_is(k, "prod/api-0"));
	assert_false(kp_container_is(k, "pro/api-0/web"));
	kp_model__free(m);
}

static void test_self_helpers(void **st)
{
	struct kp_self s;

	(void)st;
	memset(&s, 0, sizeof(s));
	s.n_progs = 3;
	snprintf(s.progs[0].tracepoint, sizeof(s.progs[0].tracepoint), "sched_switch");
	s.progs[0].attached = true;
	s.progs[0].has_stats = true;
	s.progs[0].misses = 4;
	snprintf(s.progs[1].tracepoint, sizeof(s.progs[1].tracepoint), "tcp_probe");
	s.progs[1].misses = 100;	/* no stats: not counted */
	snprintf(s.progs[2].tracepoint, sizeof(s.progs[2].tracepoint), "mark_victim");
	s.progs[2].attached = true;
	s.progs[2].has_stats = true;
	s.progs[2].misses = 3;
	assert_true(kp_self_running(&s, "sched_switch"));
	assert_false(kp_self_running(&s, "tcp_probe"));
	assert_false(kp_self_running(&s, "sched_wakeup"));	/* not there */
	assert_int_equal(kp_self_misses(&s), 7);
	for (int i = 0; i < KP_MAP_MAX; i++)
		assert_non_null(kp_map_names[i]);
	for (int i = 0; i < KP_DROP_MAX; i++)
		assert_non_null(kp_drop_names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_find_resolve_remove),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_tcp_and_ports_made_once),
		cmocka_unit_test(test_id_and_labels),
		cmocka_unit_test(test_match_rules),
		cmocka_unit_test(test_container_matches_and_is),
		cmocka_unit_test(test_names_made_visible),
		cmocka_unit_test(test_labels_and_keys),
		cmocka_unit_test(test_self_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
