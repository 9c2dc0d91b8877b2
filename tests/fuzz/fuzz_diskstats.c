/* fuzz_diskstats.c - /proc/diskstats, twice (the second read makes rates
 * from the first). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/diskstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_disks d;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	memset(&d, 0, sizeof(d));
	kp_diskstats_parse(s, 1000000000ull, NULL, &d);
	kp_diskstats_parse(s, 3000000000ull, NULL, &d);
	if (d.n > KP_MAX_DISKS)
		__builtin_trap();
	free(s);
	return 0;
}
