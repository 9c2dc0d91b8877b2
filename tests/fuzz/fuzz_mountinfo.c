/* fuzz_mountinfo.c - /proc/self/mountinfo as the cgroup mounts are found
 * in it (v2, and a v1 controller on hybrid hosts). */
#include <stdint.h>
#include <stdio.h>
#include "collect/cgroup.h"
#include "collect/memfiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[4096], root[4096];
	FILE *f;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f) {
		kp_cgroup_find_v2(f, out, sizeof(out));
		fclose(f);
	}
	f = fmemopen((void *)data, size, "r");
	if (f) {
		kp_cgroup_find_v1(f, "memory", out, sizeof(out), root, sizeof(root));
		fclose(f);
	}
	return 0;
}
