/* prom.c - Prometheus text format: label escaping (with UTF-8 repair, since
 * cgroup names are arbitrary bytes), samples and folded histograms. */
#include <string.h>
#include <inttypes.h>
#include "prom.h"
#include "hist.h"

/* Length of the valid UTF-8 sequence at @s, or 0 when it is invalid. */
static int utf8_len(const unsigned char *s)
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
		n = utf8_len(s);
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

void kp_prom_family(FILE *f, const char *name, const char *type,
		    const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void kp_prom_labels(FILE *f, const struct kp_label *labels, const char *extra)
{
	int n = 0;

	for (const struct kp_label *l = labels; l && l->name; l++) {
		fputc(n++ ? ',' : '{', f);
		fprintf(f, "%s=\"", l->name);
		kp_prom_escape(f, l->value ? l->value : "");
		fputc('"', f);
	}
	if (extra) {
		fputc(n++ ? ',' : '{', f);
		fputs(extra, f);
	}
	if (n)
		fputc('}', f);
}

void kp_prom_sample(FILE *f, const char *name, const struct kp_label *labels,
		    double value)
{
	fputs(name, f);
	kp_prom_labels(f, labels, NULL);
	fprintf(f, " %.9g\n", value);
}

void kp_prom_sample_u64(FILE *f, const char *name,
			const struct kp_label *labels, uint64_t value)
{
	fputs(name, f);
	kp_prom_labels(f, labels, NULL);
	fprintf(f, " %" PRIu64 "\n", value);
}

void kp_prom_histogram(FILE *f, const char *name, const struct kp_label *labels,
		       const uint64_t *fine_counts, uint64_t sum_ns)
{
	uint64_t le[32];
	char extra[48];

	kp_hist_fold_le(fine_counts, le);
	for (unsigned int i = 0; i < kp_prom_le_count; i++) {
		snprintf(extra, sizeof(extra), "le=\"%g\"", kp_prom_le[i]);
		fprintf(f, "%s_bucket", name);
		kp_prom_labels(f, labels, extra);
		fprintf(f, " %" PRIu64 "\n", le[i]);
	}
	fprintf(f, "%s_bucket", name);
	kp_prom_labels(f, labels, "le=\"+Inf\"");
	fprintf(f, " %" PRIu64 "\n", kp_hist_total(fine_counts));
	fprintf(f, "%s_sum", name);
	kp_prom_labels(f, labels, NULL);
	fprintf(f, " %.9f\n", (double)sum_ns / 1e9);
	fprintf(f, "%s_count", name);
	kp_prom_labels(f, labels, NULL);
	fprintf(f, " %" PRIu64 "\n", kp_hist_total(fine_counts));
}
