/* text.h - names as every output shows them. Cgroup names are arbitrary
 * bytes; JSON, logs, the terminal and label values need text. A byte that
 * is not part of valid UTF-8, or is a control character, is written as
 * the four characters \xNN, the same way in every output, so a container
 * named with such bytes is visible (and findable by that spelling) in
 * /metrics, the JSON API, the dashboard, the CLI and alerts alike. */
#ifndef KPULSE_TEXT_H
#define KPULSE_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at @s (1..4), or 0 when invalid. */
int kp_utf8_len(const unsigned char *s);

/* @in made visible into @out (always NUL-terminated, cut to fit at a
 * character boundary). Returns the length it needed (as snprintf). */
size_t kp_visible(const char *in, char *out, size_t outlen);

/* The same, malloc'ed; NULL when out of memory. */
char *kp_visible_dup(const char *in);

/* @len bytes of @src into @dst, cut to @size - 1 bytes when longer, never
 * inside a UTF-8 sequence (label values must stay valid UTF-8); always
 * NUL-terminated. */
void kp_copy_utf8(char *dst, size_t size, const char *src, size_t len);

#endif
