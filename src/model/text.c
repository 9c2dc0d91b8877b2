/* text.c - see text.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/text.h"

int kp_utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xe0 && s[1] < 0xa0)	/* overlong */
			return 0;
		if (s[0] == 0xed && s[1] >= 0xa0)	/* surrogate */
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (s[0] == 0xf0 && s[1] < 0x90)
			return 0;
		if (s[0] == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

size_t kp_visible(const char *in, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0;

	while (*s) {
		int len = kp_utf8_len(s);
		char esc[5];
		const char *piece = (const char *)s;
		size_t plen = (size_t)len;

		if (len == 0 || (len == 1 && (*s < 0x20 || *s == 0x7f))) {
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
			piece = esc;
			plen = 4;
			len = 1;
		}
		if (outlen && n + plen < outlen)
			memcpy(out + n, piece, plen);
		else if (outlen && n < outlen)
			outlen = n + 1;	/* cut here, at a character boundary */
		n += plen;
		s += len;
	}
	if (outlen)
		out[n < outlen ? n : outlen - 1] = 0;
	return n;
}

char *kp_visible_dup(const char *in)
{
	size_t n = kp_visible(in, NULL, 0);
	char *out = malloc(n + 1);

	if (out)
		kp_visible(in, out, n + 1);
	return out;
}

void kp_copy_utf8(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size) {
		len = size - 1;
		while (len && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}
