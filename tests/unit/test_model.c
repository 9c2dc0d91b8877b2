/* test_model.c - a container's labels and the keys that name it, with the
 * names the runtimes' files give: image, pod and namespace appear only
 * when known; a Kubernetes container is also "<namespace>/<pod>/<name>";
 * renaming moves ident_gen (outputs rebuild their escaped labels). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "model/model.h"

#define ID "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e"

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
	snprintf(id.id, sizeof(id.id), ID);
	snprintf(id.name, sizeof(id.name), "3f4e5d6c7b8a");
	assert_int_equal(kp_model__resolve(m, k, "/docker/" ID, &id), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_and_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
