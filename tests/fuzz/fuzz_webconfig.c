/* fuzz_webconfig.c - the web config parser (libyaml underneath, crypt's
 * salt check for the hashes): any bytes give 0 or one error line, never a
 * crash, a leak or an overrun; a parsed file is consistent. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "outputs/webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_webcfg c;
	char err[512];

	if (kp_webcfg_parse("fuzz.yml", (const char *)data, size, &c, err, sizeof(err))) {
		if (!memchr(err, 0, sizeof(err)))
			__builtin_trap();	/* the error line must end */
		return 0;
	}
	if (c.tls && !(c.cert_file || c.cert_pem))
		__builtin_trap();
	if (c.min_version > c.max_version || c.n_users > KP_WEBCFG_MAX_USERS)
		__builtin_trap();
	if (!kp_webcfg_same_tls(&c, &c))
		__builtin_trap();
	kp_webcfg_free(&c);
	return 0;
}
