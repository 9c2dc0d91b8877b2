/* test_rtmeta.c - the runtimes' and the kubelet's files, as real docker and
 * podman wrote them here and as CRI-O, containerd's CRI plugin, cri-dockerd
 * and the kubelet write them (see fixtures/README.md), plus bad input:
 * truncated JSON, wrong shapes, names past their bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "collect/rtmeta.h"
#include "fixture.h"

#define BUSY "227be25669e2520cc606f99dea4a87288f974cca39bdbd2143a7d4c1c3872f63"
#define CRIO_SBX "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define CRIO_WEB "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define UID1 "5f0c2b7e-9a41-4d3b-8c6e-2a7f1d9e4b10"
#define CTRD "run/containerd/io.containerd.runtime.v2.task/"

static void test_docker_real(void **st)
{
	size_t len;
	char *s = fixture("hostroot/var/lib/docker/containers/" BUSY "/config.v2.json", &len);
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_docker_config_parse(s, len, &m), 0);
	assert_int_equal(m.runtime, KP_RT_DOCKER);
	assert_string_equal(m.name, "acc_busy");	/* "/acc_busy" on disk */
	assert_string_equal(m.image, "kpulse-test-busybox:25140");
	assert_string_equal(m.pod, "");
	assert_false(m.sandbox);
	free(s);
}

static void test_docker_cri_dockerd(void **st)
{
	size_t len;
	char *s = fixture("docker-cri-dockerd.config.v2.json", &len);
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_docker_config_parse(s, len, &m), 0);
	assert_string_equal(m.name, "db");	/* not k8s_db_pg-0_... */
	assert_string_equal(m.image, "postgres:16");
	assert_string_equal(m.pod, "pg-0");
	assert_string_equal(m.namespace, "data");
	assert_string_equal(m.pod_uid, "0e4b8f21-7c3a-4d95-b16e-93a5c2d7e804");
	free(s);
	s = fixture("docker-cri-dockerd-sandbox.config.v2.json", &len);
	assert_int_equal(kp_docker_config_parse(s, len, &m), 0);
	assert_true(m.sandbox);
	assert_string_equal(m.name, KP_SANDBOX_NAME);
	assert_string_equal(m.pod, "pg-0");
	free(s);
}

static void test_docker_bad(void **st)
{
	static const char *const bad[] = { "", "{", "[]", "null", "\"Name\"",
					   "{\"Name\": 5}", "{\"Name\": \"\"}", "{\"Config\": {}}" };
	size_t len;
	char *s = fixture("hostroot/var/lib/docker/containers/" BUSY "/config.v2.json", &len);
	struct kp_rt_meta m;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = kp_docker_config_parse(bad[i], strlen(bad[i]), &m);

		assert_true(err == -EINVAL || err == -ENOENT);
		assert_string_equal(m.name, "");
	}
	/* cut anywhere (but its trailing newline): never a name from half a file */
	for (size_t cut = 0; cut + 1 < len; cut += 7)
		assert_int_not_equal(kp_docker_config_parse(s, cut, &m), 0);
	/* no image, name only */
	assert_int_equal(kp_docker_config_parse("{\"Name\":\"/x\",\"Config\":7}", 24, &m), 0);
	assert_string_equal(m.name, "x");
	assert_string_equal(m.image, "");
	free(s);
}

struct seen {
	int n;
	char ids[8][KP_CID_LEN + 1];
	struct kp_rt_meta m[8];
};

static int collect(void *ctx, const char *id, const struct kp_rt_meta *m)
{
	struct seen *s = ctx;

	if (s->n >= 8)
		return -E2BIG;
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id);
	s->m[s->n++] = *m;
	return 0;
}

static void test_storage_podman_real(void **st)
{
	size_t len;
	char *s = fixture("hostroot/var/lib/containers/storage/overlay-containers/containers.json",
			  &len);
	struct seen seen = { 0 };

	(void)st;
	assert_int_equal(kp_storage_containers_parse(s, len, collect, &seen), 2);
	assert_string_equal(seen.m[0].name, "pod_busy");
	assert_string_equal(seen.m[1].name, "pod_mem");
	assert_string_equal(seen.m[0].image, "localhost/kpulse-test-busybox:25140");
	assert_int_equal(seen.m[0].runtime, KP_RT_PODMAN);
	assert_string_equal(seen.ids[0],
			    "faee5cd8eb57a4f85e915863ac30cff9080a4335cbbb2de46f88c9d76742ae52");
	free(s);
}

static void test_storage_crio(void **st)
{
	size_t len;
	char *s = fixture("hostroot/var/lib/containers-crio/storage/overlay-containers/containers.json",
			  &len);
	struct seen seen = { 0 };

	(void)st;
	/* the entry with a bad id is skipped */
	assert_int_equal(kp_storage_containers_parse(s, len, collect, &seen), 2);
	assert_string_equal(seen.ids[0], CRIO_SBX);
	assert_true(seen.m[0].sandbox);
	assert_string_equal(seen.m[0].name, KP_SANDBOX_NAME);
	assert_string_equal(seen.ids[1], CRIO_WEB);
	assert_false(seen.m[1].sandbox);
	assert_int_equal(seen.m[1].runtime, KP_RT_CRIO);
	assert_string_equal(seen.m[1].name, "web");
	assert_string_equal(seen.m[1].pod, "api-0");
	assert_string_equal(seen.m[1].image, "docker.io/library/nginx:1.25");
	/* joined from the infra entry */
	assert_string_equal(seen.m[1].namespace, "prod");
	assert_string_equal(seen.m[1].pod_uid, UID1);
	free(s);
}

static int stop_at_first(void *ctx, const char *id, const struct kp_rt_meta *m)
{
	(void)id;
	(void)m;
	++*(int *)ctx;
	return 42;
}

static void test_storage_bad(void **st)
{
	static const char *const bad[] = { "", "{}", "[", "[1,2", "\"x\"" };
	const char *odd = "[1, {}, {\"id\": 3}, {\"id\": \"" CRIO_WEB "\", \"metadata\": \"{bad\"}]";
	int calls = 0;
	size_t len;
	char *s = fixture("hostroot/var/lib/containers/storage/overlay-containers/containers.json",
			  &len);

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kp_storage_containers_parse(bad[i], strlen(bad[i]), stop_at_first,
							     &calls), -EINVAL);
	assert_int_equal(calls, 0);
	/* entries of the wrong shape are skipped, not fatal */
	assert_int_equal(kp_storage_containers_parse(odd, strlen(odd), stop_at_first, &calls), 0);
	assert_int_equal(kp_storage_containers_parse("[]", 2, stop_at_first, &calls), 0);
	/* the callback stops the walk */
	assert_int_equal(kp_storage_containers_parse(s, len, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);
	free(s);
}

static void test_oci_containerd(void **st)
{
	size_t len;
	char *s = fixture("hostroot/" CTRD "k8s.io/d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6/config.json",
			  &len);
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_oci_config_parse(s, len, &m), 0);
	assert_int_equal(m.runtime, KP_RT_CONTAINERD);
	assert_string_equal(m.name, "app");
	assert_string_equal(m.pod, "worker-7d9f");
	assert_string_equal(m.namespace, "batch");
	assert_string_equal(m.pod_uid, "9c3e1a55-0b7d-4f62-a8e4-6d2c5b1f7a93");
	assert_string_equal(m.image, "docker.io/library/busybox:1.36");
	free(s);
	s = fixture("hostroot/" CTRD "k8s.io/c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5/config.json",
		    &len);
	assert_int_equal(kp_oci_config_parse(s, len, &m), 0);
	assert_true(m.sandbox);
	assert_string_equal(m.name, KP_SANDBOX_NAME);
	free(s);
}

static void test_oci_unnamed(void **st)
{
	const char *crio = "{\"annotations\": {\"io.kubernetes.cri-o.ContainerType\": \"container\","
			   "\"io.kubernetes.container.name\": \"c\", \"io.kubernetes.pod.name\": \"p\","
			   "\"io.kubernetes.pod.namespace\": \"n\", \"io.kubernetes.cri-o.ImageName\": \"i\"}}";
	size_t len;
	char *s = fixture("podman-oci-config.json", &len);
	struct kp_rt_meta m;

	(void)st;
	/* podman's own spec names nothing kpulse uses: its name is in containers.json */
	assert_int_equal(kp_oci_config_parse(s, len, &m), -ENOENT);
	assert_string_equal(m.name, "");
	free(s);
	s = fixture("hostroot/" CTRD "default/e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7/config.json",
		    &len);
	assert_int_equal(kp_oci_config_parse(s, len, &m), -ENOENT);
	free(s);
	assert_int_equal(kp_oci_config_parse(crio, strlen(crio), &m), 0);
	assert_int_equal(m.runtime, KP_RT_CRIO);
	assert_string_equal(m.name, "c");
	assert_string_equal(m.image, "i");
	assert_int_equal(kp_oci_config_parse("{\"annotations\": []}", 19, &m), -ENOENT);
	assert_int_equal(kp_oci_config_parse("{\"annotations\"", 14, &m), -EINVAL);
}

static void test_kubelet_log_names(void **st)
{
	char id[KP_CID_LEN + 1];
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_kubelet_log_name_parse("api-0_prod_web-" CRIO_WEB ".log", &m, id), 0);
	assert_string_equal(m.pod, "api-0");
	assert_string_equal(m.namespace, "prod");
	assert_string_equal(m.name, "web");
	assert_string_equal(id, CRIO_WEB);
	/* container names have dashes; the id is the last 64 hex chars */
	assert_int_equal(kp_kubelet_log_name_parse("a.b-c_kube-system_side-car-2-" CRIO_WEB ".log",
						   &m, id), 0);
	assert_string_equal(m.pod, "a.b-c");
	assert_string_equal(m.namespace, "kube-system");
	assert_string_equal(m.name, "side-car-2");
	static const char *const bad[] = {
		"", ".log", "README.not-a-log",
		"api-0_prod_web-" CRIO_WEB,			/* no .log */
		"api-0_prod_web-" CRIO_WEB "0.log",		/* 65 hex */
		"api-0_prod_web-b2b2.log",			/* cut by the kubelet */
		"api-0_prod_web_" CRIO_WEB ".log",		/* '_' before the id */
		"api-0_prod-" CRIO_WEB ".log",			/* no container */
		"api-0__web-" CRIO_WEB ".log",			/* empty namespace */
		"_prod_web-" CRIO_WEB ".log",			/* empty pod */
		"api-0_prod_w_x-" CRIO_WEB ".log",		/* '_' in container */
		"api-0_prod_-" CRIO_WEB ".log",			/* empty container */
		"api-0_prod_web-B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2B2.log",
		/* not what the kubelet writes: upper case, bytes past ASCII, '.' in a label */
		"Api-0_prod_web-" CRIO_WEB ".log",
		"api-0_pr\xff" "d_web-" CRIO_WEB ".log",
		"api-0_prod_w.b-" CRIO_WEB ".log",
		"api-0_pr.d_web-" CRIO_WEB ".log",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(kp_kubelet_log_name_parse(bad[i], &m, id), -EINVAL);
		assert_string_equal(m.name, "");
	}
}

static void test_kubelet_pod_dirs(void **st)
{
	struct kp_rt_meta m;
	char big[400];

	(void)st;
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_api-0_" UID1, &m), 0);
	assert_string_equal(m.namespace, "prod");
	assert_string_equal(m.pod, "api-0");
	assert_string_equal(m.pod_uid, UID1);
	assert_int_equal(kp_kubelet_pod_dir_parse("kube-system_etcd-node1_d41d8cd98f00b204e9800998ecf8427e",
						  &m), 0);
	assert_string_equal(m.pod_uid, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_api-0", &m), -EINVAL);
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_api-0_short", &m), -EINVAL);
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_api_0_" UID1, &m), -EINVAL);
	assert_int_equal(kp_kubelet_pod_dir_parse("_api-0_" UID1, &m), -EINVAL);
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_API_" UID1, &m), -EINVAL);
	assert_int_equal(kp_kubelet_pod_dir_parse("prod_api-0_5F0C2B7E-9A41-4D3B-8C6E-2A7F1D9E4B10", &m),
			 -EINVAL);
	memset(big, 'p', sizeof(big));
	memcpy(big, "ns_", 3);
	snprintf(big + 300, sizeof(big) - 300, "_%s", UID1);
	assert_int_equal(kp_kubelet_pod_dir_parse(big, &m), -EINVAL);	/* pod > 253 */
	assert_string_equal(m.pod, "");
}

static void test_utf8_cut(void **st)
{
	char json[600], name[KP_NAME_MAX + 8];
	struct kp_rt_meta m;
	size_t i;

	(void)st;
	/* "/" then 'a' and a 2-byte character straddling the 255-byte cut */
	for (i = 0; i < KP_NAME_MAX - 2; i++)
		name[i] = 'a';
	memcpy(name + i, "\xc3\xa9\xc3\xa9", 5);
	snprintf(json, sizeof(json), "{\"Name\": \"/%s\"}", name);
	assert_int_equal(kp_docker_config_parse(json, strlen(json), &m), 0);
	assert_int_equal(strlen(m.name), KP_NAME_MAX - 2);
	assert_true(kp_is_container_id(CRIO_WEB, 64));
	assert_false(kp_is_container_id(CRIO_WEB, 63));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_real),
		cmocka_unit_test(test_docker_cri_dockerd),
		cmocka_unit_test(test_docker_bad),
		cmocka_unit_test(test_storage_podman_real),
		cmocka_unit_test(test_storage_crio),
		cmocka_unit_test(test_storage_bad),
		cmocka_unit_test(test_oci_containerd),
		cmocka_unit_test(test_oci_unnamed),
		cmocka_unit_test(test_kubelet_log_names),
		cmocka_unit_test(test_kubelet_pod_dirs),
		cmocka_unit_test(test_utf8_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
