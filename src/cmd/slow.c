/* slow.c - `kpulse slow`: stream single events at or over a threshold
 * (run-queue waits, requests, reclaim stalls) from a ring buffer; the
 * thresholds are BPF rodata, so nothing below them leaves the kernel. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/signals.h"
#include "cmd/cmds.h"
#include "cmd/latkinds.h"
#include "collect/collector.h"
#include "collect/slow_read.h"
#include "model/model.h"

struct slow_ctx {
	const char *pattern;
	bool json;
	uint64_t shown, filtered;
	double mono_to_real;	/* add to CLOCK_MONOTONIC seconds for wall time */
};

static void slow_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse slow [--runq DUR] [--request DUR] [--reclaim DUR] [-c PATTERN]\n"
		"                   [--json] [-d DURATION]\n"
		"  --runq DUR           run-queue waits of at least DUR\n"
		"  --request DUR        requests (any TCP request/response protocol) of at\n"
		"                       least DUR, inbound and outbound, with their port\n"
		"  --reclaim DUR        memory reclaim stalls (direct or memcg) of at least DUR\n"
		"                       (only the kinds given are watched; none: --runq 10ms)\n"
		"  -c, --container PAT  only matching containers\n"
		"  --json               one JSON object per line (kind runq, request, reclaim)\n"
		"  -d, --duration DUR   stop after DUR (default: until Ctrl-C)\n"
		"Thresholds are set in the kernel: nothing below them leaves the kernel.\n"
		"Each line: time, container, pid, tid, comm, kind, value, and for runq the\n"
		"task that held the CPU, for request its direction and port, for reclaim\n"
		"direct or memcg. A request is charged to the socket's container; pid and\n"
		"comm are the task that answered it (inbound) or read the answer (outbound).\n"
		"Events lost to a full ring buffer are counted on stderr.\n"
		"examples:\n"
		"  kpulse slow --runq 20ms -c web\n"
		"  kpulse slow --request 200ms --reclaim 5ms --json\n");
}

/* The kind-specific end of a line, and the same as JSON members. */
static json_t *slow_detail(const struct kp_slow_event *e, char *buf, size_t len)
{
	char other[17];
	const char *what;

	switch (e->kind) {
	case KP_SLOW_RUNQ:
		snprintf(other, sizeof(other), "%.16s", e->other_comm);
		snprintf(buf, len, "held by %u %s", e->other_pid, other);
		return json_pack("{s:{s:i, s:s}}", "held_by", "tid", (int)e->other_pid, "comm", other);
	case KP_SLOW_RECLAIM:
		what = e->detail == KP_RECLAIM_DIRECT ? "direct" : "memcg";
		snprintf(buf, len, "%s", what);
		return json_pack("{s:s}", "reclaim", what);
	default:
		what = e->dir == KP_DIR_INBOUND ? "inbound" : "outbound";
		snprintf(buf, len, "%s port %u", what, e->port);
		return json_pack("{s:s, s:i}", "direction", what, "port", (int)e->port);
	}
}

static void on_slow(void *arg, const struct kp_slow_event *e, const char *path,
		    const struct kp_identity *idp)
{
	struct slow_ctx *x = arg;
	const struct kp_latency_kind *lk = kp_lat_kind_by_slow(e->kind);
	const struct kp_identity id = *idp;
	char ts[32], comm[17], detail[64], cgid[24];
	json_t *more;
	double t;
	time_t secs;
	struct tm tm;

	if (!lk)
		return;
	/* the same rule as -c everywhere (model.h); the id is the runtime's,
	 * else the cgroup id */
	snprintf(cgid, sizeof(cgid), "%llu", (unsigned long long)e->cgid);
	if (!kp_match(x->pattern, id.name, id.id[0] ? id.id : cgid, path)) {
		x->filtered++;
		return;
	}
	snprintf(comm, sizeof(comm), "%.16s", e->comm);
	t = (double)e->ts_ns / 1e9 + x->mono_to_real;
	secs = (time_t)t;
	localtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	more = slow_detail(e, detail, sizeof(detail));
	if (x->json) {
		json_t *j = json_pack("{s:f, s:s, s:s, s:s, s:i, s:i, s:s, s:f}",
			"time", t, "kind", lk->name, "container", id.name, "cgroup", path,
			"pid", (int)e->tgid, "tid", (int)e->pid, "comm", comm,
			"seconds", (double)e->value_ns / 1e9);

		json_object_update(j, more);
		json_dumpf(j, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(j);
	} else {
		printf("%s.%03d %-24.24s %7u %7u %-16s %-7s %9.3f ms  %s\n", ts,
		       (int)((t - (double)secs) * 1000), id.name, e->tgid, e->pid, comm, lk->name,
		       (double)e->value_ns / 1e6, detail);
	}
	json_decref(more);
	x->shown++;
}

/* Events the kernel could not put in the full ring, so far. */
static uint64_t slow_drops(struct kp_pipeline *p)
{
	kp_collector__read_drops(p->col);
	return p->model->self.drops[KP_DROP_SLOW_RING_FULL];
}

/* getopt into @lo's thresholds and @x; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct kp_loader_opts *lo, struct slow_ctx *x,
		      long long *dur)
{
	/* val 0: a threshold, named by the option (a slow kind) */
	static const struct option opts[] = {
		{ "runq", required_argument, NULL, 0 },
		{ "request", required_argument, NULL, 0 },
		{ "reclaim", required_argument, NULL, 0 },
		{ "container", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool armed = false;
	char flag[32];
	long long v;
	int c, li;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jd:h", opts, &li)) != -1) {
		switch (c) {
		case 0:
			snprintf(flag, sizeof(flag), "--%s", opts[li].name);
			if (kp_opt_duration("slow", flag, optarg, 1000ll, 3600000000000ll, &v))
				goto usage;
			*kp_lat_kind_threshold(lo, kp_lat_kind_by_name(opts[li].name)) = (uint64_t)v;
			armed = true;
			break;
		case 'c':
			x->pattern = optarg;
			break;
		case 'j':
			x->json = true;
			break;
		case 'd':
			if (kp_opt_duration("slow", "-d", optarg, 100000000ll, 86400000000000ll, dur))
				goto usage;
			break;
		case 'h':
			slow_usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		kp_err("slow: unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (!armed)
		lo->slow_runq_ns = 10000000ull;
	return -1;
usage:
	slow_usage(stderr);
	return KP_EXIT_USAGE;
}

/* Stream events until @dur passed (0: until Ctrl-C), saying on stderr when
 * the ring was full. */
static void stream(struct kp_pipeline *s, struct kp_slow_read *rd, long long dur)
{
	uint64_t end = dur ? kp_now_mono_ns() + (uint64_t)dur : 0, drops = 0, d;

	for (;;) {
		if (end && kp_now_mono_ns() >= end)
			break;
		if (kp_signals_wait(100000000ull, 0))	/* Ctrl-C */
			break;
		kp_slow_read__consume(rd);
		d = slow_drops(s);
		if (d > drops)
			fprintf(stderr, "kpulse: slow: %llu events dropped (ring buffer full)\n",
				(unsigned long long)(d - drops));
		drops = d;
		fflush(stdout);
	}
	kp_slow_read__consume(rd);
}

int do_slow(int argc, char **argv)
{
	struct kp_loader_opts lo = { 0 };
	struct slow_ctx x = { 0 };
	struct kp_slow_read *rd;
	struct kp_pipeline s;
	long long dur = 0;
	char what[256] = "";
	size_t wl = 0;
	int ret;

	if ((ret = parse_args(argc, argv, &lo, &x, &dur)) >= 0)
		return ret;
	ret = kp_cmd_pipeline(&s, &lo, 60000000000ull, 60000000000ull);
	if (ret)
		return ret;
	for (size_t i = 0; i < kp_lat_nkinds; i++) {
		const struct kp_latency_kind *lk = &kp_lat_kinds[i];

		if (!lk->slow || !*kp_lat_kind_threshold(&lo, lk))
			continue;
		if (!kp_lat_kind_runs(s.model, lk, "slow")) {
			kp_pipeline_close(&s);
			return KP_EXIT_UNAVAILABLE;
		}
		wl += snprintf(what + wl, sizeof(what) - wl, "%s%s >= %.3f ms", wl ? ", " : "",
			       lk->name, (double)*kp_lat_kind_threshold(&lo, lk) / 1e6);
	}
	x.mono_to_real = ((double)kp_now_real_ns() - (double)kp_now_mono_ns()) / 1e9;
	rd = kp_slow_read__new(s.loader, s.cg, on_slow, &x);
	if (!rd) {
		kp_err("slow: the event ring buffer is not available on this kernel");
		kp_pipeline_close(&s);
		return KP_EXIT_UNAVAILABLE;
	}
	kp_slow_read__set_runtimes(rd, s.rt);
	fprintf(stderr, "kpulse: slow: watching %s; Ctrl-C stops\n", what);
	if (!x.json)
		printf("%-12s %-24s %7s %7s %-16s %-7s %12s  %s\n", "TIME", "CONTAINER", "PID", "TID",
		       "COMM", "KIND", "VALUE", "DETAIL");
	fflush(stdout);
	stream(&s, rd, dur);
	kp_slow_read__free(rd);
	fprintf(stderr, "kpulse: slow: %llu events shown, %llu filtered out, %llu dropped\n",
		(unsigned long long)x.shown, (unsigned long long)x.filtered,
		(unsigned long long)slow_drops(&s));
	kp_pipeline_close(&s);
	return 0;
}
