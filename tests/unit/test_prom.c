/* test_prom.c - Prometheus text output: label escaping of hostile cgroup
 * names (quotes, backslashes, newlines, invalid UTF-8) and histogram lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "outputs/prom.h"
#include "model/hist.h"

static char *escaped(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_prom_escape(f, in);
	fclose(f);
	return buf;
}

#define ASSERT_ESCAPE(in, want)                    \
	do {                                       \
		char *got = escaped(in);           \
		assert_string_equal(got, want);    \
		free(got);                         \
	} while (0)

static void test_plain(void **s)
{
	(void)s;
	ASSERT_ESCAPE("/system.slice/nginx.service", "/system.slice/nginx.service");
	ASSERT_ESCAPE("", "");
}

static void test_specials(void **s)
{
	(void)s;
	ASSERT_ESCAPE("a\"b", "a\\\"b");
	ASSERT_ESCAPE("a\\b", "a\\\\b");
	ASSERT_ESCAPE("a\nb", "a\\nb");
	ASSERT_ESCAPE("\\\"\n", "\\\\\\\"\\n");
	ASSERT_ESCAPE("tab\there", "tab\there");	/* tabs are legal */
}

static void test_utf8(void **s)
{
	(void)s;
	ASSERT_ESCAPE("caf\xc3\xa9", "caf\xc3\xa9");			/* é */
	ASSERT_ESCAPE("\xe2\x82\xac", "\xe2\x82\xac");			/* € */
	ASSERT_ESCAPE("\xf0\x9f\x90\xb3", "\xf0\x9f\x90\xb3");		/* whale */
	ASSERT_ESCAPE("a\xff" "b", "a\xef\xbf\xbd" "b");		/* stray byte */
	ASSERT_ESCAPE("\xc3", "\xef\xbf\xbd");				/* truncated */
	ASSERT_ESCAPE("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");		/* overlong */
	ASSERT_ESCAPE("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	ASSERT_ESCAPE("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ASSERT_ESCAPE("\xe2\x82" "\"", "\xef\xbf\xbd\xef\xbf\xbd\\\"");
}

static char *render_sample(const struct kp_label *l, double v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kp_prom_sample(f, "m", l, v);
	fclose(f);
	return buf;
}

static void test_labels(void **s)
{
	const struct kp_label l[] = { { "container", "we\"ird\n" }, { "runtime", "cgroup" },
				      { NULL, NULL } };
	char *out;

	(void)s;
	out = render_sample(l, 1.5);
	assert_string_equal(out, "m{container=\"we\\\"ird\\n\",runtime=\"cgroup\"} 1.5\n");
	free(out);
	out = render_sample(NULL, 2);
	assert_string_equal(out, "m 2\n");
	free(out);
}

/* Values keep their digits: a start time to the second, a CPU counter of
 * years to the microsecond; short values stay short. */
static void test_value_digits(void **s)
{
	const struct { double v; const char *want; } cases[] = {
		{ 1734567891, "m 1734567891\n" },
		{ 94608000.123456789, "m 94608000.1234568\n" },
		{ 5555.000000005, "m 5555.000000005\n" },
		{ 0.0123, "m 0.0123\n" },
		{ 1.0 / 30, "m 0.0333333333333333\n" },
		{ 0, "m 0\n" },
	};

	(void)s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = render_sample(NULL, cases[i].v);

		assert_string_equal(out, cases[i].want);
		free(out);
	}
}

static void test_histogram_lines(void **s)
{
	static uint64_t counts[KP_HIST_BUCKETS];
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned int buckets = 0;
	unsigned long long last = 0, v;

	(void)s;
	memset(counts, 0, sizeof(counts));
	counts[kp_hist_bucket(500)] = 3;	/* 0.5 us */
	counts[kp_hist_bucket(3000000)] = 2;	/* 3 ms */
	counts[kp_hist_bucket(30000000000ull)] = 1;	/* 30 s: only +Inf */
	kp_prom_histogram(f, "h", NULL, counts, 30006001500ull);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "h_bucket{le=", 12)) {
			assert_int_equal(sscanf(strrchr(line, ' '), " %llu", &v), 1);
			assert_true(v >= last);	/* cumulative */
			last = v;
			buckets++;
			if (strstr(line, "le=\"1e-06\""))
				assert_int_equal(v, 3);
			if (strstr(line, "le=\"0.005\""))
				assert_int_equal(v, 5);
			if (strstr(line, "le=\"10\""))
				assert_int_equal(v, 5);
			if (strstr(line, "le=\"+Inf\""))
				assert_int_equal(v, 6);
		} else if (!strncmp(line, "h_sum ", 6)) {
			assert_string_equal(line, "h_sum 30.006001500");
		} else if (!strncmp(line, "h_count ", 8)) {
			assert_string_equal(line, "h_count 6");
		} else {
			fail_msg("unexpected line %s", line);
		}
	}
	assert_int_equal(buckets, kp_prom_le_count + 1);
	free(buf);
}

/* A histogram with prepared labels and an extra pair, written through the
 * buffer (short labels) and line by line (labels too long for it): every
 * line is the name, the labels, le and the cumulative count, in order. */
static void hist_expect(const char *prep, const char *extra)
{
	static uint64_t counts[KP_HIST_BUCKETS];
	char *buf = NULL, *want = NULL, lab[64];
	size_t len = 0, wlen = 0;
	FILE *f = open_memstream(&buf, &len), *w = open_memstream(&want, &wlen);
	uint64_t le[64], total;

	memset(counts, 0, sizeof(counts));
	counts[kp_hist_bucket(700)] = 4;
	counts[kp_hist_bucket(40000)] = 9;
	counts[kp_hist_bucket(7000000)] = 1;
	total = kp_hist_fold_le(counts, le);
	kp_prom_histogram_p(f, "h", prep, extra, counts, 123456789);
	fclose(f);
	for (unsigned int i = 0; i <= kp_prom_le_count; i++) {
		if (i < kp_prom_le_count)
			snprintf(lab, sizeof(lab), "le=\"%g\"", kp_prom_le[i]);
		else
			snprintf(lab, sizeof(lab), "le=\"+Inf\"");
		fprintf(w, "h_bucket{%s%s%s%s%s} %llu\n", prep ? prep : "", prep ? "," : "",
			extra ? extra : "", extra ? "," : "", lab,
			(unsigned long long)(i < kp_prom_le_count ? le[i] : total));
	}
	fprintf(w, "h_sum{%s%s%s} 0.123456789\nh_count{%s%s%s} 14\n", prep ? prep : "",
		prep && extra ? "," : "", extra ? extra : "", prep ? prep : "",
		prep && extra ? "," : "", extra ? extra : "");
	fclose(w);
	assert_string_equal(buf, want);
	free(buf);
	free(want);
}

static void test_histogram_prepared_both_ways(void **s)
{
	char *big = malloc(2000);

	(void)s;
	hist_expect("container=\"c1\",runtime=\"docker\"", NULL);
	hist_expect("container=\"c1\"", "direction=\"inbound\",port=\"80\"");
	memset(big, 'x', 1999);
	big[0] = 'a', big[1] = '=', big[2] = '"', big[1998] = '"', big[1999] = '\0';
	hist_expect(big, NULL);			/* past the buffer's prefix bound */
	hist_expect(big, "port=\"80\"");
	big[600] = '"', big[601] = '\0';
	hist_expect(big, NULL);			/* near it */
	free(big);
}

/* The family lines of both formats, and the prepared-label path with an
 * extra pair (what every per-container series goes through). */
static void test_families_and_prepared(void **s)
{
	const struct kp_label l[] = { { "container", "a\"b" }, { NULL, NULL } };
	char *buf = NULL, *prep = kp_prom_prepare(l);
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)s;
	assert_string_equal(prep, "container=\"a\\\"b\"");
	kp_prom_begin(f, false);
	kp_prom_family(f, "x_total", "counter", "say \"hi\"");
	kp_prom_sample_u64_p(f, "x_total", prep, "kind=\"v\"", 18446744073709551615ull);
	kp_prom_end(f);
	kp_prom_begin(f, true);
	kp_prom_family(f, "x_total", "counter", "say \"hi\"");
	kp_prom_family(f, "g", "gauge", "a\\b");
	kp_prom_sample_u64_p(f, "g", NULL, NULL, 0);
	kp_prom_end(f);
	fclose(f);
	assert_string_equal(buf,
		"# HELP x_total say \"hi\"\n# TYPE x_total counter\n"
		"x_total{container=\"a\\\"b\",kind=\"v\"} 18446744073709551615\n"
		"# HELP x say \\\"hi\\\"\n# TYPE x counter\n"
		"# HELP g a\\\\b\n# TYPE g gauge\n"
		"g 0\n# EOF\n");
	free(buf);
	free(prep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_specials),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_value_digits),
		cmocka_unit_test(test_histogram_lines),
		cmocka_unit_test(test_histogram_prepared_both_ways),
		cmocka_unit_test(test_families_and_prepared),
	};
	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
