/* test_http_headers.c - Accept-Encoding as real clients send it
 * (Prometheus, curl --compressed, browsers) and as hostile ones might. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_gzip),
		cmocka_unit_test(test_refuses_gzip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
