/* fuzz_duration.c - durations as users write them ("500ms", "2s", "1m"):
 * command-line flags, config values and the API's ?window=. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	long long v;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	v = kp_parse_duration(s);
	if (v < -1)
		__builtin_trap();	/* -1 is the only error value */
	free(s);
	return 0;
}
