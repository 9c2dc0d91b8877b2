/* identity.c - names of the runtimes (see identity.h). */
#include "model/identity.h"

const char *kp_runtime_name(enum kp_runtime rt)
{
	static const char *const names[] = {
		[KP_RT_CGROUP] = "cgroup",
		[KP_RT_DOCKER] = "docker",
		[KP_RT_CONTAINERD] = "containerd",
		[KP_RT_CRIO] = "crio",
		[KP_RT_PODMAN] = "podman",
		[KP_RT_SYSTEMD] = "systemd",
	};

	if ((unsigned)rt >= sizeof(names) / sizeof(names[0]))
		return "cgroup";
	return names[rt];
}
