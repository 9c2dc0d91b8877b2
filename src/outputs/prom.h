/* prom.h - Prometheus text exposition (0.0.4) helpers writing to a FILE
 * (an open_memstream buffer in the daemon). Pure formatting, no sockets. */
#ifndef KPULSE_PROM_H
#define KPULSE_PROM_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include "model/label.h"

/* Write @s as a label value body: backslash, double quote and newline are
 * escaped; invalid UTF-8 bytes become U+FFFD. */
void kp_prom_escape(FILE *f, const char *s);

/* One exposition: @openmetrics selects OpenMetrics 1.0 (counter families
 * named without _total, quotes escaped in HELP, "# EOF" at the end) over
 * text 0.0.4 for everything written until kp_prom_end. Not reentrant. */
void kp_prom_begin(FILE *f, bool openmetrics);
void kp_prom_end(FILE *f);

/* # HELP and # TYPE lines. */
void kp_prom_family(FILE *f, const char *name, const char *type,
		    const char *help);

/* A label set: pairs of name, value; NULL name ends it. Written as
 * {a="x",b="y"} (nothing when empty). @extra is an already formatted
 * trailing label pair such as le="0.5" or NULL. */
void kp_prom_labels(FILE *f, const struct kp_label *labels, const char *extra);

/* name{labels} value */
void kp_prom_sample(FILE *f, const char *name, const struct kp_label *labels,
		    double value);
void kp_prom_sample_u64(FILE *f, const char *name,
			const struct kp_label *labels, uint64_t value);

/* A histogram from fine log-linear buckets (ns) and a sum in ns, exported
 * in seconds on the fixed kp_prom_le bounds. */
void kp_prom_histogram(FILE *f, const char *name, const struct kp_label *labels,
		       const uint64_t *fine_counts, uint64_t sum_ns);

/* A label set escaped once into a malloc'ed 'a="x",b="y"' (NULL when out
 * of memory): for series written every scrape, the *_p variants take it,
 * plus @extra, an already formatted trailing pair such as kind="voluntary"
 * or NULL. */
char *kp_prom_prepare(const struct kp_label *labels);
void kp_prom_sample_p(FILE *f, const char *name, const char *prep, const char *extra,
		      double value);
void kp_prom_sample_u64_p(FILE *f, const char *name, const char *prep, const char *extra,
			  uint64_t value);
/* @milli thousandths written exactly as a decimal ("57.960"), for kernel
 * millisecond counters shown in seconds. */
void kp_prom_sample_milli_p(FILE *f, const char *name, const char *prep, const char *extra,
			    uint64_t milli);
void kp_prom_histogram_p(FILE *f, const char *name, const char *prep,
			 const char *extra, const uint64_t *fine_counts, uint64_t sum_ns);

#endif
