/* daemon.c - the long-running collector.
 *
 * One thread, one poll loop over four fds: a signalfd (SIGINT/SIGTERM end
 * the loop; handlers never run code), a timerfd for the collection interval,
 * the HTTP server's epoll fd and the OOM event ring buffer's. A scrape
 * re-reads the maps when the last read is older than SCRAPE_FRESH_NS, so
 * /metrics is exact at scrape time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <jansson.h>
#include "analysis.h"
#include "api.h"
#include "daemon.h"
#include "cgroup.h"
#include "collector.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "version.h"

#define SCRAPE_FRESH_NS 50000000ull

struct daemon {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	struct kp_collector *col;
	struct kp_http *http;
	struct kp_analysis *an;
	uint64_t started_ns;
	uint64_t interval_ns;
};

static void refresh(struct daemon *d)
{
	uint64_t now = kp_now_mono_ns();

	if (now - kp_collector__stats(d->col)->last_mono_ns >= SCRAPE_FRESH_NS)
		kp_collector__collect(d->col, now);
}

static void h_metrics(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	FILE *f = open_memstream(&r->body, &r->len);

	(void)req;
	if (!f)
		return;
	refresh(d);
	kp_metrics_render(f, d->col, d->loader, d->cg);
	if (fclose(f)) {
		free(r->body);
		r->body = NULL;
		return;
	}
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ok: everything runs; degraded: some program is out; failing: nothing
 * runs or collection has stalled for three intervals. */
static void h_health(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	const struct kp_collector_stats *st = kp_collector__stats(d->col);
	uint64_t now = kp_now_mono_ns();
	double age = st->collections ? (double)(now - st->last_mono_ns) / 1e9 : -1;
	json_t *progs = json_array(), *missing = json_array(), *j;
	const char *status = "ok";

	(void)req;
	for (unsigned int i = 0; i < kp_loader__prog_count(d->loader); i++) {
		const struct kp_prog_info *p = kp_loader__prog(d->loader, i);
		json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "tracepoint", p->tracepoint,
				      "attach", p->attach, "loaded", p->loaded,
				      "attached", p->attached);

		if (!p->attached) {
			json_object_set_new(o, "reason", json_string(p->reason));
			json_array_append_new(missing, json_string(p->tracepoint));
		}
		json_array_append_new(progs, o);
	}
	if (!kp_loader__tp_btf(d->loader))
		json_array_append_new(missing, json_string("tp_btf"));
	if (!kp_loader__stats_enabled(d->loader))
		json_array_append_new(missing, json_string("bpf_stats"));
	/* bytes and request latency need both (Linux 6.3+) */
	if (!kp_loader__running(d->loader, "sock_send_length") ||
	    !kp_loader__running(d->loader, "sock_recv_length")) {
		json_array_append_new(missing, json_string("network_bytes"));
		json_array_append_new(missing, json_string("request_latency"));
	}
	if (kp_loader__degraded(d->loader))
		status = "degraded";
	if (!kp_loader__attached(d->loader) || age < 0 ||
	    age > 3.0 * (double)d->interval_ns / 1e9 + 1)
		status = "failing";
	j = json_pack("{s:s, s:s, s:f, s:o, s:o, s:f, s:I}",
		      "status", status, "version", KPULSE_VERSION,
		      "uptime_seconds", (double)(now - d->started_ns) / 1e9,
		      "programs", progs, "features_missing", missing,
		      "last_collection_age_seconds", age,
		      "collections", (json_int_t)st->collections);
	r->body = json_dumps(j, JSON_INDENT(2));
	r->len = r->body ? strlen(r->body) : 0;
	r->status = strcmp(status, "failing") ? 200 : 503;
	r->content_type = "application/json";
	json_decref(j);
}

/* The API serves the analysis made at the last interval tick: windows and
 * rates are per interval, so a scrape does not re-read the maps for them. */
static void h_containers(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;

	kp_http_json(r, 200, kp_api_containers(d->col, d->an, kp_now_mono_ns(),
					       kp_http_arg(req, "container")));
}

static void h_container(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	const char *key = req->url + strlen("/api/v1/containers/");
	json_t *j = kp_api_container(d->col, d->an, kp_now_mono_ns(), key);

	if (j)
		kp_http_json(r, 200, j);
	else
		kp_http_error(r, 404, "no such container");
}

static void h_node(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;

	(void)req;
	kp_http_json(r, 200, kp_api_node(d->col, d->an, kp_now_mono_ns()));
}

static void h_history(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	const char *err = NULL;
	json_t *j = kp_api_history(d->col, d->an, kp_now_mono_ns(), kp_http_arg(req, "metric"),
				   kp_http_arg(req, "container"), kp_http_arg(req, "window"), &err);

	if (j)
		kp_http_json(r, 200, j);
	else
		kp_http_error(r, strcmp(err, "no such container") ? 400 : 404, err);
}

static const struct kp_http_route routes[] = {
	{ "/metrics", h_metrics },
	{ "/health", h_health },
	{ "/api/v1/containers", h_containers },
	{ "/api/v1/containers/", h_container },
	{ "/api/v1/node", h_node },
	{ "/api/v1/history", h_history },
	{ NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse daemon [--listen ADDR:PORT] [--interval DURATION]\n"
		"                     [--max-cgroups N] [--max-ports N] [-v]\n"
		"  --listen ADDR:PORT  where to serve HTTP (default 0.0.0.0:9477)\n"
		"  --interval DUR      map read interval (default 2s; 100ms..1h)\n"
		"  --max-cgroups N     cgroups tracked in the kernel (default %d)\n"
		"  --max-ports N       ports with their own request-latency series per\n"
		"                      container and direction, the rest are \"other\" (16)\n"
		"  -v, --verbose       show libbpf's messages\n"
		"example: kpulse daemon --listen 127.0.0.1:9477\n",
		KP_MAX_CGROUPS);
}

static int run_loop(struct daemon *d, int sfd, int tfd)
{
	struct pollfd pf[4] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = tfd, .events = POLLIN },
		{ .fd = kp_http__poll_fd(d->http), .events = POLLIN },
		{ .fd = kp_collector__events_fd(d->col), .events = POLLIN },
	};

	for (;;) {
		int n = poll(pf, 4, kp_http__timeout_ms(d->http));

		if (n < 0 && errno != EINTR)
			return -errno;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM))
				return 0;
		}
		if (pf[1].revents & POLLIN) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
				uint64_t now = kp_now_mono_ns();

				kp_collector__collect(d->col, now);
				kp_analysis__update(d->an, d->col, now);
			}
		}
		if (pf[3].revents & POLLIN)
			kp_collector__poll_events(d->col);
		kp_http__run(d->http);
	}
}

int do_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' },
		{ "max-cgroups", required_argument, NULL, 'm' },
		{ "max-ports", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	long max_ports = -1;
	const char *listen_spec = "0.0.0.0:9477";
	struct daemon d = { .interval_ns = 2000000000ull };
	char why[512], root[4096];
	int c, lfd, sfd = -1, tfd = -1, ret = KP_EXIT_OTHER, err;
	long long v;
	sigset_t mask;

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:i:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'i':
			if (kp_opt_duration("daemon", "--interval", optarg, 100000000ll,
					    3600000000000ll, &v))
				return KP_EXIT_USAGE;
			d.interval_ns = (uint64_t)v;
			break;
		case 'm': {
			long n;

			if (kp_opt_count("daemon", "--max-cgroups", optarg, 16, 1000000, &n))
				return KP_EXIT_USAGE;
			lo.max_cgroups = (unsigned int)n;
			break;
		}
		case 'P':
			if (kp_opt_count("daemon", "--max-ports", optarg, 0, 1024, &max_ports))
				return KP_EXIT_USAGE;
			break;
		case 'v':
			kp_verbose++;
			break;
		case 'h':
			usage(stdout);
			return KP_EXIT_OK;
		default:
			usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("daemon: unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return KP_EXIT_USAGE;
	}
	if (kp_check_privileges(why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_NOPERM;
	}
	lfd = kp_http_listen(listen_spec, why, sizeof(why));
	if (lfd < 0) {
		kp_err("%s", why);
		return strstr(why, "expected ADDR:PORT") ? KP_EXIT_USAGE : KP_EXIT_OTHER;
	}
	if (kp_cgroup_v2_root(root, sizeof(root))) {
		kp_err("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
		close(lfd);
		return KP_EXIT_UNAVAILABLE;
	}
	/* signals become fd events before anything is loaded, so a SIGTERM
	 * during load still ends in cleanup */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	d.started_ns = kp_now_mono_ns();
	err = kp_loader__open(&d.loader, &lo);
	if (err == -EPERM) {
		ret = KP_EXIT_NOPERM;
		goto out;
	}
	if (err) {
		kp_err("no BPF program could be loaded and attached on this kernel "
		       "(run with -v for libbpf's log)");
		ret = KP_EXIT_UNAVAILABLE;
		goto out;
	}
	d.cg = kp_cgroups__new(root);
	if (!d.cg || kp_collector__new(&d.col, d.loader, d.cg)) {
		kp_err("out of memory");
		goto out;
	}
	kp_collector__set_oom_log(d.col, stderr);	/* one line per OOM kill */
	if (max_ports >= 0)
		kp_collector__set_max_ports(d.col, (unsigned int)max_ports);
	{
		struct kp_analysis_opts ao;

		kp_analysis_opts_default(&ao, d.interval_ns);
		d.an = kp_analysis__new(&ao, kp_now_mono_ns());
		if (!d.an) {
			kp_err("out of memory");
			goto out;
		}
	}
	kp_collector__collect(d.col, kp_now_mono_ns());
	kp_analysis__update(d.an, d.col, kp_now_mono_ns());
	if (kp_http__start(&d.http, lfd, routes, &d)) {
		kp_err("cannot start the HTTP server on %s", listen_spec);
		goto out;
	}
	lfd = -1;	/* owned by the server now */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	{
		struct itimerspec its = {
			.it_interval = { d.interval_ns / 1000000000ull, d.interval_ns % 1000000000ull },
			.it_value = { d.interval_ns / 1000000000ull, d.interval_ns % 1000000000ull },
		};
		timerfd_settime(tfd, 0, &its, NULL);
	}
	kp_info("listening on %s (cgroup v2 at %s, %u programs attached%s)",
		listen_spec, root, kp_loader__attached(d.loader),
		kp_loader__degraded(d.loader) ? ", degraded: see /health" : "");
	ret = run_loop(&d, sfd, tfd) ? KP_EXIT_OTHER : KP_EXIT_OK;
out:
	kp_http__stop(d.http);
	if (lfd >= 0)
		close(lfd);
	kp_analysis__free(d.an);
	kp_collector__free(d.col);
	kp_cgroups__free(d.cg);
	kp_loader__close(d.loader);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return ret;
}
