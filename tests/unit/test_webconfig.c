/* test_webconfig.c - the exporter-toolkit web config: files as
 * node_exporter users write them, and every kind of mistake reported at
 * its line and column. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "outputs/webconfig.h"

/* htpasswd -nbBC 10 alice s3cret */
#define HASH "$2y$10$40DISLwRLRCLBtvig.JGL./i7idskeuH38h5WkGBpxkKToNoBjI.S"

static int parse(const char *text, struct kp_webcfg *c, char *err)
{
	return kp_webcfg_parse("web.yml", text, strlen(text), c, err, 256);
}

static void test_full_file(void **st)
{
	struct kp_webcfg c;
	char err[256] = "";

	(void)st;
	assert_int_equal(parse("# node_exporter's example\n"
			       "tls_server_config:\n"
			       "  cert_file: server.crt\n"
			       "  key_file: server.key\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n"
			       "  client_ca_file: ca.crt\n"
			       "  min_version: TLS13\n"
			       "  client_allowed_sans: [prometheus.example, 10.0.0.1]\n"
			       "  prefer_server_cipher_suites: true\n"
			       "http_server_config:\n"
			       "  http2: false\n"
			       "basic_auth_users:\n"
			       "  alice: " HASH "\n"
			       "  bob: '" HASH "'\n", &c, err), 0);
	assert_true(c.tls);
	assert_string_equal(c.cert_file, "server.crt");
	assert_string_equal(c.key_file, "server.key");
	assert_string_equal(c.client_ca_file, "ca.crt");
	assert_int_equal(c.client_auth, KP_CLIENT_REQUIRE_VERIFY);
	assert_int_equal(c.min_version, KP_TLS13);
	assert_int_equal(c.max_version, KP_TLS13);
	assert_int_equal(c.n_sans, 2);
	assert_string_equal(c.allowed_sans[1], "10.0.0.1");
	assert_int_equal(c.n_users, 2);
	assert_string_equal(c.users[0].name, "alice");
	assert_string_equal(c.users[1].hash, HASH);
	kp_webcfg_free(&c);
}

static void test_defaults_and_plain(void **st)
{
	struct kp_webcfg c, d;
	char err[256];

	(void)st;
	/* users only: no TLS; versions default to 1.2 .. 1.3 */
	assert_int_equal(parse("basic_auth_users:\n  alice: " HASH "\n", &c, err), 0);
	assert_false(c.tls);
	assert_int_equal(c.min_version, 0x0303);
	assert_int_equal(c.max_version, KP_TLS13);
	/* "{}" on purpose: nothing at all */
	assert_int_equal(parse("{}\n", &d, err), 0);
	assert_false(d.tls);
	assert_int_equal(d.n_users, 0);
	assert_false(kp_webcfg_same_tls(&c, &d) == false);
	kp_webcfg_free(&c);
	kp_webcfg_free(&d);
	/* inline PEM instead of files, null values unset */
	assert_int_equal(parse("tls_server_config:\n  cert: |\n    -----BEGIN X-----\n"
			       "  key: k\n  client_ca_file: ~\nbasic_auth_users:\n", &c, err), 0);
	assert_true(c.tls);
	assert_string_equal(c.cert_pem, "-----BEGIN X-----\n");
	assert_null(c.client_ca_file);
	kp_webcfg_free(&c);
}

static void expect_error(const char *text, const char *where, const char *words)
{
	struct kp_webcfg c;
	char err[256] = "";

	assert_int_equal(parse(text, &c, err), -EINVAL);
	if (!strstr(err, where) || !strstr(err, words))
		fail_msg("for %s: got '%s', wanted '%s' and '%s'", text, err, where, words);
	assert_null(c.users);
}

static void test_errors(void **st)
{
	(void)st;
	expect_error("", "web.yml:1:1", "empty web config");
	expect_error("# only a comment\n", "web.yml:1:1", "write {}");
	expect_error("tls_server_config: {cert_file: a, key_file: b\n", "web.yml", "YAML");
	expect_error("a: 1\n---\nb: 2\n", "web.yml:3:1", "one YAML document");
	expect_error("- a\n", "web.yml:1:1", "expected a mapping");
	expect_error("tls_config:\n  cert_file: a\n", "web.yml:1:1", "unknown key 'tls_config'");
	expect_error("tls_server_config:\n  cert_file: a\n  cert_file: b\n", "web.yml:3:3",
		     "given twice");
	expect_error("tls_server_config:\n  cert_file: a\n", "web.yml:1:1",
		     "one of key_file or key");
	expect_error("tls_server_config:\n  key_file: a\n", "web.yml:1:1",
		     "one of cert_file or cert");
	expect_error("tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: k\n",
		     "web.yml:1:1", "one of cert_file or cert");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
		     "web.yml:1:1", "without a client_auth_type");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		     "  client_auth_type: RequireAndVerifyClientCert\n",
		     "web.yml:1:1", "needs client_ca_file");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		     "  client_auth_type: Sometimes\n", "web.yml:4:21", "is not one of");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
		     "web.yml:4:16", "expected TLS10");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
		     "  max_version: TLS12\n", "web.yml:1:1", "above max_version");
	/* found by fuzz_webconfig: an empty cert turns TLS off, and the
	 * default min_version (TLS12) above max_version was let through */
	expect_error("tls_server_config:\n  cert: |\n  max_version: TLS11\n", "web.yml:1:1",
		     "above max_version");
	expect_error("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		     "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", "web.yml:4:3", "not supported");
	expect_error("tls_server_config:\n  cert_file: [a]\n", "web.yml:2:14",
		     "expected a single value");
	expect_error("tls_server_config:\n  prefer_server_cipher_suites: maybe\n", "web.yml:2:32",
		     "true or false");
	expect_error("http_server_config:\n  headers: {X-Frame-Options: deny}\n", "web.yml:2:3",
		     "not supported");
	expect_error("rate_limit:\n  burst: 10\n", "web.yml:1:1", "not supported");
	expect_error("basic_auth_users:\n  alice: s3cret\n", "web.yml:2:10", "not a bcrypt hash");
	expect_error("basic_auth_users:\n  alice: $1$abc$abcdefghijklmnopqrstuv\n", "web.yml:2:10",
		     "htpasswd -nBC 10 alice");
	expect_error("basic_auth_users:\n  'a:b': " HASH "\n", "web.yml:2:3", "without ':'");
	expect_error("basic_auth_users:\n  alice: " HASH "\n  alice: " HASH "\n", "web.yml:3:3",
		     "given twice");
	expect_error("basic_auth_users: [alice]\n", "web.yml:1:19", "mapping of user");
	expect_error("tls_server_config:\n  client_allowed_sans: a\n", "web.yml:2:24",
		     "expected a list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_defaults_and_plain),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
