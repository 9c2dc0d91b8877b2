/* fuzz_cgfiles.c - the cgroup and /proc files behind PSI, memory usage and
 * limit, a task's cgroups and a cgroup's tasks: each parser gets the same
 * bytes (a tenant controls none of them, but a kernel may print anything). */
#include <stdint.h>
#include <stddef.h>
#include "collect/memfiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct kp_psi psi;
	uint64_t v;
	bool unlimited;
	char path[256];
	int pid;

	kp_psi_parse(s, size, &psi);
	kp_memfile_parse_u64(s, size, &v);
	kp_memfile_parse_limit(s, size, &v, &unlimited);
	kp_proc_cgroup_find(s, size, "memory", path, sizeof(path));
	kp_proc_cgroup_find(s, size, "", path, sizeof(path));
	kp_cgroup_procs_first(s, size, &pid);
	kp_procs_same_set(s, size / 2, s + size / 2, size - size / 2);
	return 0;
}
