/* latency.c - `kpulse latency KIND`: bcc-style power-of-two histograms of
 * one latency (latkinds.h) for each interval, for the whole host, the
 * containers matching -c, or one per container. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/signals.h"
#include "cmd/cmds.h"
#include "cmd/latkinds.h"
#include "collect/collector.h"
#include "model/hist.h"
#include "model/model.h"

struct prev_hist {
	uint64_t cgid;
	uint64_t h[KP_HIST_BUCKETS];
	UT_hash_handle hh;
};

/* bcc-style histogram of fine buckets folded into power-of-two usec rows. */
static void print_hist(const char *title, const uint64_t *fine)
{
	uint64_t rows[40] = { 0 }, max = 0, total = kp_hist_total(fine);
	int last = -1;

	for (unsigned int b = 0; b < KP_HIST_BUCKETS; b++) {
		uint64_t us = kp_hist_lower(b) / 1000;
		int r = 0;

		if (!fine[b])
			continue;
		while (us >> (r + 1) && r < 39)
			r++;
		if (!us)
			r = 0;
		rows[r] += fine[b];
	}
	for (int r = 0; r < 40; r++) {
		if (rows[r] > max)
			max = rows[r];
		if (rows[r])
			last = r;
	}
	printf("%s\n%24s : %-9s distribution\n", title, "usecs", "count");
	for (int r = 0; r <= last; r++) {
		unsigned long long lo = r ? 1ull << r : 0, hi = (1ull << (r + 1)) - 1;
		int stars = max ? (int)(rows[r] * 40 / max) : 0;

		printf("%10llu -> %-10llu : %-9llu |%-40.*s|\n", lo, hi,
		       (unsigned long long)rows[r], stars,
		       "****************************************");
	}
	if (total)
		printf("total %llu  p50 %.1f us  p99 %.1f us  max %.1f us\n\n",
		       (unsigned long long)total, kp_hist_quantile(fine, 0.5) / 1e3,
		       kp_hist_quantile(fine, 0.99) / 1e3, kp_hist_quantile(fine, 1.0) / 1e3);
	else
		printf("total 0\n\n");
}

/* Add what cumulative @cur gained since @prev to @out; remember @cur. A
 * histogram that went down belongs to a new cgroup with a reused id. */
static void hist_step(uint64_t *out, const uint64_t *cur, uint64_t *prev)
{
	if (!cur)
		return;
	for (int b = 0; b < KP_HIST_BUCKETS; b++) {
		out[b] += cur[b] >= prev[b] ? cur[b] - prev[b] : cur[b];
		prev[b] = cur[b];
	}
}

static struct prev_hist *prev_get(struct prev_hist **all, uint64_t cgid)
{
	struct prev_hist *p;

	HASH_FIND(hh, *all, &cgid, sizeof(cgid), p);
	if (p || !(p = calloc(1, sizeof(*p))))
		return p;
	p->cgid = cgid;
	HASH_ADD(hh, *all, cgid, sizeof(p->cgid), p);
	return p;
}

static void latency_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse latency KIND [-c PATTERN] [--per-container] [-i INTERVAL] [-n COUNT]\n"
		"                           [--direction in|out]\n"
		"kinds:\n");
	for (size_t i = 0; i < kp_lat_nkinds; i++)
		fprintf(f, "  %-8s %s: %s\n", kp_lat_kinds[i].name, kp_lat_kinds[i].title,
			kp_lat_kinds[i].help);
	fprintf(f,
		"  -c, --container PAT  only matching containers (default: the whole host)\n"
		"  -p, --per-container  one histogram per container instead of merged\n"
		"  -i, --interval DUR   print every DUR (default 1s)\n"
		"  -n, --count N        print N times, then exit (default 1)\n"
		"  -D, --direction DIR  request only: in (requests the container served) or out\n"
		"                       (requests it made); default both, summed. Always over\n"
		"                       every port of the container.\n"
		"Rows are power-of-two microseconds; p50/p99/max come from the fine kernel\n"
		"buckets (at most 6.25%% above the exact value).\n"
		"examples:\n"
		"  kpulse latency runq -c web -i 5s -n 3\n"
		"  kpulse latency request -c api --direction in --per-container\n"
		"  kpulse latency reclaim -i 10s\n");
}

static int parse_direction(const char *s)
{
	if (!strcmp(s, "in") || !strcmp(s, "inbound"))
		return 0;
	if (!strcmp(s, "out") || !strcmp(s, "outbound"))
		return 1;
	return -1;
}

/* What the command line asked for. */
struct latency_args {
	const struct kp_latency_kind *lk;
	const char *pattern;
	long long iv;
	long count;
	int dir;		/* -1 both, 0 in, 1 out */
	bool per;
};

/* getopt; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct latency_args *a)
{
	static const struct option opts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "per-container", no_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "direction", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*a = (struct latency_args){ .iv = 1000000000ll, .count = 1, .dir = -1 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:pi:n:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->pattern = optarg;
			break;
		case 'p':
			a->per = true;
			break;
		case 'i':
			if (kp_opt_duration("latency", "-i", optarg, 100000000ll, 3600000000000ll,
					    &a->iv))
				goto usage;
			break;
		case 'n':
			if (kp_opt_count("latency", "-n", optarg, 1, 1000000000, &a->count))
				goto usage;
			break;
		case 'D':
			if ((a->dir = parse_direction(optarg)) < 0) {
				kp_err("latency: --direction '%s': expected in or out", optarg);
				goto usage;
			}
			break;
		case 'h':
			latency_usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind >= argc) {
		kp_err("latency: which latency? %s", kp_lat_kind_list());
		goto usage;
	}
	if (!(a->lk = kp_lat_kind_by_name(argv[optind]))) {
		kp_err("latency: unknown latency '%s'; expected %s", argv[optind], kp_lat_kind_list());
		goto usage;
	}
	if (optind + 1 < argc) {
		kp_err("latency: unexpected argument '%s'", argv[optind + 1]);
		goto usage;
	}
	if (a->dir >= 0 && !a->lk->has_direction) {
		kp_err("latency: --direction applies to request latency only");
		goto usage;
	}
	return -1;
usage:
	latency_usage(stderr);
	return KP_EXIT_USAGE;
}

/* One interval's histograms: merged (host or matching containers), or one
 * per container that had events. */
static void print_interval(const struct latency_args *a, struct kp_model *m,
			   struct prev_hist **prev, uint64_t *node_prev, char *title, size_t tlen)
{
	static uint64_t merged[KP_HIST_BUCKETS], d[KP_HIST_BUCKETS], scratch[KP_HIST_BUCKETS];
	const struct kp_latency_kind *lk = a->lk;
	struct kp_container *k, *ktmp;
	struct prev_hist *p;

	memset(merged, 0, sizeof(merged));
	if (!a->pattern && !a->per)
		hist_step(merged, lk->hist(m, NULL, a->dir, scratch), node_prev);
	KP_MODEL_FOR_EACH_SHOWN(m, k, ktmp) {
		if (!(a->pattern || a->per) || !kp_container_matches(k, a->pattern) ||
		    !(p = prev_get(prev, k->cgid)))
			continue;
		memset(d, 0, sizeof(d));
		/* new since the last interval: all of it is new */
		hist_step(d, lk->hist(m, k, a->dir, scratch), p->h);
		if (a->per && kp_hist_total(d)) {
			char t[640];

			snprintf(t, sizeof(t), "container = %s (%s): %s", k->ident.name, k->cgroup, title);
			print_hist(t, d);
		} else if (!a->per) {
			kp_hist_add(merged, d);
		}
	}
	if (!a->per) {
		size_t tl = strlen(title);

		snprintf(title + tl, tlen - tl, ", %s",
			 a->pattern ? "matching containers" : "whole host");
		print_hist(title, merged);
		title[tl] = 0;
	}
	fflush(stdout);
}

int do_latency(int argc, char **argv)
{
	static uint64_t node_prev[KP_HIST_BUCKETS], d[KP_HIST_BUCKETS], scratch[KP_HIST_BUCKETS];
	struct prev_hist *prev = NULL, *p, *ptmp;
	struct kp_container *k, *ktmp;
	struct latency_args a;
	struct kp_pipeline s;
	char title[640];
	int ret;

	if ((ret = parse_args(argc, argv, &a)) >= 0)
		return ret;
	ret = kp_cmd_pipeline(&s, NULL, (uint64_t)a.iv, (uint64_t)a.iv);
	if (ret)
		return ret;
	if (!kp_lat_kind_runs(s.model, a.lk, "latency")) {
		kp_pipeline_close(&s);
		return KP_EXIT_UNAVAILABLE;
	}
	/* baseline: what the host and each container had when we started */
	hist_step(d, a.lk->hist(s.model, NULL, a.dir, scratch), node_prev);
	KP_MODEL_FOR_EACH(s.model, k, ktmp)
		if ((p = prev_get(&prev, k->cgid)))
			hist_step(d, a.lk->hist(s.model, k, a.dir, scratch), p->h);
	snprintf(title, sizeof(title), "%s%s", a.lk->title,
		 a.dir < 0 ? "" : a.dir ? " (outbound)" : " (inbound)");
	for (long n = 0; n < a.count; n++) {
		bool stop = kp_signals_wait((uint64_t)a.iv, 0);

		kp_collector__collect(s.col, kp_now_mono_ns());
		print_interval(&a, s.model, &prev, node_prev, title, sizeof(title));
		if (stop)
			break;
	}
	HASH_ITER(hh, prev, p, ptmp) {
		HASH_DEL(prev, p);
		free(p);
	}
	kp_pipeline_close(&s);
	return 0;
}
