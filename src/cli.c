/* cli.c - snapshot, top and latency: an engineer's view of the same model
 * the daemon serves. Tables are rendered from the /api/v1/containers JSON
 * document, so a local snapshot and one read --from a daemon look alike. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <curl/curl.h>
#include <poll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <uthash.h>
#include "analysis.h"
#include "cgroup.h"
#include "container.h"
#include "api.h"
#include "cli.h"
#include "collector.h"
#include "daemon.h"
#include "hist.h"
#include "log.h"
#include "metrics.h"
#include "session.h"

static void fmt_secs(char *buf, size_t len, json_t *v)
{
	double s;

	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return;
	}
	s = json_number_value(v);
	if (s < 1e-3)
		snprintf(buf, len, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.1fms", s * 1e3);
	else
		snprintf(buf, len, "%.2fs", s);
}

/* The first window of a latency object ({"1m": {...}}). */
static json_t *first_window(json_t *lat)
{
	const char *k;
	json_t *v;

	json_object_foreach(lat, k, v)
		return v;
	return NULL;
}

static void fmt_bytes(char *buf, size_t len, json_t *v)
{
	double b;

	if (!json_is_number(v)) {
		snprintf(buf, len, "-");
		return;
	}
	b = json_number_value(v);
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.1fG", b / (1024.0 * 1024 * 1024));
	else if (b >= 1024.0 * 1024)
		snprintf(buf, len, "%.0fM", b / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.0fK", b / 1024.0);
}

static void fmt_pct(char *buf, size_t len, json_t *psi_res)
{
	json_t *v = json_object_get(json_object_get(psi_res, "some"), "avg10");

	if (json_is_number(v))
		snprintf(buf, len, "%.1f", json_number_value(v));
	else
		snprintf(buf, len, "-");
}

static json_t *lat_p(json_t *c, const char *kind, const char *q)
{
	return json_object_get(first_window(json_object_get(json_object_get(c, "latency"), kind)), q);
}

/* Full columns, or a compact set when the terminal is narrower than them. */
void kp_table_print(FILE *f, json_t *containers, int width)
{
	bool compact = width > 0 && width < 132;
	int nw = compact ? 22 : 28;
	char line[1024], rq50[16], rq99[16], mem[16], lim[16], pc[16], pm[16], rcl[16],
		req[16], rtt[16], tail[64];
	size_t i;
	json_t *c;

	if (compact)
		snprintf(line, sizeof(line), "%-*s %6s %7s %6s %5s %4s %7s %6s  %s", nw, "CONTAINER",
			 "CPU%", "RUNQ99", "MEM", "MPSI", "OOM", "REQ99", "HEALTH", "REASON");
	else
		snprintf(line, sizeof(line), "%-*s %6s %7s %7s %6s %6s %5s %5s %7s %4s %7s %7s %6s  %s",
			 nw, "CONTAINER", "CPU%", "RUNQ50", "RUNQ99", "MEM", "LIMIT", "CPSI", "MPSI",
			 "RECL99", "OOM", "REQ99", "RTT99", "HEALTH", "REASON");
	fprintf(f, "%.*s\n", width > 0 ? width : (int)sizeof(line), line);
	json_array_foreach(containers, i, c) {
		json_t *h = json_object_get(c, "health");
		json_t *m = json_object_get(c, "memory");
		json_t *pr = json_object_get(c, "pressure");
		const char *name = json_string_value(json_object_get(c, "name"));
		size_t nl = name ? strlen(name) : 0;
		double cpu = json_number_value(json_object_get(json_object_get(c, "cpu"), "cores")) * 100;
		long long oom = json_integer_value(json_object_get(m, "oom_kills_total"));

		fmt_secs(rq50, sizeof(rq50), lat_p(c, "runq", "p50"));
		fmt_secs(rq99, sizeof(rq99), lat_p(c, "runq", "p99"));
		fmt_secs(rcl, sizeof(rcl), lat_p(c, "reclaim", "p99"));
		fmt_secs(req, sizeof(req), lat_p(c, "request_inbound", "p99"));
		fmt_secs(rtt, sizeof(rtt), lat_p(c, "rtt", "p99"));
		fmt_bytes(mem, sizeof(mem), json_object_get(m, "usage_bytes"));
		fmt_bytes(lim, sizeof(lim), json_object_get(m, "limit_bytes"));
		fmt_pct(pc, sizeof(pc), json_object_get(pr, "cpu"));
		fmt_pct(pm, sizeof(pm), json_object_get(pr, "memory"));
		if (!name)
			name = "?";
		if ((int)nl > nw) {	/* keep the tail, which names the container */
			snprintf(tail, sizeof(tail), "~%s", name + nl - nw + 1);
			name = tail;
		}
		if (compact)
			snprintf(line, sizeof(line), "%-*s %6.1f %7s %6s %5s %4lld %7s %6.0f  %s", nw,
				 name, cpu, rq99, mem, pm, oom, req,
				 json_number_value(json_object_get(h, "score")),
				 json_string_value(json_object_get(h, "reason")) ?: "");
		else
			snprintf(line, sizeof(line),
				 "%-*s %6.1f %7s %7s %6s %6s %5s %5s %7s %4lld %7s %7s %6.0f  %s", nw,
				 name, cpu, rq50, rq99, mem, lim, pc, pm, rcl, oom, req, rtt,
				 json_number_value(json_object_get(h, "score")),
				 json_string_value(json_object_get(h, "reason")) ?: "");
		fprintf(f, "%.*s\n", width > 0 ? width : (int)sizeof(line), line);
	}
}

/* --- fetching from a running daemon -------------------------------------- */

struct membuf {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t n, void *arg)
{
	struct membuf *m = arg;
	char *p;

	if (m->n + sz * n > (64u << 20))	/* a sane bound on any answer */
		return 0;
	p = realloc(m->p, m->n + sz * n + 1);
	if (!p)
		return 0;
	memcpy(p + m->n, d, sz * n);
	m->p = p;
	m->n += sz * n;
	m->p[m->n] = 0;
	return sz * n;
}

/* GET base+path; returns the body (malloc'd) or NULL with a message printed. */
static char *http_get(const char *base, const char *path)
{
	struct membuf m = { 0 };
	char url[2048];
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s%s%s", strncmp(base, "http", 4) ? "http://" : "",
		 base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || code != 200) {
		kp_err("--from %s: %s", base, rc != CURLE_OK ? curl_easy_strerror(rc)
							     : "the daemon answered with an error");
		free(m.p);
		return NULL;
	}
	return m.p ? m.p : strdup("");
}

/* --- snapshot ------------------------------------------------------------ */

enum fmt { FMT_TABLE, FMT_JSON, FMT_PROM };

static int parse_fmt(const char *s, enum fmt *f)
{
	if (!strcmp(s, "table"))
		*f = FMT_TABLE;
	else if (!strcmp(s, "json"))
		*f = FMT_JSON;
	else if (!strcmp(s, "prom"))
		*f = FMT_PROM;
	else
		return -1;
	return 0;
}

static void snapshot_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse snapshot [-d DURATION] [--format table|json|prom] [-c PATTERN]\n"
		"                       [--from http://HOST:PORT]\n"
		"  -d, --duration DUR   how long to measure (default 5s)\n"
		"  -f, --format FMT     table (default), json (the /api/v1/containers\n"
		"                       document) or prom (Prometheus text)\n"
		"  -c, --container PAT  only containers whose name, id or cgroup matches\n"
		"                       (glob, or a substring of the name)\n"
		"      --from URL       read a running daemon instead of loading programs\n"
		"examples:\n"
		"  kpulse snapshot -d 10s\n"
		"  kpulse snapshot --format json -c 'web*'\n"
		"  kpulse snapshot --from http://localhost:9477\n");
}

/* The daemon filters with the same matcher as a local run (?container=). */
static int snapshot_from(const char *base, enum fmt fmt, const char *pattern)
{
	char path[1024], *body, *esc = NULL;
	json_t *doc;
	json_error_t e;

	if (fmt != FMT_PROM && pattern) {
		esc = curl_easy_escape(NULL, pattern, 0);
		snprintf(path, sizeof(path), "/api/v1/containers?container=%s", esc ? esc : "");
		curl_free(esc);
	} else {
		snprintf(path, sizeof(path), "%s", fmt == FMT_PROM ? "/metrics" : "/api/v1/containers");
	}
	body = http_get(base, path);
	if (!body)
		return KP_EXIT_OTHER;
	if (fmt == FMT_PROM) {
		fputs(body, stdout);
		free(body);
		return 0;
	}
	doc = json_loads(body, 0, &e);
	free(body);
	if (!json_is_array(doc)) {
		kp_err("--from %s: the answer is not a containers document", base);
		json_decref(doc);
		return KP_EXIT_OTHER;
	}
	if (fmt == FMT_JSON)
		json_dumpf(doc, stdout, JSON_INDENT(2)), fputc('\n', stdout);
	else
		kp_table_print(stdout, doc, 0);
	json_decref(doc);
	return 0;
}

int do_snapshot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "container", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	long long dur = 5000000000ll;
	const char *pattern = NULL, *from = NULL;
	enum fmt fmt = FMT_TABLE;
	struct kp_session s;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f:c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (kp_opt_duration("snapshot", "-d", optarg, 100000000ll,
					    86400000000000ll, &dur))
				return KP_EXIT_USAGE;
			break;
		case 'f':
			if (parse_fmt(optarg, &fmt)) {
				kp_err("snapshot: --format '%s': expected table, json or prom", optarg);
				snapshot_usage(stderr);
				return KP_EXIT_USAGE;
			}
			break;
		case 'c':
			pattern = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'v':
			kp_verbose++;
			break;
		case 'h':
			snapshot_usage(stdout);
			return 0;
		default:
			snapshot_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("snapshot: unexpected argument '%s'", argv[optind]);
		snapshot_usage(stderr);
		return KP_EXIT_USAGE;
	}
	if (from)
		return snapshot_from(from, fmt, pattern);

	ret = kp_session_open(&s, &lo, (uint64_t)dur + 1000000000ull, (uint64_t)dur);
	if (ret)
		return ret;
	kp_session_wait((uint64_t)dur, 0);	/* Ctrl-C ends the measurement early */
	kp_session_tick(&s);
	if (fmt == FMT_PROM) {
		kp_metrics_render(stdout, s.col, s.loader, s.cg);
	} else {
		json_t *doc = kp_api_containers(s.col, s.an, kp_now_mono_ns(), pattern);

		if (fmt == FMT_JSON)
			json_dumpf(doc, stdout, JSON_INDENT(2)), fputc('\n', stdout);
		else
			kp_table_print(stdout, doc, 0);
		json_decref(doc);
	}
	kp_session_close(&s);
	return 0;
}

/* --- top ----------------------------------------------------------------- */

static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse top [-i INTERVAL] [-c PATTERN] [-n COUNT]\n"
		"  -i, --interval DUR   refresh every DUR (default 1s)\n"
		"  -c, --container PAT  only matching containers\n"
		"  -n, --count N        stop after N refreshes (default: until q or Ctrl-C)\n"
		"keys: q quits. Sorted by health, worst first.\n");
}

int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "container", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	long long iv = 1000000000ll;
	const char *pattern = NULL;
	long count = 0;
	bool tty = isatty(1);
	struct termios saved, raw;
	bool raw_set = false;
	struct kp_session s;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (kp_opt_duration("top", "-i", optarg, 100000000ll, 3600000000000ll, &iv))
				return KP_EXIT_USAGE;
			break;
		case 'c':
			pattern = optarg;
			break;
		case 'n':
			if (kp_opt_count("top", "-n", optarg, 1, 1000000000, &count))
				return KP_EXIT_USAGE;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		default:
			top_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("top: unexpected argument '%s'", argv[optind]);
		return KP_EXIT_USAGE;
	}
	ret = kp_session_open(&s, &lo, (uint64_t)iv * 5, (uint64_t)iv);
	if (ret)
		return ret;
	if (tty && isatty(0) && !tcgetattr(0, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		raw_set = !tcsetattr(0, TCSANOW, &raw);
	}
	for (long n = 0; !count || n < count; n++) {
		struct winsize ws = { 0 };
		json_t *doc;
		char ts[32];
		time_t t = time(NULL);

		if (kp_session_wait((uint64_t)iv, 'q'))
			break;
		kp_session_tick(&s);
		doc = kp_api_containers(s.col, s.an, kp_now_mono_ns(), pattern);
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
		if (tty) {
			ioctl(1, TIOCGWINSZ, &ws);
			fputs("\033[H\033[2J", stdout);
		}
		printf("kpulse top - %s - %zu containers - q quits\n", ts, json_array_size(doc));
		kp_table_print(stdout, doc, tty ? (ws.ws_col ? ws.ws_col : 80) : 0);
		if (!tty)
			putchar('\n');
		fflush(stdout);
		json_decref(doc);
	}
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	kp_session_close(&s);
	return 0;
}

/* --- latency ------------------------------------------------------------- */

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

static void latency_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse latency runq [-c PATTERN] [--per-container] [-i INTERVAL] [-n COUNT]\n"
		"  runq                 run-queue latency (wakeup/preemption -> on CPU)\n"
		"  -c, --container PAT  only matching containers (default: the whole host)\n"
		"  -p, --per-container  one histogram per container instead of merged\n"
		"  -i, --interval DUR   print every DUR (default 1s)\n"
		"  -n, --count N        print N times, then exit (default 1)\n"
		"example: kpulse latency runq -c web -i 5s -n 3\n");
}

int do_latency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "per-container", no_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	static uint64_t merged[KP_HIST_BUCKETS], node_prev[KP_HIST_BUCKETS];
	long long iv = 1000000000ll;
	const char *pattern = NULL, *what;
	bool per = false;
	long count = 1;
	struct prev_hist *prev = NULL, *p, *ptmp;
	struct kp_session s;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:pi:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			pattern = optarg;
			break;
		case 'p':
			per = true;
			break;
		case 'i':
			if (kp_opt_duration("latency", "-i", optarg, 100000000ll, 3600000000000ll, &iv))
				return KP_EXIT_USAGE;
			break;
		case 'n':
			if (kp_opt_count("latency", "-n", optarg, 1, 1000000000, &count))
				return KP_EXIT_USAGE;
			break;
		case 'h':
			latency_usage(stdout);
			return 0;
		default:
			latency_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		kp_err("latency: which latency? runq");
		latency_usage(stderr);
		return KP_EXIT_USAGE;
	}
	what = argv[optind];
	if (strcmp(what, "runq")) {
		kp_err("latency: unknown latency '%s'; expected runq", what);
		latency_usage(stderr);
		return KP_EXIT_USAGE;
	}
	ret = kp_session_open(&s, &lo, (uint64_t)iv, (uint64_t)iv);
	if (ret)
		return ret;
	memcpy(node_prev, kp_collector__node(s.col)->runq_hist, sizeof(node_prev));
	{	/* baseline: what the containers had when we started */
		struct kp_container *k, *tmp;

		HASH_ITER(hh, kp_collector__containers(s.col), k, tmp) {
			p = calloc(1, sizeof(*p));
			if (!p)
				break;
			p->cgid = k->cgid;
			memcpy(p->h, k->t.runq_hist, sizeof(p->h));
			HASH_ADD(hh, prev, cgid, sizeof(p->cgid), p);
		}
	}
	for (long n = 0; n < count; n++) {
		struct kp_container *k, *tmp;
		bool stop = kp_session_wait((uint64_t)iv, 0);

		kp_collector__collect(s.col, kp_now_mono_ns());
		memset(merged, 0, sizeof(merged));
		if (!pattern && !per) {
			const uint64_t *cur = kp_collector__node(s.col)->runq_hist;

			for (int b = 0; b < KP_HIST_BUCKETS; b++)
				merged[b] = cur[b] - node_prev[b];
			memcpy(node_prev, cur, sizeof(node_prev));
		}
		HASH_ITER(hh, kp_collector__containers(s.col), k, tmp) {
			static uint64_t d[KP_HIST_BUCKETS];

			if (!k->path || !kp_api_matches(k, pattern))
				continue;
			HASH_FIND(hh, prev, &k->cgid, sizeof(k->cgid), p);
			if (!p) {	/* new since the last interval: all of it is new */
				p = calloc(1, sizeof(*p));
				if (!p)
					continue;
				p->cgid = k->cgid;
				HASH_ADD(hh, prev, cgid, sizeof(p->cgid), p);
			}
			for (int b = 0; b < KP_HIST_BUCKETS; b++)
				d[b] = k->t.runq_hist[b] - p->h[b];
			memcpy(p->h, k->t.runq_hist, sizeof(p->h));
			if (per) {
				char title[600];

				if (!kp_hist_total(d))
					continue;
				snprintf(title, sizeof(title), "container = %s (%s)", k->ident.name, k->path);
				print_hist(title, d);
			} else if (pattern) {
				for (int b = 0; b < KP_HIST_BUCKETS; b++)
					merged[b] += d[b];
			}
		}
		if (!per)
			print_hist(pattern ? "run-queue latency, matching containers"
					   : "run-queue latency, whole host", merged);
		fflush(stdout);
		if (stop)
			break;
	}
	HASH_ITER(hh, prev, p, ptmp) {
		HASH_DEL(prev, p);
		free(p);
	}
	kp_session_close(&s);
	return 0;
}

/* --- slow ---------------------------------------------------------------- */

struct slow_ctx {
	struct kp_session *s;
	const char *pattern;
	bool json;
	uint64_t shown, filtered;
	double mono_to_real;	/* add to CLOCK_MONOTONIC seconds for wall time */
};

static void slow_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse slow [--runq DURATION] [-c PATTERN] [--json] [-d DURATION]\n"
		"  --runq DUR           print run-queue waits of at least DUR (default 10ms)\n"
		"  -c, --container PAT  only matching containers\n"
		"  --json               one JSON object per line\n"
		"  -d, --duration DUR   stop after DUR (default: until Ctrl-C)\n"
		"The threshold is set in the kernel: nothing below it leaves the kernel.\n"
		"Each line: time, container, pid, comm, wait, and the task that held the CPU.\n"
		"example: kpulse slow --runq 20ms -c web\n");
}

static int on_slow(void *arg, void *data, size_t len)
{
	struct slow_ctx *x = arg;
	const struct kp_slow_event *e = data;
	struct kp_identity id;
	const char *path;
	char ts[32], comm[17], other[17];
	double t;
	time_t secs;
	struct tm tm;

	if (len < sizeof(*e))
		return 0;
	path = kp_cgroups__path(x->s->cg, e->cgid, kp_now_mono_ns());
	if (!path)
		path = "?";
	kp_identity_from_path(path, &id);
	if (x->pattern && fnmatch(x->pattern, id.name, 0) && fnmatch(x->pattern, path, 0) &&
	    (path[0] != '/' || fnmatch(x->pattern, path + 1, 0)) && !strstr(id.name, x->pattern)) {
		x->filtered++;
		return 0;
	}
	snprintf(comm, sizeof(comm), "%.16s", e->comm);
	snprintf(other, sizeof(other), "%.16s", e->other_comm);
	t = (double)e->ts_ns / 1e9 + x->mono_to_real;
	secs = (time_t)t;
	localtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	if (x->json) {
		json_t *j = json_pack("{s:f, s:s, s:s, s:s, s:i, s:i, s:s, s:f, s:{s:i, s:s}}",
			"time", t, "kind", "runq", "container", id.name, "cgroup", path,
			"pid", (int)e->tgid, "tid", (int)e->pid, "comm", comm,
			"seconds", (double)e->value_ns / 1e9,
			"held_by", "tid", (int)e->other_pid, "comm", other);

		json_dumpf(j, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(j);
	} else {
		printf("%s.%03d %-24.24s %7u %7u %-16s runq %9.3f ms  held by %u %s\n", ts,
		       (int)((t - (double)secs) * 1000), id.name, e->tgid, e->pid, comm,
		       (double)e->value_ns / 1e6, e->other_pid, other);
	}
	x->shown++;
	return 0;
}

static uint64_t slow_drops(struct kp_session *s)
{
	int fd = kp_loader__map_fd(s->loader, "drops");
	int ncpu = libbpf_num_possible_cpus();
	__u32 key = KP_DROP_SLOW_RING_FULL;
	uint64_t sum = 0;

	if (fd < 0 || ncpu <= 0)
		return 0;
	{
		__u64 v[ncpu];

		if (bpf_map_lookup_elem(fd, &key, v))
			return 0;
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	}
	return sum;
}

int do_slow(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runq", required_argument, NULL, 'r' },
		{ "container", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL,
				     .slow_runq_ns = 10000000ull };
	struct slow_ctx x = { 0 };
	long long runq = 10000000ll, dur = 0;
	struct ring_buffer *rb = NULL;
	struct timespec mono, real;
	struct kp_session s;
	uint64_t end, drops = 0;
	int c, ret, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:c:jd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (kp_opt_duration("slow", "--runq", optarg, 1000ll, 3600000000000ll, &runq))
				return KP_EXIT_USAGE;
			break;
		case 'c':
			x.pattern = optarg;
			break;
		case 'j':
			x.json = true;
			break;
		case 'd':
			if (kp_opt_duration("slow", "-d", optarg, 100000000ll, 86400000000000ll, &dur))
				return KP_EXIT_USAGE;
			break;
		case 'h':
			slow_usage(stdout);
			return 0;
		default:
			slow_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("slow: unexpected argument '%s'", argv[optind]);
		return KP_EXIT_USAGE;
	}
	lo.slow_runq_ns = (uint64_t)runq;
	ret = kp_session_open(&s, &lo, 60000000000ull, 60000000000ull);
	if (ret)
		return ret;
	x.s = &s;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	x.mono_to_real = (double)(real.tv_sec - mono.tv_sec) + (real.tv_nsec - mono.tv_nsec) / 1e9;
	fd = kp_loader__map_fd(s.loader, "slow_events");
	if (fd >= 0)
		rb = ring_buffer__new(fd, on_slow, &x, NULL);
	if (!rb) {
		kp_err("slow: the event ring buffer is not available on this kernel");
		kp_session_close(&s);
		return KP_EXIT_UNAVAILABLE;
	}
	if (!x.json)
		printf("%-12s %-24s %7s %7s %-16s %-4s %12s  %s\n", "TIME", "CONTAINER", "PID", "TID",
		       "COMM", "KIND", "VALUE", "HELD BY (tid comm)");
	fflush(stdout);
	end = dur ? kp_now_mono_ns() + (uint64_t)dur : 0;
	for (;;) {
		uint64_t now = kp_now_mono_ns(), d;

		if (end && now >= end)
			break;
		if (kp_session_wait(100000000ull, 0))	/* Ctrl-C */
			break;
		ring_buffer__consume(rb);
		d = slow_drops(&s);
		if (d > drops && !x.json)
			fprintf(stderr, "kpulse: slow: %llu events dropped (ring buffer full)\n",
				(unsigned long long)(d - drops));
		drops = d;
		fflush(stdout);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (!x.json)
		fprintf(stderr, "kpulse: slow: %llu events shown, %llu filtered out, %llu dropped\n",
			(unsigned long long)x.shown, (unsigned long long)x.filtered,
			(unsigned long long)drops);
	kp_session_close(&s);
	return 0;
}
