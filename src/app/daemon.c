/* daemon.c - `kpulse daemon`: its lifecycle and its loop.
 *
 * One thread, one poll loop over four fds: a signalfd (SIGINT/SIGTERM end
 * the loop, SIGHUP re-reads the config file; handlers never run code), a
 * timerfd for the collection interval (collect, analyse, evaluate alerts),
 * the HTTP server's epoll fd (routes.c) and the OOM event ring buffer's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <jansson.h>
#include "app/alerting.h"
#include "app/config.h"
#include "app/daemon.h"
#include "app/memtune.h"
#include "app/notify_systemd.h"
#include "app/pipeline.h"
#include "app/privileges.h"
#include "app/routes.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/signals.h"
#include "collect/collector.h"
#include "kernel/loader.h"
#include "model/model.h"
#include "outputs/http.h"
#include "outputs/metrics.h"
#include "outputs/scrape_cache.h"

struct daemon {
	struct kp_pipeline p;
	struct kp_http *http;
	struct kp_alerting *al;
	struct kp_metrics *mx;
	struct kp_routes_ctx routes;
	struct kp_priv_state priv;	/* what it holds once attached */
	struct kp_config *cfg;		/* running */
	const char *config_path;	/* NULL: defaults, SIGHUP does nothing */
	uint64_t interval_ns;
};

/* What the command line said; unset values are 0, NULL or -1. */
struct daemon_args {
	const char *listen;
	const char *web_config;
	uint64_t interval_ns;
	unsigned int max_cgroups;
	long max_ports;
	const char *config_path;
	const char *user;
	bool check;
	int log_format;
};

_Static_assert(KP_CFG_MAX_WINDOWS == KP_MAX_WINDOWS, "config and analysis windows differ");

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse daemon [--config FILE [--check]] [--listen ADDR:PORT]\n"
		"                     [--interval DURATION] [--max-cgroups N] [--max-ports N]\n"
		"                     [--log-format text|json] [--user USER] [--web-config FILE] [-v]\n"
		"  --config FILE       YAML settings, alert rules and receivers (see README);\n"
		"                      SIGHUP re-reads it, a bad file keeps the running one\n"
		"  --check             validate --config FILE and exit (0 ok, 64 bad)\n"
		"  --listen ADDR:PORT  where to serve HTTP (default 0.0.0.0:9477)\n"
		"  --web-config FILE   TLS and basic auth, in node_exporter's format;\n"
		"                      re-read when it or a certificate changes\n"
		"  --interval DUR      map read interval (default 2s; 100ms..1h)\n"
		"  --max-cgroups N     cgroups tracked in the kernel (default %d)\n"
		"  --max-ports N       ports with their own request-latency series per\n"
		"                      container and direction, the rest are \"other\" (16)\n"
		"  --log-format FMT    text (default) or json, one object per line\n"
		"  --user USER         run as USER once the programs are attached (it\n"
		"                      must be able to read the config and certificates)\n"
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

static void note(void *ctx, const char *msg)
{
	(void)ctx;
	kp_info("config: %s", msg);
}

/* SIGHUP: a bad file is reported as at start, and changes nothing; a good
 * one is merged as each key's row in the config table says (keys that
 * apply at start, and keys set by flags, keep their running values). */
static void reload(struct daemon *d)
{
	struct kp_config *nc;
	char err[512];

	kp_http__reload_web(d->http);	/* the web config, whatever the config says */
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
	kp_config_reload(d->cfg, nc, note, NULL);
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

static void on_tick(struct daemon *d)
{
	uint64_t now = kp_now_mono_ns();

	kp_collector__collect(d->p.col, now);
	kp_collector__stats_tick(d->p.col, now);
	kp_analysis__update(d->p.an, d->p.model, now);
	kp_alerting__eval(d->al, d->p.model, d->p.an, now);
	kp_memtune_trim();	/* what scrapes freed since, back to the system */
}

static int run_loop(struct daemon *d, int sfd, int tfd)
{
	struct pollfd pf[4] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = tfd, .events = POLLIN },
		{ .fd = kp_http__poll_fd(d->http), .events = POLLIN },
		{ .fd = kp_collector__events_fd(d->p.col), .events = POLLIN },
	};

	for (;;) {
		int n = poll(pf, 4, kp_http__timeout_ms(d->http)), sig;
		uint64_t ticks;

		if (n < 0 && errno != EINTR)
			return -errno;
		if (pf[0].revents & POLLIN) {
			sig = kp_signals_read(sfd);
			if (sig == SIGINT || sig == SIGTERM)
				return 0;
			if (sig == SIGHUP)
				reload(d);
		}
		if ((pf[1].revents & POLLIN) && read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
			on_tick(d);
		if (pf[3].revents & POLLIN)
			kp_collector__poll_events(d->p.col);
		kp_http__run(d->http);
	}
}

/* getopt; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct daemon_args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "web-config", required_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'i' },
		{ "max-cgroups", required_argument, NULL, 'm' },
		{ "max-ports", required_argument, NULL, 'P' },
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "user", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	long n;
	int c;

	memset(a, 0, sizeof(*a));
	a->max_ports = -1;
	a->log_format = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:i:m:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			a->listen = optarg;
			break;
		case 'W':
			a->web_config = optarg;
			break;
		case 'i':
			if (kp_opt_duration("daemon", "--interval", optarg, 100000000ll,
					    3600000000000ll, &v))
				return KP_EXIT_USAGE;
			a->interval_ns = (uint64_t)v;
			break;
		case 'm':
			if (kp_opt_count("daemon", "--max-cgroups", optarg, 16, 1000000, &n))
				return KP_EXIT_USAGE;
			a->max_cgroups = (unsigned int)n;
			break;
		case 'P':
			if (kp_opt_count("daemon", "--max-ports", optarg, 0, 1024, &a->max_ports))
				return KP_EXIT_USAGE;
			break;
		case 'c':
			a->config_path = optarg;
			break;
		case 'C':
			a->check = true;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				kp_err("daemon: --log-format '%s': expected text or json", optarg);
				return KP_EXIT_USAGE;
			}
			a->log_format = strcmp(optarg, "json") ? KP_LOG_TEXT : KP_LOG_JSON;
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
	if (a->check && !a->config_path) {
		kp_err("daemon: --check needs --config FILE");
		return KP_EXIT_USAGE;
	}
	return -1;
}

/* The file over the defaults, then the flags over the file (they win at
 * reloads too). Returns -1 to go on, else the exit code. */
static int settle_config(struct daemon *d, const struct daemon_args *a)
{
	struct kp_config *cfg = d->cfg;
	char why[512];

	kp_config_defaults(cfg);
	d->config_path = a->config_path;
	if (a->config_path && kp_config_load(a->config_path, cfg, why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_USAGE;
	}
	if (a->check) {
		const char *web = a->web_config ? a->web_config : cfg->web_config;

		if (web[0] && kp_http_check_web_config(web, why, sizeof(why))) {
			kp_err("%s", why);
			return KP_EXIT_USAGE;
		}
		if (web[0])
			printf("%s\n", why);
		printf("%s: ok (%u alert rules, %u Alertmanager and %u webhook receivers)\n",
		       a->config_path, cfg->n_rules, cfg->receivers.n_alertmanager,
		       cfg->receivers.n_webhook);
		return KP_EXIT_OK;
	}
	if (a->listen) {
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", a->listen);
		kp_config_pin(cfg, "listen");
	}
	if (a->web_config) {
		snprintf(cfg->web_config, sizeof(cfg->web_config), "%s", a->web_config);
		kp_config_pin(cfg, "web_config");
	}
	if (a->interval_ns) {
		cfg->interval_ns = a->interval_ns;
		kp_config_pin(cfg, "interval");
	}
	if (a->max_cgroups) {
		cfg->max_cgroups = a->max_cgroups;
		kp_config_pin(cfg, "max_cgroups");
	}
	if (a->max_ports >= 0) {
		cfg->max_ports = (unsigned int)a->max_ports;
		kp_config_pin(cfg, "max_ports");
	}
	if (a->user) {
		snprintf(cfg->user, sizeof(cfg->user), "%s", a->user);
		kp_config_pin(cfg, "user");
	}
	if (a->log_format >= 0) {
		cfg->log_format = (enum kp_log_format)a->log_format;
		kp_config_pin(cfg, "log_format");
	}
	kp_log_json = cfg->log_format == KP_LOG_JSON;
	d->interval_ns = cfg->interval_ns;
	return -1;
}

/* The pipeline as the config says: map size, bpf stats, RTT sampling,
 * percentile windows, history, health factors, named ports. */
static void pipeline_opts(const struct kp_config *cfg, struct kp_pipeline_opts *o,
			  struct kp_runtimes_paths *rt)
{
	memset(o, 0, sizeof(*o));
	kp_config_runtimes(cfg, rt);
	o->runtimes = rt;
	o->lo.force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL;
	o->lo.max_cgroups = cfg->max_cgroups;
	o->lo.stats = (enum kp_bpf_stats)cfg->bpf_stats;
	o->lo.rtt_sample = cfg->rtt_sample;
	kp_analysis_opts_default(&o->ao, cfg->interval_ns);
	memset(o->ao.windows_ns, 0, sizeof(o->ao.windows_ns));
	memcpy(o->ao.windows_ns, cfg->windows_ns, cfg->n_windows * sizeof(cfg->windows_ns[0]));
	o->ao.history_ns = cfg->history_ns;
	memcpy(o->ao.factors, cfg->factors, sizeof(o->ao.factors));
	o->max_ports = cfg->max_ports;
}

static int start_timer(uint64_t interval_ns)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = {
		.it_interval = { interval_ns / 1000000000ull, interval_ns % 1000000000ull },
		.it_value = { interval_ns / 1000000000ull, interval_ns % 1000000000ull },
	};

	if (tfd >= 0)
		timerfd_settime(tfd, 0, &its, NULL);
	return tfd;
}

static int drop_privileges(struct daemon *d)
{
	struct kp_priv_opts o = {
		.user = d->cfg->user[0] ? d->cfg->user : NULL,
		.keep_sys_admin = d->cfg->bpf_stats == KP_BPF_STATS_SAMPLED,
		/* not root (--user, or a unit's User= that granted it): docker's
		 * and podman's metadata are root's only. As root: only while the
		 * kernel does not announce cgroup deaths, so that a gone cgroup
		 * is told by opening its id (open_by_handle_at) rather than by
		 * walking the whole tree each collection */
		.keep_dac_read = d->cfg->user[0] != 0 || getuid() != 0,
		.deaths_unannounced = !kp_collector__deaths_announced(d->p.col),
		.seccomp = d->cfg->seccomp,
		.seccomp_kill = getenv("KPULSE_TEST_SECCOMP_KILL") != NULL,
	};
	char why[256];

	if (kp_privileges_drop(&o, &d->priv, why, sizeof(why))) {
		kp_err("%s", why);
		return -1;
	}
	kp_info("privileges: uid %d, capabilities [%s], no_new_privs, seccomp %s",
		(int)d->priv.uid, d->priv.caps, d->priv.seccomp ? "on" : "off");
	return 0;
}

/* Everything after the config: the socket, the pipeline, alerting, the
 * HTTP server. Returns -1 when running, else the exit code. */
static int start(struct daemon *d, int *lfd)
{
	struct kp_pipeline_opts po;
	struct kp_runtimes_paths rt;
	uint64_t started = kp_now_mono_ns();
	char why[512], url[512];
	int ret;

	if (kp_check_privileges(why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_NOPERM;
	}
	kp_memtune();	/* big buffers in their own mappings, freed for real */
	*lfd = kp_http_listen(d->cfg->listen, why, sizeof(why));
	if (*lfd < 0) {
		kp_err("%s", why);
		return strstr(why, "expected ADDR:PORT") ? KP_EXIT_USAGE : KP_EXIT_OTHER;
	}
	pipeline_opts(d->cfg, &po, &rt);
	kp_sd_status("loading and attaching BPF programs");
	ret = kp_pipeline_open(&d->p, &po);
	if (ret)
		return ret;
	/* attached: from here on only what is still needed, before any thread
	 * starts (each thread has its own capabilities and filter) */
	if (drop_privileges(d))
		return KP_EXIT_NOPERM;
	kp_collector__set_oom_log(d->p.col, stderr);	/* one line per OOM kill */
	/* cgroup files: every interval, 128 containers per tick at most (a
	 * thousand containers are each read every 8 intervals) */
	kp_collector__set_files_budget(d->p.col, d->interval_ns - d->interval_ns / 10, 128);
	generator_url(d->cfg->listen, url, sizeof(url));
	d->mx = kp_metrics__new();
	if (!d->mx || kp_alerting__new(&d->al, d->cfg, url, kp_now_mono_ns())) {
		kp_err("cannot start alerting (out of memory)");
		return KP_EXIT_OTHER;
	}
	kp_sd_status("first collection");
	kp_pipeline_tick(&d->p, kp_now_mono_ns());
	d->routes = (struct kp_routes_ctx){
		.p = &d->p, .al = d->al, .mx = d->mx, .scrapes = kp_scrape_cache__new(),
		.health = { .started_ns = started, .interval_ns = d->interval_ns,
			    .bpf_stats_wanted = d->cfg->bpf_stats != KP_BPF_STATS_OFF,
			    .rtt_sample = d->cfg->rtt_sample,
			    .privileges = kp_privileges_json(&d->priv) },
	};
	if (!d->routes.scrapes) {
		kp_err("cannot start the HTTP server on %s (out of memory)", d->cfg->listen);
		return KP_EXIT_OTHER;
	}
	ret = kp_http__start(&d->http, *lfd, d->cfg->web_config[0] ? d->cfg->web_config : NULL,
			     kp_routes, &d->routes, why, sizeof(why));
	if (ret) {
		kp_err("%s", why);
		return ret == -ENOMEM || ret == -EIO ? KP_EXIT_OTHER : KP_EXIT_USAGE;
	}
	*lfd = -1;	/* owned by the server now */
	kp_info("listening on %s (cgroup v2 at %s, %u programs attached%s)",
		d->cfg->listen, d->p.root, kp_loader__attached(d->p.loader),
		kp_loader__degraded(d->p.loader) ? ", degraded: see /health" : "");
	kp_sd_ready(d->cfg->listen, kp_loader__attached(d->p.loader),
		    kp_loader__degraded(d->p.loader));
	return -1;
}

int do_daemon(int argc, char **argv)
{
	static struct kp_config cfg;	/* large; one per process */
	struct daemon d = { .cfg = &cfg };
	struct daemon_args a;
	int lfd = -1, sfd, tfd = -1, ret;

	ret = parse_args(argc, argv, &a);
	if (ret < 0)
		ret = settle_config(&d, &a);
	if (ret >= 0)
		return ret;
	/* signals become fd events before anything is loaded, so a SIGTERM
	 * during load still ends in cleanup */
	sfd = kp_signals_fd(true);
	ret = start(&d, &lfd);
	if (ret < 0) {
		tfd = start_timer(d.interval_ns);
		ret = run_loop(&d, sfd, tfd) ? KP_EXIT_OTHER : KP_EXIT_OK;
		kp_sd_stopping();
	}
	kp_scrape_cache__free(d.routes.scrapes);	/* before the server it shares through */
	kp_http__stop(d.http);
	if (lfd >= 0)
		close(lfd);
	kp_alerting__free(d.al);
	kp_metrics__free(d.mx);
	json_decref(d.routes.health.privileges);
	kp_pipeline_close(&d.p);
	if (tfd >= 0)
		close(tfd);
	return ret;
}
