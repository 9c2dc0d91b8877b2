/* test_container.c - cgroup path -> container identity, table driven.
 *
 * One cmocka test per real-world path shape (pure v2 and hybrid hosts), plus
 * a few generated inputs the table cannot hold: paths past PATH_MAX, names
 * cut inside a UTF-8 sequence, NULL. Every row checks all four outputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "collect/container.h"

#define ID  "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SID "3f4e5d6c7b8a"
#define ID63 "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4"
#define ID65 ID "0"
#define IDUP "3F4E5D6C7B8A9F0E1D2C3B4A5F6E7D8C9B0A1F2E3D4C5B6A7F8E9D0C1B2A3F4E"
#define UID_D "6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c"
#define UID_U "6b1f3c2a_8d4e_4f5a_9b6c_7d8e9f0a1b2c"
#define UID_STATIC "d41d8cd98f00b204e9800998ecf8427e"	/* static pod: config hash */
#define KUBE_BU "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_U ".slice"
#define KUBE_BE "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_U ".slice"

_Static_assert(sizeof(ID) - 1 == 64 && sizeof(ID2) - 1 == 64, "id length");
_Static_assert(sizeof(ID63) - 1 == 63 && sizeof(IDUP) - 1 == 64, "id length");
_Static_assert(sizeof(UID_D) - 1 == 36 && sizeof(UID_STATIC) - 1 == 32, "uid");

struct row {
	const char *desc;
	const char *path;
	enum kp_runtime rt;
	const char *id;
	const char *name;
	const char *pod_uid;
};

static const struct row rows[] = {
	/* docker */
	{ "docker systemd driver", "/system.slice/docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, "" },
	{ "docker cgroupfs driver", "/docker/" ID, KP_RT_DOCKER, ID, SID, "" },
	{ "docker in docker", "/docker/" ID2 "/docker/" ID,
	  KP_RT_DOCKER, ID, SID, "" },
	{ "docker rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, "" },

	/* kubernetes, systemd driver */
	{ "k8s burstable containerd", KUBE_BU "/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s guaranteed containerd", "/kubepods.slice/kubepods-pod" UID_U ".slice/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s besteffort crio", KUBE_BE "/crio-" ID ".scope",
	  KP_RT_CRIO, ID, SID, UID_D },
	{ "k8s crio conmon", KUBE_BE "/crio-conmon-" ID ".scope",
	  KP_RT_CRIO, ID, "conmon-" SID, UID_D },
	{ "k8s crio crun subgroup", KUBE_BE "/crio-" ID ".scope/container",
	  KP_RT_CRIO, ID, SID, UID_D },
	{ "k8s dockershim", KUBE_BU "/docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, UID_D },
	{ "k8s static pod uid", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_STATIC ".slice/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, UID_STATIC },
	{ "k8s pod cgroup", KUBE_BU, KP_RT_CGROUP, "", KUBE_BU, UID_D },
	{ "k8s qos slice", "/kubepods.slice/kubepods-burstable.slice",
	  KP_RT_CGROUP, "", "/kubepods.slice/kubepods-burstable.slice", "" },
	{ "k8s kubepods slice", "/kubepods.slice",
	  KP_RT_CGROUP, "", "/kubepods.slice", "" },
	{ "kind node in docker", "/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_U ".slice/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s bad 63 hex leaf is a unit", KUBE_BU "/cri-containerd-" ID63 ".scope",
	  KP_RT_SYSTEMD, "", "cri-containerd-" ID63 ".scope", UID_D },

	/* kubernetes, cgroupfs driver */
	{ "k8s cgroupfs besteffort", "/kubepods/besteffort/pod" UID_D "/" ID,
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s cgroupfs guaranteed", "/kubepods/pod" UID_D "/" ID,
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s cgroupfs pod cgroup", "/kubepods/burstable/pod" UID_D,
	  KP_RT_CGROUP, "", "/kubepods/burstable/pod" UID_D, UID_D },
	{ "k8s cgroupfs kubelet root", "/kubelet/kubepods/burstable/pod" UID_D "/" ID,
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "k8s cgroupfs bad uid", "/kubepods/besteffort/podnot-a-uid/" ID,
	  KP_RT_CGROUP, "", "/kubepods/besteffort/podnot-a-uid/" ID, "" },
	{ "pod dir outside kubepods", "/foo/pod" UID_D "/" ID,
	  KP_RT_CGROUP, "", "/foo/pod" UID_D "/" ID, "" },

	/* podman */
	{ "podman rootful", "/machine.slice/libpod-" ID ".scope",
	  KP_RT_PODMAN, ID, SID, "" },
	{ "podman rootful crun subgroup", "/machine.slice/libpod-" ID ".scope/container",
	  KP_RT_PODMAN, ID, SID, "" },
	{ "podman rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
	  KP_RT_PODMAN, ID, SID, "" },
	{ "podman conmon", "/machine.slice/libpod-conmon-" ID ".scope",
	  KP_RT_PODMAN, ID, "conmon-" SID, "" },
	{ "podman pod member", "/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID ".scope",
	  KP_RT_PODMAN, ID, SID, "" },
	{ "podman cgroupfs driver", "/libpod_parent/libpod-" ID,
	  KP_RT_PODMAN, ID, SID, "" },

	/* containerd without kubernetes */
	{ "containerd scope", "/system.slice/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, "" },
	{ "containerd ctr cgroupfs", "/default/" ID,
	  KP_RT_CGROUP, "", "/default/" ID, "" },

	/* systemd units and plain cgroups */
	{ "systemd service", "/system.slice/nginx.service",
	  KP_RT_SYSTEMD, "", "nginx.service", "" },
	{ "systemd session", "/user.slice/user-1000.slice/session-3.scope",
	  KP_RT_SYSTEMD, "", "session-3.scope", "" },
	{ "systemd user manager", "/user.slice/user-1000.slice/user@1000.service",
	  KP_RT_SYSTEMD, "", "user@1000.service", "" },
	{ "systemd user app scope", "/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-4242.scope",
	  KP_RT_SYSTEMD, "", "app-gnome-firefox-4242.scope", "" },
	{ "systemd unit in container", "/system.slice/docker-" ID2 ".scope/system.slice/cron.service",
	  KP_RT_SYSTEMD, "", "cron.service", "" },
	{ "slice leaf", "/system.slice", KP_RT_CGROUP, "", "/system.slice", "" },
	{ "socket leaf", "/system.slice/dbus.socket",
	  KP_RT_CGROUP, "", "/system.slice/dbus.socket", "" },
	{ "container leaf not under a runtime", "/system.slice/foo.service/container",
	  KP_RT_CGROUP, "", "/system.slice/foo.service/container", "" },
	{ "bare id elsewhere", "/system.slice/" ID,
	  KP_RT_CGROUP, "", "/system.slice/" ID, "" },

	/* odd inputs */
	{ "root", "/", KP_RT_CGROUP, "", "/", "" },
	{ "empty", "", KP_RT_CGROUP, "", "/", "" },
	{ "only slashes", "///", KP_RT_CGROUP, "", "/", "" },
	{ "trailing slash", "/system.slice/docker-" ID ".scope/",
	  KP_RT_DOCKER, ID, SID, "" },
	{ "trailing slash on cgroup", "/foo/bar//", KP_RT_CGROUP, "", "/foo/bar", "" },
	{ "double slash", "/system.slice//docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, "" },
	{ "no leading slash", "system.slice/docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, "" },
	{ "no leading slash cgroup", "kubepods/besteffort",
	  KP_RT_CGROUP, "", "/kubepods/besteffort", "" },
	{ "63 hex docker scope", "/system.slice/docker-" ID63 ".scope",
	  KP_RT_SYSTEMD, "", "docker-" ID63 ".scope", "" },
	{ "65 hex docker scope", "/system.slice/docker-" ID65 ".scope",
	  KP_RT_SYSTEMD, "", "docker-" ID65 ".scope", "" },
	{ "63 hex cgroupfs", "/docker/" ID63, KP_RT_CGROUP, "", "/docker/" ID63, "" },
	{ "uppercase hex", "/system.slice/docker-" IDUP ".scope",
	  KP_RT_SYSTEMD, "", "docker-" IDUP ".scope", "" },
	{ "uppercase cgroupfs", "/docker/" IDUP, KP_RT_CGROUP, "", "/docker/" IDUP, "" },
	{ "bare prefix scope", "/system.slice/docker-.scope",
	  KP_RT_SYSTEMD, "", "docker-.scope", "" },
	{ "spaces and quotes", "/system.slice/my \"odd\" 'unit'.service",
	  KP_RT_SYSTEMD, "", "my \"odd\" 'unit'.service", "" },
	{ "newline", "/foo\nbar/baz", KP_RT_CGROUP, "", "/foo\nbar/baz", "" },
	{ "just .scope", "/.scope", KP_RT_SYSTEMD, "", ".scope", "" },

	/* hybrid hosts: the unified tree carries systemd's shapes */
	{ "hybrid init scope", "/init.scope", KP_RT_SYSTEMD, "", "init.scope", "" },
	{ "hybrid journald", "/system.slice/systemd-journald.service",
	  KP_RT_SYSTEMD, "", "systemd-journald.service", "" },
	{ "hybrid cgroupfs docker stays in unit", "/system.slice/containerd.service",
	  KP_RT_SYSTEMD, "", "containerd.service", "" },
	{ "hybrid docker systemd", "/system.slice/docker-" ID ".scope",
	  KP_RT_DOCKER, ID, SID, "" },
	{ "hybrid k8s systemd", KUBE_BU "/cri-containerd-" ID ".scope",
	  KP_RT_CONTAINERD, ID, SID, UID_D },
	{ "hybrid session", "/user.slice/user-0.slice/session-1.scope",
	  KP_RT_SYSTEMD, "", "session-1.scope", "" },
	{ "hybrid podman", "/machine.slice/libpod-" ID ".scope",
	  KP_RT_PODMAN, ID, SID, "" },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Run with garbage in @out first so missing terminators show up. */
static void identify(const char *path, struct kp_identity *out)
{
	memset(out, 0xa5, sizeof(*out));
	kp_identity_from_path(path, out);
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct kp_identity out;

	identify(r->path, &out);
	assert_string_equal(kp_runtime_name(out.runtime), kp_runtime_name(r->rt));
	assert_string_equal(out.id, r->id);
	assert_string_equal(out.name, r->name);
	assert_string_equal(out.pod_uid, r->pod_uid);
}

static void test_null_path(void **state)
{
	struct kp_identity out;

	(void)state;
	identify(NULL, &out);
	assert_int_equal(out.runtime, KP_RT_CGROUP);
	assert_string_equal(out.name, "/");
	assert_string_equal(out.id, "");
}

static char *long_path(size_t prefix_len, const char *tail)
{
	size_t tl = strlen(tail), i;
	char *p = malloc(prefix_len + tl + 1);

	assert_non_null(p);
	for (i = 0; i < prefix_len; i++)
		p[i] = i % 2 ? 'a' : '/';
	memcpy(p + prefix_len, tail, tl + 1);
	return p;
}

static void test_long_container_path(void **state)
{
	struct kp_identity out;
	char *p = long_path(8000, KUBE_BU "/cri-containerd-" ID ".scope");

	(void)state;
	identify(p, &out);
	assert_int_equal(out.runtime, KP_RT_CONTAINERD);
	assert_string_equal(out.id, ID);
	assert_string_equal(out.name, SID);
	assert_string_equal(out.pod_uid, UID_D);
	free(p);
}

static void test_long_cgroup_path(void **state)
{
	struct kp_identity out;
	char *p = long_path(5000, "/leaf");

	(void)state;
	identify(p, &out);
	assert_int_equal(out.runtime, KP_RT_CGROUP);
	assert_int_equal(strlen(out.name), KP_NAME_MAX - 1);
	assert_memory_equal(out.name, p, KP_NAME_MAX - 1);
	/* without a leading '/', one is added and the copy is one shorter */
	identify(p + 1, &out);
	assert_int_equal(strlen(out.name), KP_NAME_MAX - 1);
	assert_memory_equal(out.name, p, KP_NAME_MAX - 1);
	free(p);
}

static void test_long_component(void **state)
{
	struct kp_identity out;
	char *p = malloc(6000 + sizeof("/x.service"));

	(void)state;
	assert_non_null(p);
	p[0] = '/';
	memset(p + 1, 'u', 6000);
	strcpy(p + 6001, ".service");
	identify(p, &out);
	assert_int_equal(out.runtime, KP_RT_SYSTEMD);
	assert_int_equal(strlen(out.name), KP_NAME_MAX - 1);
	assert_memory_equal(out.name, p + 1, KP_NAME_MAX - 1);
	free(p);
}

/* A cut inside a UTF-8 sequence would make an invalid label value. */
static void test_utf8_truncation(void **state)
{
	char p[KP_NAME_MAX + 8];
	struct kp_identity out;

	(void)state;
	p[0] = '/';
	memset(p + 1, 'a', KP_NAME_MAX - 3);
	strcpy(p + KP_NAME_MAX - 2, "\xc3\xa9\xc3\xa9");	/* "éé" */
	identify(p, &out);
	assert_int_equal(strlen(out.name), KP_NAME_MAX - 2);
	assert_memory_equal(out.name, p, KP_NAME_MAX - 2);
}

static void test_runtime_names(void **state)
{
	(void)state;
	assert_string_equal(kp_runtime_name(KP_RT_DOCKER), "docker");
	assert_string_equal(kp_runtime_name(KP_RT_CONTAINERD), "containerd");
	assert_string_equal(kp_runtime_name(KP_RT_CRIO), "crio");
	assert_string_equal(kp_runtime_name(KP_RT_PODMAN), "podman");
	assert_string_equal(kp_runtime_name(KP_RT_SYSTEMD), "systemd");
	assert_string_equal(kp_runtime_name(KP_RT_CGROUP), "cgroup");
	assert_string_equal(kp_runtime_name((enum kp_runtime)99), "cgroup");
}

int main(void)
{
	static const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_null_path),
		cmocka_unit_test(test_long_container_path),
		cmocka_unit_test(test_long_cgroup_path),
		cmocka_unit_test(test_long_component),
		cmocka_unit_test(test_utf8_truncation),
		cmocka_unit_test(test_runtime_names),
	};
	struct CMUnitTest tests[NROWS + sizeof(extra) / sizeof(extra[0])];
	size_t i;

	for (i = 0; i < NROWS; i++)
		tests[i] = (struct CMUnitTest){
			.name = rows[i].desc,
			.test_func = test_row,
			.initial_state = (void *)&rows[i],
		};
	memcpy(tests + NROWS, extra, sizeof(extra));
	return _cmocka_run_group_tests("container", tests,
				       sizeof(tests) / sizeof(tests[0]),
				       NULL, NULL);
}
