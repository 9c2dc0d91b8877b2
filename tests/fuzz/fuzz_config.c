/* fuzz_config.c - the config file parser (libyaml underneath): any bytes
 * give 0 or one error line, never a crash, a leak or an overrun. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "app/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kp_config cfg;
	char err[512];

	if (kp_config_parse("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof(err)) == 0)
		kp_config_free(&cfg);
	else if (!memchr(err, 0, sizeof(err)))
		__builtin_trap();	/* the error line must end */
	return 0;
}
