/* fuzz_labels.c - label values on /metrics: any bytes in, one well-formed
 * label set out (quoted, escaped, valid UTF-8, no raw newline). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/text.h"
#include "outputs/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = malloc(size + 1), *prep, *out = NULL;
	struct kp_label l[2] = { { "container", NULL }, { NULL, NULL } };
	size_t len = 0;
	FILE *f;

	if (!v)
		return 0;
	memcpy(v, data, size);
	v[size] = 0;
	l[0].value = v;
	prep = kp_prom_prepare(l);
	f = open_memstream(&out, &len);
	if (f && prep) {
		kp_prom_sample_p(f, "kpulse_x", prep, NULL, 1);
		fclose(f);
		if (memchr(out, '\n', len) != out + len - 1)
			__builtin_trap();	/* one line per sample */
		for (const unsigned char *s = (const unsigned char *)out; *s;) {
			int n = kp_utf8_len(s);

			if (!n)
				__builtin_trap();
			s += n;
		}
	} else if (f) {
		fclose(f);
	}
	free(out);
	free(prep);
	free(v);
	return 0;
}
