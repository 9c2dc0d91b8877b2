/* fuzz_identity.c - a cgroup path (arbitrary bytes: tenants name their
 * cgroups) to a container identity, made visible, and matched against a
 * pattern: the second half of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "collect/container.h"
#include "model/model.h"
#include "model/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t half = size / 2;
	char *path = malloc(half + 1), *pat = malloc(size - half + 1), *shown;
	struct kp_identity id;

	if (!path || !pat)
		goto out;
	memcpy(path, data, half);
	path[half] = 0;
	memcpy(pat, data + half, size - half);
	pat[size - half] = 0;
	kp_identity_from_path(path, &id);
	if (!memchr(id.name, 0, sizeof(id.name)) || !memchr(id.id, 0, sizeof(id.id)))
		__builtin_trap();
	shown = kp_visible_dup(path);
	if (shown) {
		/* visible means valid UTF-8 without control bytes */
		for (const unsigned char *s = (const unsigned char *)shown; *s;) {
			int n = kp_utf8_len(s);

			if (!n || (n == 1 && (*s < 0x20 || *s == 0x7f)))
				__builtin_trap();
			s += n;
		}
		kp_match(pat, id.name, id.id, shown);
		free(shown);
	}
out:
	free(path);
	free(pat);
	return 0;
}
