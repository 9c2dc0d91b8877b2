/* test_http_headers.c - Accept-Encoding as real clients send it
 * (Prometheus, curl --compressed, browsers) and as hostile ones might. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <cmocka.h>
#include "outputs/http_headers.h"

static void test_accepts_gzip(void **st)
{
	(void)st;
	assert_true(kp_http_accepts_gzip("gzip"));			/* Prometheus */
	assert_true(kp_http_accepts_gzip("deflate, gzip"));		/* curl */
	assert_true(kp_http_accepts_gzip("gzip, deflate, br, zstd"));	/* browsers */
	assert_true(kp_http_accepts_gzip("GZIP"));
	assert_true(kp_http_accepts_gzip("x-gzip"));
	assert_true(kp_http_accepts_gzip(" gzip ;q=0.5"));
	assert_true(kp_http_accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
	assert_true(kp_http_accepts_gzip("*"));
	assert_true(kp_http_accepts_gzip("identity, *;q=1"));
}

static void test_refuses_gzip(void **st)
{
	(void)st;
	assert_false(kp_http_accepts_gzip(NULL));
	assert_false(kp_http_accepts_gzip(""));
	assert_false(kp_http_accepts_gzip("identity"));
	assert_false(kp_http_accepts_gzip("gzip;q=0"));
	assert_false(kp_http_accepts_gzip("gzip;q=0.000"));
	assert_false(kp_http_accepts_gzip("*, gzip;q=0"));
	assert_false(kp_http_accepts_gzip("*;q=0"));
	assert_false(kp_http_accepts_gzip("gzipx, xgzip, gzi"));
	assert_false(kp_http_accepts_gzip("gzip;q=abc"));
	assert_false(kp_http_accepts_gzip("gzip;q=2"));
	assert_false(kp_http_accepts_gzip(",,,;;;"));
	assert_false(kp_http_accepts_gzip("deflate;q=1;gzip"));
}

/* Origin against Host, as browsers send them. */
static void test_same_origin(void **st)
{
	(void)st;
	assert_true(kp_http_same_origin("http://127.0.0.1:9477", "127.0.0.1:9477", false));
	assert_true(kp_http_same_origin("http://Node1.example:9477", "node1.EXAMPLE:9477", false));
	assert_true(kp_http_same_origin("http://node1", "node1:80", false));
	assert_true(kp_http_same_origin("https://node1", "node1", true));
	assert_true(kp_http_same_origin("https://[::1]:9477", "[::1]:9477", true));
	/* another site, port or scheme */
	assert_false(kp_http_same_origin("http://evil.example", "node1:9477", false));
	assert_false(kp_http_same_origin("http://node1:9478", "node1:9477", false));
	assert_false(kp_http_same_origin("https://node1:9477", "node1:9477", false));
	assert_false(kp_http_same_origin("http://node1:9477", "node1:9477", true));
	assert_false(kp_http_same_origin("http://node1.evil.example:9477", "node1:9477", false));
	/* null and malformed origins, a missing Host */
	assert_false(kp_http_same_origin("null", "node1:9477", false));
	assert_false(kp_http_same_origin("http://node1:9477", NULL, false));
	assert_false(kp_http_same_origin(NULL, "node1:9477", false));
	assert_false(kp_http_same_origin("http://", "node1", false));
	assert_false(kp_http_same_origin("http://node1:", "node1:80", false));
	assert_false(kp_http_same_origin("http://node1:99999", "node1:99999", false));
	assert_false(kp_http_same_origin("http://user@node1", "user@node1", false));
	assert_false(kp_http_same_origin("http://node1/path", "node1/path", false));
	assert_false(kp_http_same_origin("http://[::1", "[::1", false));
	assert_false(kp_http_same_origin("http://[::1]x", "[::1]x", false));
	assert_false(kp_http_same_origin("http://node1:+80", "node1:+80", false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_refuses_gzip),
		cmocka_unit_test(test_same_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
