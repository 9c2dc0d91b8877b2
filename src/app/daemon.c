/* daemon.c - the long-running collector.
 *
 * One thread, one poll loop over four fds: a signalfd (SIGINT/SIGTERM end
 * the loop, SIGHUP re-reads the config file; handlers never run code), a
 * timerfd for the collection interval (collect, analyse, evaluate alerts),
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
#include "app/alerting.h"
#include "analysis/analysis.h"
#include "out/api.h"
#include "app/config.h"
#include "app/daemon.h"
#include "collect/cgroup.h"
#include "collect/collector.h"
#include "out/http.h"
#include "kernel/loader.h"
#include "app/log.h"
#include "out/metrics.h"
#include "out/prom.h"
#include "app/version.h"

#define SCRAPE_FRESH_NS 50000000ull

struct daemon {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	struct kp_collector *col;
	struct kp_http *http;
	struct kp_analysis *an;
	struct kp_alerting *al;
	struct kp_config *cfg;		/* running; NULL only before setup */
	const char *config_path;	/* NULL: defaults, SIGHUP does nothing */
	bool cli_log_format;		/* flags beat the file, at reloads too */
	bool cli_listen, cli_interval, cli_max_cgroups, cli_max_ports;
	uint64_t started_ns;
	uint64_t interval_ns;
};

_Static_assert(KP_CFG_MAX_WINDOWS == KP_MAX_WINDOWS, "config and analysis windows differ");

static void refresh(struct daemon *d)
{
	uint64_t now = kp_now_mono_ns();

	if (now - kp_collector__stats(d->col)->last_mono_ns >= SCRAPE_FRESH_NS)
		kp_collector__refresh(d->col, now);
}

static void h_metrics(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	const char *accept = kp_http_header(req, "Accept");
	/* OpenMetrics when the scraper asks for it (Prometheus does) */
	bool om = accept && strstr(accept, "application/openmetrics-text");
	FILE *f = open_memstream(&r->body, &r->len);

	if (!f)
		return;
	refresh(d);
	kp_prom_begin(f, om);
	kp_metrics_render(f, d->col, d->loader, d->cg);
	kp_alerting__prom(d->al, f);
	kp_prom_end(f);
	if (fclose(f)) {
		free(r->body);
		r->body = NULL;
		return;
	}
	r->status = 200;
	r->content_type = om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
			     : "text/plain; version=0.0.4; charset=utf-8";
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
	if (!kp_loader__stats_enabled(d->loader) && d->cfg->bpf_stats != KP_BPF_STATS_OFF)
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
	j = json_pack("{s:s, s:s, s:f, s:o, s:o, s:s, s:s, s:i, s:f, s:I}",
		      "status", status, "version", KPULSE_VERSION,
		      "uptime_seconds", (double)(now - d->started_ns) / 1e9,
		      "programs", progs, "features_missing", missing,
		      /* where run-queue waits start: the kernel's sched_info
		       * enqueue stamp, or our own from the wakeup programs */
		      "runq_source", kp_loader__sched_info(d->loader) ? "sched_info" : "wakeup",
		      /* per-program cost: "sampled" (one interval in 30),
		       * "always" or "off" */
		      "bpf_stats", kp_loader__stats_mode(d->loader),
		      /* tcp_probe: one received segment in this many */
		      "rtt_sample", (int)d->cfg->rtt_sample,
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

static void h_alerts(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;

	(void)req;
	kp_http_json(r, 200, kp_alerting__json(d->al));
}

/* POST /api/v1/alerts/{id}/ack with Authorization: Bearer <admin token> */
static void h_alert_ack(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	struct daemon *d = ctx;
	const char *rest = req->url + strlen("/api/v1/alerts/");
	const char *slash = strchr(rest, '/');
	const char *msg = "no such endpoint";
	char id[64];
	json_t *alert;
	unsigned int status;

	if (!slash || strcmp(slash, "/ack") || slash == rest || slash - rest >= (long)sizeof(id)) {
		kp_http_error(r, 404, msg);
		return;
	}
	snprintf(id, sizeof(id), "%.*s", (int)(slash - rest), rest);
	status = kp_alerting__ack(d->al, id, kp_http_header(req, "Authorization"),
				  kp_now_mono_ns(), &alert, &msg);
	if (alert)
		kp_http_json(r, status, alert);
	else
		kp_http_error(r, status, msg);
}

/* The dashboard: a static page in the binary that reads the JSON API. */
extern const char kp_dashboard_html[], kp_dashboard_html_end[];

static void h_dashboard(void *ctx, const struct kp_http_req *req, struct kp_http_resp *r)
{
	size_t n = (size_t)(kp_dashboard_html_end - kp_dashboard_html);

	(void)ctx;
	(void)req;
	r->body = malloc(n);
	if (!r->body)
		return;
	memcpy(r->body, kp_dashboard_html, n);
	r->len = n;
	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
}

static const struct kp_http_route routes[] = {
	{ "/", h_dashboard, NULL },
	{ "/metrics", h_metrics, NULL },
	{ "/health", h_health, NULL },
	{ "/api/v1/containers", h_containers, NULL },
	{ "/api/v1/containers/", h_container, NULL },
	{ "/api/v1/node", h_node, NULL },
	{ "/api/v1/history", h_history, NULL },
	{ "/api/v1/alerts", h_alerts, NULL },
	{ "/api/v1/alerts/", h_alert_ack, "POST" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse daemon [--config FILE [--check]] [--listen ADDR:PORT]\n"
		"                     [--interval DURATION] [--max-cgroups N] [--max-ports N]\n"
		"                     [--log-format text|json] [-v]\n"
		"  --config FILE       YAML settings, alert rules and receivers (see README);\n"
		"                      SIGHUP re-reads it, a bad file keeps the running one\n"
		"  --check             validate --config FILE and exit (0 ok, 64 bad)\n"
		"  --listen ADDR:PORT  where to serve HTTP (default 0.0.0.0:9477)\n"
		"  --interval DUR      map read interval (default 2s; 100ms..1h)\n"
		"  --max-cgroups N     cgroups tracked in the kernel (default %d)\n"
		"  --max-ports N       ports with their own request-latency series per\n"
		"                      container and direction, the rest are \"other\" (16)\n"
		"  --log-format FMT    text (default) or json, one object per line\n"
		"  -v, --verbose       show libbpf's messages\n"
		"flags override the file. example: kpulse daemon --listen 127.0.0.1:9477\n",
		KP_MAX_CGROUPS);
}

/* "http://<addr or host name>:<port>/api/v1/alerts", for generatorURL */
static void generator_url(const char *listen_spec, char *buf, size_t len)
{
	const char *colon = strrchr(listen_spec, ':');
	char host[256] = "";
	int n = colon ? (int)(colon - listen_spec) : 0;

	if (n && n < (int)sizeof(host))
		snprintf(host, sizeof(host), "%.*s", n, listen_spec);
	if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "[::]")) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = 0;
	}
	snprintf(buf, len, "http://%s:%s/api/v1/alerts", host, colon ? colon + 1 : "9477");
}

/* Settings read once at start; a reload that changes them says so and
 * keeps the running values. */
static void keep_restart_settings(const struct kp_config *run, struct kp_config *nc)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fixed[] = {
#define F(key, m) { key, offsetof(struct kp_config, m), sizeof(((struct kp_config *)0)->m) }
		F("listen", listen), F("interval", interval_ns), F("windows", windows_ns),
		F(NULL, n_windows), F("history", history_ns), F("max_cgroups", max_cgroups),
		F("max_ports", max_ports), F("health", factors), F("bpf_stats", bpf_stats),
		F("rtt_sample", rtt_sample),
#undef F
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char *to = (char *)nc + fixed[i].off;
		const char *from = (const char *)run + fixed[i].off;

		if (fixed[i].key && memcmp(to, from, fixed[i].size))
			kp_info("config: '%s' changed; it takes effect at the next start",
				fixed[i].key);
		memcpy(to, from, fixed[i].size);
	}
}

/* SIGHUP: a bad file is reported as at start, and changes nothing. */
static void reload(struct daemon *d)
{
	struct kp_config *nc;
	char err[512];

	if (!d->config_path) {
		kp_info("SIGHUP: no --config file to re-read");
		return;
	}
	nc = malloc(sizeof(*nc));
	if (!nc) {
		kp_err("config: out of memory; keeping the running configuration");
		return;
	}
	if (kp_config_load(d->config_path, nc, err, sizeof(err))) {
		kp_err("%s; keeping the running configuration", err);
		free(nc);
		return;
	}
	if (d->cli_log_format)
		nc->log_format = d->cfg->log_format;
	if (d->cli_listen)
		memcpy(nc->listen, d->cfg->listen, sizeof(nc->listen));
	if (d->cli_interval)
		nc->interval_ns = d->cfg->interval_ns;
	if (d->cli_max_cgroups)
		nc->max_cgroups = d->cfg->max_cgroups;
	if (d->cli_max_ports)
		nc->max_ports = d->cfg->max_ports;
	keep_restart_settings(d->cfg, nc);
	if (kp_alerting__reconfigure(d->al, nc, kp_now_mono_ns())) {
		kp_err("config: out of memory applying %s; keeping the running configuration",
		       d->config_path);
		free(nc);
		return;
	}
	kp_log_json = nc->log_format == KP_LOG_JSON;
	*d->cfg = *nc;
	free(nc);
	nc = d->cfg;
	kp_info("config: reloaded %s (%u alert rules, %u receivers)", d->config_path,
		nc->n_rules, nc->receivers.n_alertmanager + nc->receivers.n_webhook);
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

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
					return 0;
				if (si.ssi_signo == SIGHUP)
					reload(d);
			}
		}
		if (pf[1].revents & POLLIN) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
				uint64_t now = kp_now_mono_ns();

				kp_collector__collect(d->col, now);
				kp_loader__stats_tick(d->loader, now);
				kp_analysis__update(d->an, d->col, now);
				kp_alerting__eval(d->al, d->col, d->an, now);
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
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct kp_config cfg;	/* large; one per process */
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	long max_ports = -1;
	const char *listen_spec = NULL;
	struct daemon d = { .interval_ns = 0, .cfg = &cfg };
	char why[512], root[4096], url[512];
	int c, lfd, sfd = -1, tfd = -1, ret = KP_EXIT_OTHER, err, log_format = -1;
	bool check = false;
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
		case 'c':
			d.config_path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				kp_err("daemon: --log-format '%s': expected text or json", optarg);
				return KP_EXIT_USAGE;
			}
			log_format = strcmp(optarg, "json") ? KP_LOG_TEXT : KP_LOG_JSON;
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
	if (check && !d.config_path) {
		kp_err("daemon: --check needs --config FILE");
		return KP_EXIT_USAGE;
	}
	kp_config_defaults(&cfg);
	if (d.config_path && kp_config_load(d.config_path, &cfg, why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_USAGE;
	}
	if (check) {
		printf("%s: ok (%u alert rules, %u Alertmanager and %u webhook receivers)\n",
		       d.config_path, cfg.n_rules, cfg.receivers.n_alertmanager,
		       cfg.receivers.n_webhook);
		return KP_EXIT_OK;
	}
	/* flags beat the file */
	d.cli_listen = listen_spec != NULL;
	d.cli_interval = d.interval_ns != 0;
	d.cli_max_cgroups = lo.max_cgroups != 0;
	d.cli_max_ports = max_ports >= 0;
	if (listen_spec)
		snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen_spec);
	listen_spec = cfg.listen;
	if (d.interval_ns)
		cfg.interval_ns = d.interval_ns;
	d.interval_ns = cfg.interval_ns;
	if (lo.max_cgroups)
		cfg.max_cgroups = lo.max_cgroups;
	lo.max_cgroups = cfg.max_cgroups;
	lo.stats = (enum kp_bpf_stats)cfg.bpf_stats;
	lo.rtt_sample = cfg.rtt_sample;
	if (max_ports >= 0)
		cfg.max_ports = (unsigned int)max_ports;
	max_ports = cfg.max_ports;
	d.cli_log_format = log_format >= 0;
	if (d.cli_log_format)
		cfg.log_format = (enum kp_log_format)log_format;
	kp_log_json = cfg.log_format == KP_LOG_JSON;
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
	/* cgroup files: every interval, 128 containers per tick at most (a
	 * thousand containers are each read every 8 intervals) */
	kp_collector__set_files_budget(d.col, d.interval_ns - d.interval_ns / 10, 128);
	{
		struct kp_analysis_opts ao;

		kp_analysis_opts_default(&ao, d.interval_ns);
		memset(ao.windows_ns, 0, sizeof(ao.windows_ns));
		memcpy(ao.windows_ns, cfg.windows_ns, cfg.n_windows * sizeof(cfg.windows_ns[0]));
		ao.history_ns = cfg.history_ns;
		memcpy(ao.factors, cfg.factors, sizeof(ao.factors));
		d.an = kp_analysis__new(&ao, kp_now_mono_ns());
		if (!d.an) {
			kp_err("out of memory");
			goto out;
		}
	}
	generator_url(listen_spec, url, sizeof(url));
	if (kp_alerting__new(&d.al, &cfg, url, kp_now_mono_ns())) {
		kp_err("cannot start alerting (out of memory)");
		goto out;
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
	kp_alerting__free(d.al);
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
