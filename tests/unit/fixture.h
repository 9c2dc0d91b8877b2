/* fixture.h - reads a file under tests/unit/fixtures for a unit test
 * (the tests run from the repository's top directory, as `make unit-test`
 * does; KP_FIXTURES overrides where the fixtures are). */
#ifndef KPULSE_TEST_FIXTURE_H
#define KPULSE_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

static inline const char *fixture_dir(void)
{
	const char *d = getenv("KP_FIXTURES");

	return d && *d ? d : "tests/unit/fixtures";
}

/* The whole file, NUL-terminated, malloc'ed; aborts the test when absent. */
static inline char *fixture(const char *name, size_t *len)
{
	char path[4096];
	size_t cap = 1 << 16, n = 0, got;
	char *buf = malloc(cap);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	f = fopen(path, "rb");
	if (!f || !buf) {
		fprintf(stderr, "fixture %s: cannot open\n", path);
		abort();
	}
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap && !(buf = realloc(buf, cap *= 2)))
			abort();
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

#endif
