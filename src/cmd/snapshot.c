/* snapshot.c - `kpulse snapshot`: load the programs, measure for a while,
 * print every container once (table, the /api/v1/containers JSON, or
 * Prometheus text) and exit; or read a running daemon (--from). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/signals.h"
#include "cmd/client.h"
#include "cmd/cmds.h"
#include "cmd/table.h"
#include "outputs/api.h"
#include "outputs/metrics.h"

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
	body = kp_http_get(base, path);
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
	long long dur = 5000000000ll;
	const char *pattern = NULL, *from = NULL;
	enum fmt fmt = FMT_TABLE;
	struct kp_pipeline p;
	struct kp_metrics *mx;
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

	ret = kp_cmd_pipeline(&p, NULL, (uint64_t)dur + 1000000000ull, (uint64_t)dur);
	if (ret)
		return ret;
	kp_signals_wait((uint64_t)dur, 0);	/* Ctrl-C ends the measurement early */
	kp_pipeline_tick(&p, kp_now_mono_ns());
	if (fmt == FMT_PROM) {
		mx = kp_metrics__new();
		if (mx)
			kp_metrics__render(mx, stdout, p.model);
		kp_metrics__free(mx);
	} else {
		json_t *doc = kp_api_containers(p.model, p.an, kp_now_mono_ns(), pattern);

		if (fmt == FMT_JSON)
			json_dumpf(doc, stdout, JSON_INDENT(2)), fputc('\n', stdout);
		else
			kp_table_print(stdout, doc, 0);
		json_decref(doc);
	}
	kp_pipeline_close(&p);
	return 0;
}

