/* fuzz_cgstat.c - a cgroup's CPU bandwidth files (cpu.max, cfs quota and
 * period, cpu.stat) and memory.stat: each parser gets the same bytes (a
 * kernel may print anything; a later one will print more). */
#include <stdint.h>
#include <stddef.h>
#include "collect/cpufiles.h"
#include "collect/memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct kp_cpu_throttle t;
	struct kp_cpu_limit l;
	struct kp_memstat ms;

	kp_cpu_max_parse(s, size, &l);
	kp_cpu_cfs_parse(s, size / 2, s + size / 2, size - size / 2, &l);
	kp_cpu_stat_parse(s, size, &t);
	if (!kp_memstat_parse(s, size, &ms))
		kp_memstat_working_set(&ms, size);
	return 0;
}
