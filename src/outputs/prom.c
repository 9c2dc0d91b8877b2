/* prom.c - Prometheus text format: label escaping (with UTF-8 repair, since
 * cgroup names are arbitrary bytes), samples and folded histograms. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "outputs/prom.h"
#include "model/hist.h"
#include "model/text.h"

static void put_labels(FILE *f, const char *prep, const char *extra);

void kp_prom_escape(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		const unsigned char *run = s;
		int n;

		/* the common case: a run of plain ASCII written at once */
		while (*s >= 0x20 && *s < 0x80 && *s != '\\' && *s != '"')
			s++;
		if (s > run)
			fwrite(run, 1, s - run, f);
		if (!*s)
			break;
		n = kp_utf8_len(s);
		if (n == 0) {
			fputs("\xef\xbf\xbd", f);
			s++;
		} else if (n > 1) {
			fwrite(s, 1, n, f);
			s += n;
		} else {
			switch (*s) {
			case '\\': fputs("\\\\", f); break;
			case '"': fputs("\\\"", f); break;
			case '\n': fputs("\\n", f); break;
			default: fputc(*s, f);
			}
			s++;
		}
	}
}

/* The exposition being written: text 0.0.4 or OpenMetrics 1.0 (one scrape
 * at a time: the daemon renders from its single thread). */
static bool openmetrics;

void kp_prom_begin(FILE *f, bool om)
{
	(void)f;
	openmetrics = om;
}

void kp_prom_end(FILE *f)
{
	if (openmetrics)
		fputs("# EOF\n", f);
	openmetrics = false;
}

void kp_prom_family(FILE *f, const char *name, const char *type,
		    const char *help)
{
	size_t n = strlen(name);

	if (!openmetrics) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
		return;
	}
	/* OpenMetrics names a counter family without its _total suffix and
	 * escapes double quotes in HELP too */
	if (!strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	fprintf(f, "# HELP %.*s ", (int)n, name);
	for (const char *h = help; *h; h++) {
		if (*h == '"' || *h == '\\')
			fputc('\\', f);
		if (*h == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*h, f);
	}
	fprintf(f, "\n# TYPE %.*s %s\n", (int)n, name, type);
}

char *kp_prom_prepare(const struct kp_label *labels)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0;

	if (!f)
		return NULL;
	for (const struct kp_label *l = labels; l && l->name; l++) {
		if (n++)
			fputc(',', f);
		fprintf(f, "%s=\"", l->name);
		kp_prom_escape(f, l->value ? l->value : "");
		fputc('"', f);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void kp_prom_labels(FILE *f, const struct kp_label *labels, const char *extra)
{
	char *prep = labels && labels->name ? kp_prom_prepare(labels) : NULL;

	put_labels(f, prep, extra);
	free(prep);
}

/* The hot part of a scrape: {prepared,extra}, no formatting calls. */
static void put_labels(FILE *f, const char *prep, const char *extra)
{
	bool any = prep && *prep;

	if (!any && !extra)
		return;
	fputc_unlocked('{', f);
	if (any)
		fputs_unlocked(prep, f);
	if (extra) {
		if (any)
			fputc_unlocked(',', f);
		fputs_unlocked(extra, f);
	}
	fputc_unlocked('}', f);
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* @v in decimal at @p (at most 20 bytes); returns the end. */
static char *put_u64_mem(char *p, uint64_t v)
{
	char buf[24], *q = buf + sizeof(buf);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_str(p, q, buf + sizeof(buf) - q);
}

static void put_u64(FILE *f, uint64_t v)
{
	char buf[24];

	fwrite_unlocked(buf, 1, put_u64_mem(buf, v) - buf, f);
}

static void put_line_u64(FILE *f, const char *name, const char *suffix, const char *prep,
			 const char *extra, uint64_t v)
{
	fputs_unlocked(name, f);
	if (suffix)
		fputs_unlocked(suffix, f);
	put_labels(f, prep, extra);
	fputc_unlocked(' ', f);
	put_u64(f, v);
	fputc_unlocked('\n', f);
}

static void put_line_dbl(FILE *f, const char *name, const char *suffix, const char *prep,
			 const char *extra, const char *fmt, double v)
{
	char num[40];

	fputs_unlocked(name, f);
	if (suffix)
		fputs_unlocked(suffix, f);
	put_labels(f, prep, extra);
	snprintf(num, sizeof(num), fmt, v);
	fputs_unlocked(num, f);
	fputc_unlocked('\n', f);
}

void kp_prom_sample_p(FILE *f, const char *name, const char *prep, const char *extra,
		      double value)
{
	/* 15 digits: a counter in seconds keeps its nanoseconds up to 1e6 s
	 * and whole seconds up to 1e15 (9 lost a second of a start time) */
	put_line_dbl(f, name, NULL, prep, extra, " %.15g", value);
}

void kp_prom_sample_u64_p(FILE *f, const char *name, const char *prep, const char *extra,
			  uint64_t value)
{
	put_line_u64(f, name, NULL, prep, extra, value);
}

void kp_prom_sample_milli_p(FILE *f, const char *name, const char *prep, const char *extra,
			    uint64_t milli)
{
	char num[8];

	fputs_unlocked(name, f);
	put_labels(f, prep, extra);
	fputc_unlocked(' ', f);
	put_u64(f, milli / 1000);
	snprintf(num, sizeof(num), ".%03u\n", (unsigned int)(milli % 1000));
	fputs_unlocked(num, f);
}

/* le="..." of every bound, formatted once. */
static const char *le_label(unsigned int i)
{
	static char le[64][24];
	static bool done;

	if (!done) {
		for (unsigned int j = 0; j < kp_prom_le_count && j < 64; j++)
			snprintf(le[j], sizeof(le[j]), "le=\"%g\"", kp_prom_le[j]);
		done = true;
	}
	return le[i];
}

/* A histogram's lines share everything before their le label: made once,
 * copied per bound, and the lines go out in a write or two instead of
 * eight calls each (on a scrape of 1,000 containers,
 * 24,000 bucket lines made most of the render's CPU). A prefix too long
 * for the buffer (hostile label values) takes the line-by-line way. */
#define HIST_BUF 8192
#define HIST_PREFIX_MAX 512

static size_t hist_prefix(char *out, const char *name, const char *prep, const char *extra)
{
	size_t nn = strlen(name), np = prep ? strlen(prep) : 0, ne = extra ? strlen(extra) : 0;
	char *p = out;

	if (nn + np + ne + 16 > HIST_PREFIX_MAX)
		return 0;
	p = put_str(p, name, nn);
	p = put_str(p, "_bucket{", 8);
	if (np) {
		p = put_str(p, prep, np);
		*p++ = ',';
	}
	if (ne) {
		p = put_str(p, extra, ne);
		*p++ = ',';
	}
	return p - out;
}

void kp_prom_histogram_p(FILE *f, const char *name, const char *prep,
			 const char *extra, const uint64_t *fine_counts, uint64_t sum_ns)
{
	uint64_t le[32], total = kp_hist_fold_le(fine_counts, le);
	char pfx[HIST_PREFIX_MAX], buf[HIST_BUF], *p = buf;
	size_t pre = hist_prefix(pfx, name, prep, extra);

	if (!pre) {
		char lab[128];

		for (unsigned int i = 0; i <= kp_prom_le_count; i++) {
			const char *b = i < kp_prom_le_count ? le_label(i) : "le=\"+Inf\"";

			if (extra) {	/* rare: port and direction of request latency */
				snprintf(lab, sizeof(lab), "%s,%s", extra, b);
				b = lab;
			}
			put_line_u64(f, name, "_bucket", prep, b,
				     i < kp_prom_le_count ? le[i] : total);
		}
	} else {
		for (unsigned int i = 0; i <= kp_prom_le_count; i++) {
			const char *b = i < kp_prom_le_count ? le_label(i) : "le=\"+Inf\"";

			/* a line: the prefix, an le label (< 24), "} ", 20 digits, \n */
			if ((size_t)(buf + sizeof(buf) - p) < pre + 48) {
				fwrite_unlocked(buf, 1, p - buf, f);
				p = buf;
			}
			p = put_str(p, pfx, pre);
			p = put_str(p, b, strlen(b));
			p = put_str(p, "} ", 2);
			p = put_u64_mem(p, i < kp_prom_le_count ? le[i] : total);
			*p++ = '\n';
		}
		fwrite_unlocked(buf, 1, p - buf, f);
	}
	put_line_dbl(f, name, "_sum", prep, extra, " %.9f", (double)sum_ns / 1e9);
	put_line_u64(f, name, "_count", prep, extra, total);
}

/* The same with a label array, for the few series outside containers. */
void kp_prom_sample(FILE *f, const char *name, const struct kp_label *labels,
		    double value)
{
	char *prep = labels && labels->name ? kp_prom_prepare(labels) : NULL;

	kp_prom_sample_p(f, name, prep, NULL, value);
	free(prep);
}

void kp_prom_sample_u64(FILE *f, const char *name,
			const struct kp_label *labels, uint64_t value)
{
	char *prep = labels && labels->name ? kp_prom_prepare(labels) : NULL;

	kp_prom_sample_u64_p(f, name, prep, NULL, value);
	free(prep);
}

void kp_prom_histogram(FILE *f, const char *name, const struct kp_label *labels,
		       const uint64_t *fine_counts, uint64_t sum_ns)
{
	char *prep = labels && labels->name ? kp_prom_prepare(labels) : NULL;

	kp_prom_histogram_p(f, name, prep, NULL, fine_counts, sum_ns);
	free(prep);
}
