/* cli.c - snapshot, top, latency and slow: an engineer's view of the same
 * model the daemon serves. Tables are rendered from the /api/v1/containers
 * JSON document, so a local snapshot and one read --from a daemon look
 * alike. The latencies `latency` and `slow` know are one table (lat_kinds). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
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
#include "analysis/analysis.h"
#include "collect/cgroup.h"
#include "collect/container.h"
#include "out/api.h"
#include "cmd/cli.h"
#include "collect/collector.h"
#include "app/daemon.h"
#include "model/hist.h"
#include "app/log.h"
#include "out/metrics.h"
#include "app/session.h"

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

/* --- latency kinds --------------------------------------------------------- */

/* The cumulative histogram (ns buckets) a latency kind reads from container
 * @k or, when @k is NULL, from the whole host; NULL while there is none.
 * @dir: request direction (0 inbound, 1 outbound, -1 both); @tmp: room for
 * one built on the fly. */
typedef const uint64_t *(*lat_hist_fn)(const struct kp_collector *c,
				       const struct kp_container *k, int dir, uint64_t *tmp);

static void hist_add(uint64_t *to, const uint64_t *from)
{
	for (int b = 0; b < KP_HIST_BUCKETS; b++)
		to[b] += from[b];
}

static const uint64_t *h_runq(const struct kp_collector *c, const struct kp_container *k,
			      int dir, uint64_t *tmp)
{
	(void)dir, (void)tmp;
	return k ? k->t.runq_hist : kp_collector__node(c)->runq_hist;
}

static const uint64_t *h_reclaim(const struct kp_collector *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	(void)dir, (void)tmp;
	return k ? k->mem.reclaim_hist : kp_collector__node_mem(c)->reclaim_hist;
}

static const uint64_t *h_rtt(const struct kp_collector *c, const struct kp_container *k,
			     int dir, uint64_t *tmp)
{
	const struct kp_tcp_totals *t = k ? k->tcp : kp_collector__node_tcp(c);

	(void)dir, (void)tmp;
	return t ? t->rtt_hist : NULL;
}

static const uint64_t *h_connect(const struct kp_collector *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	const struct kp_tcp_totals *t = k ? k->tcp : kp_collector__node_tcp(c);

	(void)dir, (void)tmp;
	return t ? t->connect_hist : NULL;
}

/* Every port of the container, named or "other" (their sum is what the
 * kernel counted); the host's figure is already over every port. */
static const uint64_t *h_request(const struct kp_collector *c, const struct kp_container *k,
				 int dir, uint64_t *tmp)
{
	static struct kp_lat l;

	memset(tmp, 0, KP_HIST_BUCKETS * sizeof(*tmp));
	for (int d = 0; d < 2; d++) {
		const struct kp_portset *ps = k ? k->req[d] : NULL;

		if (dir >= 0 && d != dir)
			continue;
		if (!k)
			hist_add(tmp, kp_collector__node_req(c, d)->hist);
		for (unsigned int i = 0; ps && i < kp_portset__named_count(ps); i++) {
			kp_portset__named(ps, i, &l);
			hist_add(tmp, l.hist);
		}
		if (ps && kp_portset__other(ps, &l))
			hist_add(tmp, l.hist);
	}
	return tmp;
}

/* What `latency KIND` and `slow --KIND` know of each latency. */
static const struct lat_kind {
	const char *name;
	const char *title;
	const char *help;
	const char *needs[2];	/* tracepoints whose programs must run */
	lat_hist_fn hist;
	unsigned int slow;	/* enum kp_slow_kind; 0: no `slow --KIND` */
	size_t slow_opt;	/* its threshold in struct kp_loader_opts */
} lat_kinds[] = {
	{ "runq", "run-queue latency", "wakeup or preemption -> on CPU",
	  { "sched_switch" }, h_runq, KP_SLOW_RUNQ, offsetof(struct kp_loader_opts, slow_runq_ns) },
	{ "rtt", "TCP smoothed RTT", "smoothed RTT of TCP sockets, per segment received",
	  { "tcp_probe" }, h_rtt, 0, 0 },
	{ "connect", "TCP connect latency", "active opens, SYN sent -> established",
	  { "inet_sock_set_state" }, h_connect, 0, 0 },
	{ "request", "request latency", "first request bytes -> first response bytes",
	  { "sock_send_length", "sock_recv_length" }, h_request, KP_SLOW_REQUEST,
	  offsetof(struct kp_loader_opts, slow_request_ns) },
	{ "reclaim", "memory reclaim stalls", "direct and memcg reclaim, begin -> end",
	  { "mm_vmscan_memcg_reclaim_end", "mm_vmscan_direct_reclaim_end" }, h_reclaim,
	  KP_SLOW_RECLAIM, offsetof(struct kp_loader_opts, slow_reclaim_ns) },
};
#define NKINDS (sizeof(lat_kinds) / sizeof(lat_kinds[0]))

static const struct lat_kind *kind_by_name(const char *name)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(lat_kinds[i].name, name))
			return &lat_kinds[i];
	return NULL;
}

static const struct lat_kind *kind_by_slow(unsigned int slow)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (slow && lat_kinds[i].slow == slow)
			return &lat_kinds[i];
	return NULL;
}

/* "runq, rtt, connect, request or reclaim" */
static const char *kind_list(void)
{
	static char buf[128];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < NKINDS; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", lat_kinds[i].name,
			      i + 2 < NKINDS ? ", " : i + 2 == NKINDS ? " or " : "");
	return buf;
}

/* Whether the programs @lk reads from run here; one line when not. */
static bool kind_runs(const struct kp_session *s, const struct lat_kind *lk, const char *cmd)
{
	for (int i = 0; i < 2 && lk->needs[i]; i++) {
		if (kp_loader__running(s->loader, lk->needs[i]))
			continue;
		kp_err("%s: %s needs the %s tracepoint, which does not run on this kernel "
		       "(see 'kpulse check')", cmd, lk->name, lk->needs[i]);
		return false;
	}
	return true;
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
	for (size_t i = 0; i < NKINDS; i++)
		fprintf(f, "  %-8s %s: %s\n", lat_kinds[i].name, lat_kinds[i].title, lat_kinds[i].help);
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

int do_latency(int argc, char **argv)
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
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	static uint64_t merged[KP_HIST_BUCKETS], node_prev[KP_HIST_BUCKETS], d[KP_HIST_BUCKETS],
		scratch[KP_HIST_BUCKETS];
	long long iv = 1000000000ll;
	const char *pattern = NULL;
	const struct lat_kind *lk;
	bool per = false;
	long count = 1;
	int dir = -1;
	struct prev_hist *prev = NULL, *p, *ptmp;
	struct kp_container *k, *ktmp;
	struct kp_session s;
	char title[640];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:pi:n:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			pattern = optarg;
			break;
		case 'p':
			per = true;
			break;
		case 'i':
			if (kp_opt_duration("latency", "-i", optarg, 100000000ll, 3600000000000ll, &iv))
				goto usage;
			break;
		case 'n':
			if (kp_opt_count("latency", "-n", optarg, 1, 1000000000, &count))
				goto usage;
			break;
		case 'D':
			if ((dir = parse_direction(optarg)) < 0) {
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
		kp_err("latency: which latency? %s", kind_list());
		goto usage;
	}
	if (!(lk = kind_by_name(argv[optind]))) {
		kp_err("latency: unknown latency '%s'; expected %s", argv[optind], kind_list());
		goto usage;
	}
	if (optind + 1 < argc) {
		kp_err("latency: unexpected argument '%s'", argv[optind + 1]);
		goto usage;
	}
	if (dir >= 0 && lk->hist != h_request) {
		kp_err("latency: --direction applies to request latency only");
		goto usage;
	}
	ret = kp_session_open(&s, &lo, (uint64_t)iv, (uint64_t)iv);
	if (ret)
		return ret;
	if (!kind_runs(&s, lk, "latency")) {
		kp_session_close(&s);
		return KP_EXIT_UNAVAILABLE;
	}
	/* baseline: what the host and each container had when we started */
	hist_step(d, lk->hist(s.col, NULL, dir, scratch), node_prev);
	HASH_ITER(hh, kp_collector__containers(s.col), k, ktmp)
		if ((p = prev_get(&prev, k->cgid)))
			hist_step(d, lk->hist(s.col, k, dir, scratch), p->h);
	snprintf(title, sizeof(title), "%s%s", lk->title,
		 dir < 0 ? "" : dir ? " (outbound)" : " (inbound)");
	for (long n = 0; n < count; n++) {
		bool stop = kp_session_wait((uint64_t)iv, 0);

		kp_collector__collect(s.col, kp_now_mono_ns());
		memset(merged, 0, sizeof(merged));
		if (!pattern && !per)
			hist_step(merged, lk->hist(s.col, NULL, dir, scratch), node_prev);
		HASH_ITER(hh, kp_collector__containers(s.col), k, ktmp) {
			if (!(pattern || per) || !k->path || !kp_api_matches(k, pattern) ||
			    !(p = prev_get(&prev, k->cgid)))
				continue;
			memset(d, 0, sizeof(d));
			/* new since the last interval: all of it is new */
			hist_step(d, lk->hist(s.col, k, dir, scratch), p->h);
			if (per && kp_hist_total(d)) {
				char t[640];

				snprintf(t, sizeof(t), "container = %s (%s): %s", k->ident.name, k->path,
					 title);
				print_hist(t, d);
			} else if (!per) {
				hist_add(merged, d);
			}
		}
		if (!per) {
			size_t tl = strlen(title);

			snprintf(title + tl, sizeof(title) - tl, ", %s",
				 pattern ? "matching containers" : "whole host");
			print_hist(title, merged);
			title[tl] = 0;
		}
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
usage:
	latency_usage(stderr);
	return KP_EXIT_USAGE;
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

static int on_slow(void *arg, void *data, size_t len)
{
	struct slow_ctx *x = arg;
	const struct kp_slow_event *e = data;
	const struct lat_kind *lk = len < sizeof(*e) ? NULL : kind_by_slow(e->kind);
	struct kp_identity id;
	const char *path;
	char ts[32], comm[17], detail[64];
	json_t *more;
	double t;
	time_t secs;
	struct tm tm;

	if (!lk)
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

static uint64_t *slow_threshold(struct kp_loader_opts *lo, const struct lat_kind *lk)
{
	return (uint64_t *)((char *)lo + lk->slow_opt);
}

int do_slow(int argc, char **argv)
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
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	struct slow_ctx x = { 0 };
	long long v, dur = 0;
	struct ring_buffer *rb = NULL;
	struct timespec mono, real;
	struct kp_session s;
	uint64_t end, drops = 0;
	bool armed = false;
	char flag[32], what[256] = "";
	int c, li, ret, fd;
	size_t wl = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:jd:h", opts, &li)) != -1) {
		switch (c) {
		case 0:
			snprintf(flag, sizeof(flag), "--%s", opts[li].name);
			if (kp_opt_duration("slow", flag, optarg, 1000ll, 3600000000000ll, &v))
				goto usage;
			*slow_threshold(&lo, kind_by_name(opts[li].name)) = (uint64_t)v;
			armed = true;
			break;
		case 'c':
			x.pattern = optarg;
			break;
		case 'j':
			x.json = true;
			break;
		case 'd':
			if (kp_opt_duration("slow", "-d", optarg, 100000000ll, 86400000000000ll, &dur))
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
		lo.slow_runq_ns = 10000000ull;
	ret = kp_session_open(&s, &lo, 60000000000ull, 60000000000ull);
	if (ret)
		return ret;
	for (size_t i = 0; i < NKINDS; i++) {
		const struct lat_kind *lk = &lat_kinds[i];

		if (!lk->slow || !*slow_threshold(&lo, lk))
			continue;
		if (!kind_runs(&s, lk, "slow")) {
			kp_session_close(&s);
			return KP_EXIT_UNAVAILABLE;
		}
		wl += snprintf(what + wl, sizeof(what) - wl, "%s%s >= %.3f ms", wl ? ", " : "",
			       lk->name, (double)*slow_threshold(&lo, lk) / 1e6);
	}
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
	fprintf(stderr, "kpulse: slow: watching %s; Ctrl-C stops\n", what);
	if (!x.json)
		printf("%-12s %-24s %7s %7s %-16s %-7s %12s  %s\n", "TIME", "CONTAINER", "PID", "TID",
		       "COMM", "KIND", "VALUE", "DETAIL");
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
		if (d > drops)
			fprintf(stderr, "kpulse: slow: %llu events dropped (ring buffer full)\n",
				(unsigned long long)(d - drops));
		drops = d;
		fflush(stdout);
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	drops = slow_drops(&s);
	fprintf(stderr, "kpulse: slow: %llu events shown, %llu filtered out, %llu dropped\n",
		(unsigned long long)x.shown, (unsigned long long)x.filtered,
		(unsigned long long)drops);
	kp_session_close(&s);
	return 0;
usage:
	slow_usage(stderr);
	return KP_EXIT_USAGE;
}
