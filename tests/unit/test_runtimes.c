/* test_runtimes.c - the name cache on a host root laid out as docker,
 * podman, CRI-O, containerd's CRI plugin and the kubelet lay out theirs
 * (fixtures/hostroot), then on a temporary host root that changes under
 * it: a container appearing is named after one refresh period, not before;
 * a miss costs no file read within the period; bounds are counted. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "collect/runtimes.h"
#include "fixture.h"

#define BUSY "227be25669e2520cc606f99dea4a87288f974cca39bdbd2143a7d4c1c3872f63"
#define POD_BUSY "faee5cd8eb57a4f85e915863ac30cff9080a4335cbbb2de46f88c9d76742ae52"
#define CRIO_WEB "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define CTRD_APP "d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6d6"
#define CTRD_SBX "c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5"
#define CTRD_PLAIN "e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7"
#define ETCD "f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8f8"
#define NOBODY "0000000000000000000000000000000000000000000000000000000000000000"
#define UID1 "5f0c2b7e-9a41-4d3b-8c6e-2a7f1d9e4b10"
#define SEC 1000000000ull

static struct kp_runtimes *fixture_host(void)
{
	struct kp_runtimes_paths p;
	char cwd[2048];

	kp_runtimes_paths_default(&p);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(p.host_root, sizeof(p.host_root), "%s/%s/hostroot", cwd, fixture_dir());
	snprintf(p.storage[1], sizeof(p.storage[1]), "/var/lib/containers-crio/storage");
	p.n_storage = 2;
	return kp_runtimes__new(&p);
}

static void test_each_runtime(void **st)
{
	struct kp_runtimes *r = fixture_host();
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_DOCKER);
	assert_string_equal(m.name, "acc_busy");
	assert_string_equal(m.image, "kpulse-test-busybox:25140");

	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, POD_BUSY, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_PODMAN);
	assert_string_equal(m.name, "pod_busy");
	assert_string_equal(m.image, "localhost/kpulse-test-busybox:25140");

	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CRIO, CRIO_WEB, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_CRIO);
	assert_string_equal(m.name, "web");
	assert_string_equal(m.pod, "api-0");
	assert_string_equal(m.namespace, "prod");
	assert_string_equal(m.pod_uid, UID1);
	assert_string_equal(m.image, "docker.io/library/nginx:1.25");

	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, CTRD_APP, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_CONTAINERD);
	assert_string_equal(m.name, "app");
	assert_string_equal(m.pod, "worker-7d9f");
	assert_string_equal(m.namespace, "batch");
	assert_string_equal(m.image, "docker.io/library/busybox:1.36");

	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, CTRD_SBX, SEC, &m), 0);
	assert_true(m.sandbox);
	assert_string_equal(m.name, "POD");
	kp_runtimes__free(r);
}

static void test_hint_is_only_a_hint(void **st)
{
	struct kp_runtimes *r = fixture_host();
	struct kp_rt_meta m;

	(void)st;
	/* a bare id under a pod cgroup reads as containerd; CRI-O's files
	 * know it, so it is CRI-O's */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, CRIO_WEB, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_CRIO);
	/* an id under a cgroup no rule knows */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CGROUP, BUSY, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_DOCKER);
	/* only the kubelet names it: the hint stays the runtime */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, ETCD, SEC, &m), 0);
	assert_int_equal(m.runtime, KP_RT_CONTAINERD);
	assert_string_equal(m.name, "etcd");
	assert_string_equal(m.pod, "etcd-node1");
	assert_string_equal(m.namespace, "kube-system");
	assert_string_equal(m.image, "");
	kp_runtimes__free(r);
}

static void test_unknown_and_bad(void **st)
{
	struct kp_runtimes *r = fixture_host();
	struct kp_rt_meta m;

	(void)st;
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, NOBODY, SEC, &m), -ENOENT);
	assert_string_equal(m.name, "");
	/* a plain containerd bundle names nothing */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, CTRD_PLAIN, SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, "../../etc", SEC, &m), -EINVAL);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, NULL, SEC, &m), -EINVAL);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY "/x", SEC, &m), -EINVAL);
	assert_int_equal(kp_runtimes__pod(r, UID1, SEC, &m), 0);
	assert_string_equal(m.pod, "api-0");
	assert_string_equal(m.namespace, "prod");
	assert_int_equal(kp_runtimes__pod(r, "6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c", SEC, &m),
			 -ENOENT);
	assert_int_equal(kp_runtimes__pod(r, "", SEC, &m), -EINVAL);
	assert_int_equal(kp_runtimes__stats(r)->found, 0);
	kp_runtimes__free(r);
}

static void test_nothing_configured(void **st)
{
	struct kp_runtimes_paths p;
	struct kp_runtimes *r;
	struct kp_rt_meta m;

	(void)st;
	memset(&p, 0, sizeof(p));	/* every source off */
	r = kp_runtimes__new(&p);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__stats(r)->file_reads, 0);
	kp_runtimes__free(r);
	kp_runtimes__free(NULL);
}

/* ---- a host root that changes ---- */

static char tmp[256];

static void mkdirs(const char *fmt, const char *arg)
{
	char path[1024], *s;

	snprintf(path, sizeof(path), fmt, tmp, arg);
	for (s = path + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(path, 0755);
			*s = '/';
		}
	mkdir(path, 0755);
}

static void write_file(const char *rel, const char *text)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct kp_runtimes *tmp_host(void)
{
	struct kp_runtimes_paths p;

	kp_runtimes_paths_default(&p);
	snprintf(p.host_root, sizeof(p.host_root), "%s/", tmp);	/* trailing '/' is fine */
	p.refresh_ns = 2 * SEC;
	return kp_runtimes__new(&p);
}

static int tmp_setup(void **st)
{
	(void)st;
	snprintf(tmp, sizeof(tmp), "/tmp/kpulse-unit-rt-%d-XXXXXX", getpid());
	return mkdtemp(tmp) ? 0 : -1;
}

static int tmp_teardown(void **st)
{
	char cmd[300];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_docker_appears(void **st)
{
	struct kp_runtimes *r;
	struct kp_rt_meta m;
	uint64_t reads;

	(void)st;
	r = tmp_host();
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, 10 * SEC, &m), -ENOENT);
	reads = kp_runtimes__stats(r)->file_reads;
	mkdirs("%s/var/lib/docker/containers/%s", BUSY);
	write_file("var/lib/docker/containers/" BUSY "/config.v2.json",
		   "{\"Name\": \"/late\", \"Config\": {\"Image\": \"img:1\"}}");
	/* within the refresh period the miss stands, and costs no read */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, 11 * SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__stats(r)->file_reads, reads);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, 12 * SEC, &m), 0);
	assert_string_equal(m.name, "late");
	assert_string_equal(m.image, "img:1");
	/* a file the runtime did not write: counted, not named */
	write_file("var/lib/docker/containers/" BUSY "/config.v2.json", "{\"Name\": \"/cut");
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_DOCKER, BUSY, 13 * SEC, &m), -ENOENT);
	assert_true(kp_runtimes__stats(r)->errors >= 1);
	kp_runtimes__free(r);
}

static void test_storage_changes(void **st)
{
	const char *a = "[{\"id\": \"" POD_BUSY "\", \"names\": [\"first\"], \"metadata\": \"{}\"}]";
	const char *b = "[{\"id\": \"" POD_BUSY "\", \"names\": [\"first\"], \"metadata\": \"{}\"},"
			" {\"id\": \"" CRIO_WEB "\", \"names\": [\"second\"]}]";
	struct kp_runtimes *r;
	struct kp_rt_meta m;
	uint64_t rebuilds;

	(void)st;
	mkdirs("%s/var/lib/containers/storage/vfs-containers%s", "");
	write_file("var/lib/containers/storage/vfs-containers/containers.json", a);
	r = tmp_host();
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, POD_BUSY, 20 * SEC, &m), 0);
	assert_string_equal(m.name, "first");
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, CRIO_WEB, 20 * SEC, &m), -ENOENT);
	write_file("var/lib/containers/storage/vfs-containers/containers.json", b);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, CRIO_WEB, 21 * SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, CRIO_WEB, 22 * SEC, &m), 0);
	assert_string_equal(m.name, "second");
	/* a hit never rebuilds; an unchanged (and old) file is not reread */
	rebuilds = kp_runtimes__stats(r)->rebuilds;
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, POD_BUSY, 40 * SEC, &m), 0);
	assert_int_equal(kp_runtimes__stats(r)->rebuilds, rebuilds);
	kp_runtimes__free(r);
}

/* A file rewritten within one tick of the clock that stamps mtimes keeps
 * its mtime (and here its size and inode): a stamp that young is not
 * trusted, so the next check rereads it. */
static void test_same_tick_rewrite(void **st)
{
	const char *a = "[{\"id\": \"" POD_BUSY "\", \"names\": [\"aaaa\"]}]";
	const char *b = "[{\"id\": \"" POD_BUSY "\", \"names\": [\"bbbb\"]}]";
	const char *rel = "var/lib/containers/storage/overlay-containers/containers.json";
	struct timespec times[2];
	struct kp_runtimes *r;
	struct kp_rt_meta m;
	char path[1024];
	struct stat sb;

	(void)st;
	mkdirs("%s/var/lib/containers/storage/overlay-containers%s", "");
	write_file(rel, a);
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	assert_int_equal(stat(path, &sb), 0);
	r = tmp_host();
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, POD_BUSY, 60 * SEC, &m), 0);
	assert_string_equal(m.name, "aaaa");
	write_file(rel, b);
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	/* the index holds POD_BUSY: only a miss looks at the file again */
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, CRIO_WEB, 62 * SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN, POD_BUSY, 62 * SEC, &m), 0);
	assert_string_equal(m.name, "bbbb");
	kp_runtimes__free(r);
}

static void test_kubelet_symlink_appears(void **st)
{
	char link[1024];
	struct kp_runtimes *r;
	struct kp_rt_meta m;

	(void)st;
	mkdirs("%s/var/log/containers%s", "");
	mkdirs("%s/var/log/pods/ns1_p1_" UID1 "%s", "");
	r = tmp_host();
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, ETCD, 30 * SEC, &m), -ENOENT);
	assert_int_equal(kp_runtimes__pod(r, UID1, 30 * SEC, &m), 0);
	assert_string_equal(m.pod, "p1");
	snprintf(link, sizeof(link), "%s/var/log/containers/p1_ns1_c1-" ETCD ".log", tmp);
	assert_int_equal(symlink("/var/log/pods/ns1_p1_" UID1 "/c1/0.log", link), 0);
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_CONTAINERD, ETCD, 33 * SEC, &m), 0);
	assert_string_equal(m.name, "c1");
	assert_string_equal(m.pod, "p1");
	assert_string_equal(m.namespace, "ns1");
	kp_runtimes__free(r);
}

static void test_bounded(void **st)
{
	size_t cap = (KP_RT_MAX_ENTRIES + 10) * 100, n = 0;
	char *json = malloc(cap);
	struct kp_runtimes *r;
	struct kp_rt_meta m;

	(void)st;
	n += (size_t)snprintf(json + n, cap - n, "[");
	for (unsigned int i = 0; i < KP_RT_MAX_ENTRIES + 10; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s{\"id\": \"%064x\", \"names\": [\"c%u\"]}",
				      i ? "," : "", i + 1, i);
	snprintf(json + n, cap - n, "]");
	mkdirs("%s/var/lib/containers/storage/overlay-containers%s", "");
	write_file("var/lib/containers/storage/overlay-containers/containers.json", json);
	free(json);
	r = tmp_host();
	assert_int_equal(kp_runtimes__lookup(r, KP_RT_PODMAN,
					     "0000000000000000000000000000000000000000000000000000000000000001",
					     50 * SEC, &m), 0);
	assert_string_equal(m.name, "c0");
	assert_int_equal(kp_runtimes__stats(r)->dropped, 10);
	assert_true(kp_runtimes__stats(r)->entries >= KP_RT_MAX_ENTRIES);
	kp_runtimes__free(r);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_each_runtime),
		cmocka_unit_test(test_hint_is_only_a_hint),
		cmocka_unit_test(test_unknown_and_bad),
		cmocka_unit_test(test_nothing_configured),
	};
	const struct CMUnitTest changing[] = {
		cmocka_unit_test_setup_teardown(test_docker_appears, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_storage_changes, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_same_tick_rewrite, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_kubelet_symlink_appears, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_bounded, tmp_setup, tmp_teardown),
	};

	return cmocka_run_group_tests(fixed, NULL, NULL) |
	       cmocka_run_group_tests(changing, NULL, NULL);
}
