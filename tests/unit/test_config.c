/* test_config.c - the configuration file: defaults, every section read
 * back, and each kind of mistake reported at its line and column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "app/config.h"
#include "base/opts.h"
#include "kernel/loader.h"

static struct kp_config cfg;
static char err[512];

static int parse(const char *text)
{
	err[0] = 0;
	return kp_config_parse("t.yaml", text, strlen(text), &cfg, err, sizeof(err));
}

/* The error must start with "t.yaml:LINE:COL: " and mention @needle. */
static void expect_error(const char *text, int line, int col, const char *needle)
{
	char prefix[64];
	int ret = parse(text);

	snprintf(prefix, sizeof(prefix), "t.yaml:%d:%d: ", line, col);
	if (ret != -EINVAL || strncmp(err, prefix, strlen(prefix)) || !strstr(err, needle)) {
		print_error("input:\n%s\nwant %s...%s, got (%d) %s\n", text, prefix, needle, ret, err);
		fail();
	}
}

static const struct kp_rule *rule(const char *name)
{
	for (unsigned int i = 0; i < cfg.n_rules; i++)
		if (!strcmp(cfg.rules[i].name, name))
			return &cfg.rules[i];
	return NULL;
}

static void test_defaults(void **s)
{
	const struct kp_rule *r;

	(void)s;
	kp_config_defaults(&cfg);
	assert_string_equal(cfg.listen, "0.0.0.0:9477");
	assert_int_equal(cfg.interval_ns, 2000000000ull);
	assert_int_equal(cfg.n_windows, 2);
	assert_int_equal(cfg.windows_ns[0], 60000000000ull);
	assert_int_equal(cfg.windows_ns[1], 300000000000ull);
	assert_int_equal(cfg.history_ns, 900000000000ull);
	assert_int_equal(cfg.max_cgroups, 4096);
	assert_int_equal(cfg.max_ports, 16);
	assert_int_equal(cfg.rtt_sample, 8);
	assert_int_equal(cfg.max_alerts, 1000);
	assert_string_equal(cfg.admin_token, "");
	assert_int_equal(cfg.log_format, KP_LOG_TEXT);
	assert_int_equal(cfg.bpf_stats, KP_BPF_STATS_SAMPLED);
	assert_true(cfg.factors[KP_F_RUNQ_P99].bad == kp_factor_defaults[KP_F_RUNQ_P99].bad);
	assert_int_equal(cfg.receivers.n_alertmanager, 0);
	assert_int_equal(cfg.receivers.timeout_ns, 5000000000ull);
	assert_int_equal(cfg.receivers.queue_size, 256);
	assert_int_equal(cfg.receivers.resend_ns, 60000000000ull);
	assert_true(cfg.n_rules >= 4);
	r = rule("ContainerRunqueueLatencyHigh");
	assert_non_null(r);
	assert_int_equal(r->metric, KP_M_RUNQ_P99);
	assert_true(r->threshold == 0.050 && r->clear == 0.025);
	assert_int_equal(r->for_ns, 60000000000ull);
	assert_int_equal(r->window_ns, 60000000000ull);	/* the first window */
	r = rule("ContainerOOMKill");
	assert_non_null(r);
	assert_int_equal(r->severity, KP_SEV_CRITICAL);
	assert_int_equal(r->window_ns, 300000000000ull);
	r = rule("NodeCPUPressureHigh");
	assert_non_null(r);
	assert_int_equal(r->scope, KP_SCOPE_NODE);
	/* every built-in rule is one the file syntax would accept */
	for (unsigned int i = 0; i < cfg.n_rules; i++) {
		r = &cfg.rules[i];
		assert_true(r->op == KP_OP_ABOVE ? r->clear <= r->threshold : r->clear >= r->threshold);
		assert_true(r->summary[0]);
	}
}

/* An empty file is refused (a truncated or wrongly mounted file would
 * otherwise reset everything, the admin token and receivers included); an
 * empty mapping means the defaults on purpose. */
static void test_empty_files_refused_empty_mapping_is_defaults(void **s)
{
	struct kp_config d;

	(void)s;
	kp_config_defaults(&d);
	assert_int_equal(parse(""), -EINVAL);
	assert_non_null(strstr(err, "t.yaml:1:1: no settings"));
	assert_int_equal(parse("# only a comment\n"), -EINVAL);
	assert_int_equal(parse("---\n~\n"), -EINVAL);
	assert_int_equal(parse("{}\n"), 0);
	assert_memory_equal(&cfg, &d, sizeof(d));
}

struct notes {
	char text[8][160];
	int n;
};

static void take_note(void *ctx, const char *msg)
{
	struct notes *n = ctx;

	if (n->n < 8)
		snprintf(n->text[n->n++], sizeof(n->text[0]), "%s", msg);
}

static bool noted(const struct notes *n, const char *s)
{
	for (int i = 0; i < n->n; i++)
		if (strstr(n->text[i], s))
			return true;
	return false;
}

/* The table decides what a reload applies: restart-only keys keep their
 * running value and say so, pinned (command-line) keys keep theirs
 * silently, and a key the reload empties is named. */
/* Durations as users write them; strtod alone would also take "nan",
 * "inf", hex floats and leading spaces (found by fuzz_duration). */
static void test_durations(void **s)
{
	(void)s;
	assert_int_equal(kp_parse_duration("500ms"), 500000000ll);
	assert_int_equal(kp_parse_duration("2"), 2000000000ll);
	assert_int_equal(kp_parse_duration("1.5s"), 1500000000ll);
	assert_int_equal(kp_parse_duration("1h"), 3600000000000ll);
	assert_int_equal(kp_parse_duration(".5m"), 30000000000ll);
	assert_int_equal(kp_parse_duration("250us"), 250000ll);
	assert_int_equal(kp_parse_duration("10ns"), 10ll);
	for (const char *const *b = (const char *const[]){ "nan", "nAn", "inf", "-1s", " 1s",
			"0x10", "1p3", "1e999", "", "s", "1 s", "3d", NULL }; *b; b++)
		assert_int_equal(kp_parse_duration(*b), -1);
}

static void test_reload_follows_the_table(void **s)
{
	static struct kp_config run, next;
	struct notes n = { 0 };

	(void)s;
	assert_int_equal(parse("listen: 127.0.0.1:1\ninterval: 5s\nadmin_token: s3cret-token-1\n"
			       "log_format: json\nreceivers: {webhook: [http://127.0.0.1:1/x]}\n"), 0);
	run = cfg;
	assert_int_equal(kp_config_pin(&run, "log_format"), 0);
	assert_int_equal(kp_config_pin(&run, "nonsense"), -ENOENT);
	assert_int_equal(parse("listen: 127.0.0.1:2\ninterval: 5s\nlog_format: text\n"
			       "max_alerts: 7\n"), 0);
	next = cfg;
	kp_config_reload(&run, &next, take_note, &n);
	assert_string_equal(next.listen, "127.0.0.1:1");		/* restart-only */
	assert_true(noted(&n, "'listen' changed; it takes effect at the next start"));
	assert_int_equal(next.log_format, KP_LOG_JSON);		/* pinned */
	assert_false(noted(&n, "log_format"));
	assert_string_equal(next.admin_token, "");			/* applied, and said */
	assert_true(noted(&n, "the reload removes 'admin_token'"));
	assert_true(noted(&n, "the reload removes 'receivers'"));
	assert_int_equal(next.max_alerts, 7);
	assert_true(noted(&n, "'max_alerts' changed"));
	assert_false(noted(&n, "interval"));				/* unchanged */
}

static void test_full_file(void **s)
{
	const struct kp_rule *r;
	static const char text[] =
		"listen: 127.0.0.1:9999\n"
		"interval: 500ms\n"
		"windows: [30s, 2m, 10m]\n"
		"history: 1h\n"
		"max_cgroups: 100\n"
		"max_ports: 4\n"
		"rtt_sample: 1\n"
		"max_alerts: 50\n"
		"admin_token: s3cret-token\n"
		"log_format: json\n"
		"bpf_stats: always\n"
		"labels:\n"
		"  cluster: prod\n"
		"  dc: eu-1\n"
		"health:\n"
		"  runq_p99: {good: 1ms, bad: 20ms, weight: 40}\n"
		"  memory_pressure:\n"
		"    good: 2%\n"
		"    bad: 30\n"
		"alerts:\n"
		"  - name: RunqHigh\n"
		"    metric: runq_p99\n"
		"    match: 'web*'\n"
		"    threshold: 20ms\n"
		"    clear: 0.01\n"
		"    for: 30s\n"
		"    window: 30s\n"
		"    severity: critical\n"
		"    summary: web is starved\n"
		"  - name: NodeHealthLow\n"
		"    metric: health_score\n"
		"    scope: node\n"
		"    op: '<'\n"
		"    threshold: 50\n"
		"    clear: 70\n"
		"  - name: NoClear\n"
		"    metric: oom_kills\n"
		"    threshold: 0\n"
		"receivers:\n"
		"  alertmanager: [http://127.0.0.1:9093, 'https://am.example:9093/']\n"
		"  webhook: http://127.0.0.1:8080/hook\n"
		"  timeout: 2s\n"
		"  queue_size: 10\n"
		"  retries: 2\n"
		"  backoff: 100ms\n"
		"  resend_interval: 30s\n";

	(void)s;
	assert_int_equal(parse(text), 0);
	assert_string_equal(cfg.listen, "127.0.0.1:9999");
	assert_int_equal(cfg.interval_ns, 500000000ull);
	assert_int_equal(cfg.n_windows, 3);
	assert_int_equal(cfg.windows_ns[2], 600000000000ull);
	assert_int_equal(cfg.history_ns, 3600000000000ull);
	assert_int_equal(cfg.max_cgroups, 100);
	assert_int_equal(cfg.max_ports, 4);
	assert_int_equal(cfg.rtt_sample, 1);
	assert_int_equal(cfg.max_alerts, 50);
	assert_string_equal(cfg.admin_token, "s3cret-token");
	assert_int_equal(cfg.log_format, KP_LOG_JSON);
	assert_int_equal(cfg.bpf_stats, KP_BPF_STATS_ALWAYS);
	assert_int_equal(cfg.n_labels, 2);
	assert_string_equal(cfg.labels[1].name, "dc");
	assert_string_equal(cfg.labels[1].value, "eu-1");
	assert_true(fabs(cfg.factors[KP_F_RUNQ_P99].good - 0.001) < 1e-12);
	assert_true(fabs(cfg.factors[KP_F_RUNQ_P99].bad - 0.020) < 1e-12);
	assert_true(cfg.factors[KP_F_RUNQ_P99].weight == 40);
	assert_string_equal(cfg.factors[KP_F_RUNQ_P99].name, "runq_p99");
	assert_true(cfg.factors[KP_F_MEM_PRESSURE].good == 2 && cfg.factors[KP_F_MEM_PRESSURE].bad == 30);
	assert_true(cfg.factors[KP_F_MEM_PRESSURE].weight == kp_factor_defaults[KP_F_MEM_PRESSURE].weight);
	assert_int_equal(cfg.n_rules, 3);	/* the file's rules replace the built-in ones */
	r = rule("RunqHigh");
	assert_non_null(r);
	assert_string_equal(r->match, "web*");
	assert_true(fabs(r->threshold - 0.020) < 1e-12 && fabs(r->clear - 0.01) < 1e-12);
	assert_int_equal(r->for_ns, 30000000000ull);
	assert_int_equal(r->window_ns, 30000000000ull);
	assert_int_equal(r->severity, KP_SEV_CRITICAL);
	assert_string_equal(r->summary, "web is starved");
	r = rule("NodeHealthLow");
	assert_int_equal(r->scope, KP_SCOPE_NODE);
	assert_int_equal(r->op, KP_OP_BELOW);
	assert_string_equal(r->match, "");
	assert_int_equal(r->severity, KP_SEV_WARNING);
	r = rule("NoClear");
	assert_true(r->clear == r->threshold);	/* no clear: no hysteresis */
	assert_int_equal(r->window_ns, 30000000000ull);	/* the first window */
	assert_string_equal(r->match, "*");
	assert_int_equal(cfg.receivers.n_alertmanager, 2);
	assert_string_equal(cfg.receivers.alertmanager[1], "https://am.example:9093/");
	assert_int_equal(cfg.receivers.n_webhook, 1);	/* one URL is a list of one */
	assert_int_equal(cfg.receivers.timeout_ns, 2000000000ull);
	assert_int_equal(cfg.receivers.queue_size, 10);
	assert_int_equal(cfg.receivers.retries, 2);
	assert_int_equal(cfg.receivers.backoff_ns, 100000000ull);
	assert_int_equal(cfg.receivers.resend_ns, 30000000000ull);
}

static void test_alerts_empty_list_means_no_rules(void **s)
{
	(void)s;
	assert_int_equal(parse("alerts: []\n"), 0);
	assert_int_equal(cfg.n_rules, 0);
	/* a section left empty keeps its defaults */
	assert_int_equal(parse("receivers:\n"), 0);
	assert_int_equal(cfg.receivers.queue_size, 256);
	assert_true(cfg.n_rules >= 4);
}

static void test_builtin_windows_follow_the_file(void **s)
{
	(void)s;
	assert_int_equal(parse("windows: [20s, 2m]\n"), 0);
	assert_int_equal(rule("ContainerRunqueueLatencyHigh")->window_ns, 20000000000ull);
	assert_int_equal(rule("ContainerOOMKill")->window_ns, 120000000000ull);	/* cut to 2m */
}

static void test_errors_top_level(void **s)
{
	(void)s;
	expect_error("listen: :9477\nintervall: 2s\n", 2, 1, "unknown key 'intervall'");
	expect_error("interval: [1, 2]\n", 1, 11, "expected a duration");
	expect_error("interval: 5x\n", 1, 11, "'5x' is not a duration");
	expect_error("interval: 10ms\n", 1, 11, "out of range (100ms to 1h)");
	expect_error("history: 15m\nhistory: 10m\n", 2, 1, "duplicate key 'history' (first at line 1)");
	expect_error("max_cgroups: -5\n", 1, 14, "not a whole number");
	expect_error("max_cgroups: 4.5\n", 1, 14, "not a whole number");
	expect_error("max_ports: 2000\n", 1, 12, "out of range (0 to 1024)");
	expect_error("rtt_sample: 0\n", 1, 13, "out of range (1 to 1024)");
	expect_error("rtt_sample: 12\n", 1, 13, "rtt_sample: 12 is not a power of two (1, 2, 4 ... 1024)");
	expect_error("log_format: yaml\n", 1, 13, "'yaml' is not one of text, json");
	expect_error("bpf_stats: yes\n", 1, 12, "'yes' is not one of sampled, always, off");
	expect_error("listen: localhost\n", 1, 9, "expected ADDR:PORT");
	expect_error("listen: ':99999'\n", 1, 9, "port must be a number");
	expect_error("listen: {a: 1}\n", 1, 9, "expected a string, found a mapping");
	expect_error("admin_token: has space\n", 1, 14, "printable ASCII");
	expect_error("admin_token: short\n", 1, 14, "too short");
	expect_error("windows: [5m, 1m]\n", 1, 15, "ascending");
	expect_error("windows: []\n", 1, 10, "at least one");
	expect_error("windows: [1m, 2m, 3m, 4m, 5m]\n", 1, 27, "too many entries (at most 4)");
	expect_error("windows: 1m\n", 1, 10, "expected a list");
	expect_error("- a\n- b\n", 1, 1, "config: expected a mapping, found a list");
	expect_error("labels: {alertname: x}\n", 1, 10, "set by each rule");
	expect_error("labels: {'bad-name': x}\n", 1, 10, "not a valid label name");
	expect_error("labels: [a]\n", 1, 9, "expected a mapping");
	expect_error("interval: 2s\n---\ninterval: 3s\n", 3, 1, "only one YAML document");
}

static void test_errors_syntax(void **s)
{
	static const char bad_utf8[] = "listen: \"\xff\xfe\"\n";

	(void)s;
	/* libyaml's own message, at libyaml's position */
	expect_error("interval: 2s\n  history: 1m\n", 2, 10, "mapping values are not allowed");
	expect_error("windows: [1m, 5m\nhistory: 1m\n", 2, 8, "did not find expected");
	expect_error("listen: 'open\n", 2, 1, "unexpected end of stream");
	assert_int_equal(kp_config_parse("t.yaml", bad_utf8, sizeof(bad_utf8) - 1, &cfg, err,
					 sizeof(err)), -EINVAL);
	assert_true(!strncmp(err, "t.yaml:1:", 9));
	assert_non_null(strstr(err, "UTF-8"));
}

static void test_errors_rules(void **s)
{
	(void)s;
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1ms\n    sevrity: info\n",
		     5, 5, "alert rule: unknown key 'sevrity'");
	expect_error("alerts:\n  - name: A\n    threshold: 1\n", 2, 5, "'metric' is missing");
	expect_error("alerts:\n  - metric: cpu_cores\n    threshold: 1\n", 2, 5, "'name' is missing");
	expect_error("alerts:\n  - name: A\n    metric: cpu_cores\n", 2, 5, "'threshold' is missing");
	expect_error("alerts:\n  - name: A\n    metric: nope\n    threshold: 1\n", 3, 13,
		     "unknown metric 'nope' (one of runq_p99,");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 10ms\n    clear: 20ms\n",
		     5, 12, "clear: 0.02 is above the threshold 0.01");
	expect_error("alerts:\n  - name: A\n    metric: health_score\n    op: below\n"
		     "    threshold: 50\n    clear: 40\n", 6, 12, "below the threshold");
	expect_error("alerts:\n  - name: A\n    metric: memory_pressure\n    threshold: 20ms\n",
		     4, 16, "'20ms' is a duration, but memory_pressure is in %");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 20%\n",
		     4, 16, "is a percentage, but runq_p99 is in s");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: lots\n",
		     4, 16, "'lots' is not a number");
	expect_error("alerts:\n  - name: A\n    metric: cpu_pressure\n    scope: node\n"
		     "    match: web\n    threshold: 1\n", 5, 12, "only rules with scope container");
	expect_error("alerts:\n  - name: A\n    metric: cpu_pressure\n    window: 1m\n    threshold: 1\n",
		     4, 13, "not computed over a window");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    window: 1h\n    threshold: 1\n",
		     4, 13, "longer than the longest of `windows` (5m)");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1\n"
		     "  - name: A\n    metric: runq_p99\n    threshold: 2\n",
		     5, 11, "duplicate rule 'A' (also at line 2)");
	expect_error("alerts:\n  - name: 'two words'\n    metric: runq_p99\n    threshold: 1\n",
		     2, 11, "use letters, digits");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1\n    severity: page\n",
		     5, 15, "'page' is not one of info, warning, critical");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1\n    for: forever\n",
		     5, 10, "not a duration");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1\n    match: ''\n",
		     5, 12, "must not be empty");
	expect_error("alerts:\n  - name: A\n    metric: runq_p99\n    threshold: 1\n    summary: [x]\n",
		     5, 14, "expected a string, found a list");
	expect_error("alerts: {name: A}\n", 1, 9, "expected a list of rules");
	expect_error("alerts:\n  - just a string\n", 2, 5, "alert rule: expected a mapping, found a scalar");
}

static void test_errors_health_and_receivers(void **s)
{
	(void)s;
	expect_error("health:\n  runq: {good: 1ms}\n", 2, 3, "unknown factor 'runq' (one of runq_p99,");
	expect_error("health:\n  runq_p99: {good: 10ms, bad: 5ms}\n", 2, 31,
		     "bad (0.005) must not be below good (0.01)");
	expect_error("health:\n  runq_p99: {weight: 200}\n", 2, 22, "out of range (0 to 100)");
	expect_error("health:\n  cpu_pressure: {good: 1s}\n", 2, 24, "is a duration, but health.cpu_pressure");
	expect_error("health:\n  runq_p99: {bogus: 1}\n", 2, 14, "health.runq_p99: unknown key 'bogus' "
		     "(known: good, bad, weight)");
	expect_error("receivers:\n  alertmanager: [ftp://x]\n", 2, 18, "not an http:// or https:// URL");
	expect_error("receivers:\n  alertmanager: ['http://']\n", 2, 18, "has no host");
	expect_error("receivers:\n  webhook: ['http://a b']\n", 2, 13, "may not contain spaces");
	expect_error("receivers:\n  queue_size: 0\n", 2, 15, "out of range (1 to 65536)");
	expect_error("receivers:\n  timeout: 1h\n", 2, 12, "out of range (100ms to 1m)");
	expect_error("receivers:\n  slack: x\n", 2, 3, "receivers: unknown key 'slack'");
	expect_error("receivers: [a]\n", 1, 12, "receivers: expected a mapping, found a list");
}

static void test_runtimes_section(void **s)
{
	struct kp_runtimes_paths rt;

	(void)s;
	/* nothing said: the defaults, the host root from the environment */
	assert_int_equal(parse("interval: 2s\n"), 0);
	unsetenv("KPULSE_HOST_ROOT");
	kp_config_runtimes(&cfg, &rt);
	assert_string_equal(rt.host_root, "");
	assert_int_equal(rt.n_docker, 1);
	assert_string_equal(rt.docker[0], "/var/lib/docker");
	assert_string_equal(rt.storage[0], "/var/lib/containers/storage");
	assert_string_equal(rt.containerd[0], "/run/containerd");
	assert_string_equal(rt.kubelet_logs, "/var/log");
	assert_int_equal(rt.refresh_ns, 1000000000ull);
	setenv("KPULSE_HOST_ROOT", "/host", 1);
	kp_config_runtimes(&cfg, &rt);
	assert_string_equal(rt.host_root, "/host");
	/* a lone path is a list of one; the file's host root wins */
	assert_int_equal(parse("runtimes:\n  host_root: /rootfs\n  docker: /data/docker\n"
			       "  containers_storage: [/a, /b]\n  kubelet_logs: /logs\n"
			       "  refresh: 5s\n"), 0);
	kp_config_runtimes(&cfg, &rt);
	unsetenv("KPULSE_HOST_ROOT");
	assert_string_equal(rt.host_root, "/rootfs");
	assert_int_equal(rt.n_docker, 1);
	assert_string_equal(rt.docker[0], "/data/docker");
	assert_int_equal(rt.n_storage, 2);
	assert_string_equal(rt.storage[1], "/b");
	assert_string_equal(rt.containerd[0], "/run/containerd");	/* not said: default */
	assert_string_equal(rt.kubelet_logs, "/logs");
	assert_int_equal(rt.refresh_ns, 5000000000ull);
	expect_error("runtimes:\n  docker: var/lib/docker\n", 2, 11, "not an absolute path");
	expect_error("runtimes:\n  containerd: [/a, /b, /c, /d, /e]\n", 2, 32,
		     "too many entries (at most 4)");
	expect_error("runtimes:\n  refresh: 1ms\n", 2, 12, "out of range");
	expect_error("runtimes:\n  podman: /x\n", 2, 3, "runtimes: unknown key 'podman'");
	expect_error("runtimes:\n  host_root: \"a\\tb\"\n", 2, 14, "not an absolute path");
}

static void test_runtimes_apply_at_restart(void **s)
{
	static struct kp_config run, next;
	struct notes n = { 0 };

	(void)s;
	assert_int_equal(parse("runtimes: {docker: /one}\n"), 0);
	run = cfg;
	assert_int_equal(parse("runtimes: {docker: /two}\n"), 0);
	next = cfg;
	kp_config_reload(&run, &next, take_note, &n);
	assert_string_equal(next.runtimes.docker[0], "/one");
	assert_true(noted(&n, "'runtimes' changed; it takes effect at the next start"));
}

static void test_error_keeps_config(void **s)
{
	struct kp_config before;

	(void)s;
	assert_int_equal(parse("interval: 3s\n"), 0);
	before = cfg;
	assert_int_equal(parse("interval: 4s\nbogus: 1\n"), -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(before));
}

static void test_deep_nesting_and_aliases(void **s)
{
	char deep[4096];
	size_t n = 0;

	(void)s;
	/* an alias is the node it names: reading it is fine */
	assert_int_equal(parse("windows: &w [1m, 5m]\nx: *w\n"), -EINVAL);
	assert_non_null(strstr(err, "unknown key 'x'"));
	n += snprintf(deep + n, sizeof(deep) - n, "receivers: ");
	for (int i = 0; i < 200; i++)
		n += snprintf(deep + n, sizeof(deep) - n, "{a: ");
	for (int i = 0; i < 200; i++)
		n += snprintf(deep + n, sizeof(deep) - n, "}");
	assert_int_equal(parse(deep), -EINVAL);	/* an error, not a crash */
}

static void test_load_from_disk(void **s)
{
	char path[] = "/tmp/kpulse-test-config-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "interval: 1s\nbogus: 2\n";

	(void)s;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	assert_int_equal(kp_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2:1: config: unknown key 'bogus'"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	assert_int_equal(kp_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open: No such file"));
	kp_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_files_refused_empty_mapping_is_defaults),
		cmocka_unit_test(test_reload_follows_the_table),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_alerts_empty_list_means_no_rules),
		cmocka_unit_test(test_builtin_windows_follow_the_file),
		cmocka_unit_test(test_errors_top_level),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_rules),
		cmocka_unit_test(test_errors_health_and_receivers),
		cmocka_unit_test(test_runtimes_section),
		cmocka_unit_test(test_runtimes_apply_at_restart),
		cmocka_unit_test(test_error_keeps_config),
		cmocka_unit_test(test_deep_nesting_and_aliases),
		cmocka_unit_test(test_load_from_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
