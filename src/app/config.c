/* config.c - the configuration file (see config.h for its shape).
 *
 * libyaml's document API gives a tree whose every node carries its start
 * mark, so each error names the exact line and column of the key or value
 * at fault. Settings are rows of tables (top level, receivers, one alert
 * rule, one health factor); a row holds the name, type, default as text
 * (parsed by the same code as the file, so defaults obey the bounds),
 * bounds and an optional validator. Checks across keys (a rule's clear
 * level against its threshold, windows against the longest window) run
 * once the whole document is read, with positions kept from the tree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "app/config.h"
#include "kernel/loader.h"
#include "base/opts.h"

#define MAX_FILE_BYTES (1 << 20)
#define MAX_DEPTH 16
#define MAX_FIELDS 32	/* rows of the largest table (top level) */
#define NS 1e9

/* ---- the tables ---------------------------------------------------- */

struct pctx;

enum ftype {
	F_STR,		/* char[size] */
	F_DUR,		/* uint64_t ns */
	F_UINT,		/* unsigned int */
	F_NUM,		/* double */
	F_VALUE,	/* double: a number, a duration (in s) or a percentage */
	F_ENUM,		/* int, from choices */
	F_METRIC,	/* enum kp_metric */
	F_DURLIST,	/* uint64_t[cap] + unsigned int count */
	F_URLLIST,	/* char[cap][KP_CFG_URL_MAX] + unsigned int count */
	F_LABELS,	/* struct kp_cfg_label[cap] + count */
	F_HEALTH,	/* struct kp_factor_cfg[KP_F_MAX] */
	F_RULES,	/* struct kp_rule[cap] + count */
	F_SECTION,	/* a mapping read with @sub */
};

struct choice {
	const char *name;
	int value;
};

struct field {
	const char *name;
	enum ftype type;
	size_t off;
	size_t size;		/* F_STR buffer size; list capacity */
	size_t count_off;	/* lists: where the count lives */
	const char *def;	/* default in file syntax; NULL = empty */
	double min, max;	/* bounds (durations in ns, strings: length) */
	const struct choice *choices;
	/* extra check of a parsed value; returns 0 or fails through p */
	int (*check)(struct pctx *p, const yaml_node_t *n, const void *val);
	const struct field *sub;
	/* when a change made on SIGHUP applies: at once (the default), or at
	 * the next start (the running value is kept and the change logged) */
	enum { APPLY_RELOAD = 0, APPLY_RESTART } apply;
};

struct pctx {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	int depth;
	/* positions kept for the checks made once the whole file is read */
	const yaml_node_t *rule_nodes[KP_CFG_MAX_RULES][MAX_FIELDS];
	const yaml_node_t *rule_node[KP_CFG_MAX_RULES];
};

static int fail(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->file,
			 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);

	if (k < 0 || (size_t)k >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int check_listen(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_url(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_token(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_rule_name(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_nonempty(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_rtt_sample(struct pctx *p, const yaml_node_t *n, const void *val);
static int check_path(struct pctx *p, const yaml_node_t *n, const void *val);

_Static_assert(KP_RT_PATH_MAX == KP_CFG_URL_MAX, "runtime path lists are read as URL lists");

#define OFF(type, member) offsetof(type, member)
#define SZ(type, member) sizeof(((type *)0)->member)
#define S_MS 1e6
#define S_S 1e9
#define S_M 60e9
#define S_H 3600e9

static const struct choice log_formats[] = { { "text", KP_LOG_TEXT }, { "json", KP_LOG_JSON }, { NULL, 0 } };
static const struct choice on_off[] = { { "on", 1 }, { "off", 0 }, { "true", 1 },
					{ "false", 0 }, { NULL, 0 } };
static const struct choice bpf_stats_modes[] = { { "sampled", KP_BPF_STATS_SAMPLED },
						 { "always", KP_BPF_STATS_ALWAYS },
						 { "off", KP_BPF_STATS_OFF }, { NULL, 0 } };
static const struct choice scopes[] = { { "container", KP_SCOPE_CONTAINER }, { "node", KP_SCOPE_NODE }, { NULL, 0 } };
static const struct choice ops[] = { { "above", KP_OP_ABOVE }, { ">", KP_OP_ABOVE },
				     { "below", KP_OP_BELOW }, { "<", KP_OP_BELOW }, { NULL, 0 } };
static const struct choice severities[] = { { "info", KP_SEV_INFO }, { "warning", KP_SEV_WARNING },
					    { "critical", KP_SEV_CRITICAL }, { NULL, 0 } };

static const struct field receiver_fields[] = {
	{ "alertmanager", F_URLLIST, OFF(struct kp_receivers, alertmanager), KP_CFG_MAX_RECEIVERS,
	  OFF(struct kp_receivers, n_alertmanager), NULL, 0, 0, NULL, check_url, NULL, APPLY_RELOAD },
	{ "webhook", F_URLLIST, OFF(struct kp_receivers, webhook), KP_CFG_MAX_RECEIVERS,
	  OFF(struct kp_receivers, n_webhook), NULL, 0, 0, NULL, check_url, NULL, APPLY_RELOAD },
	{ "timeout", F_DUR, OFF(struct kp_receivers, timeout_ns), 0, 0, "5s", 100 * S_MS, 60 * S_S,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ "queue_size", F_UINT, OFF(struct kp_receivers, queue_size), 0, 0, "256", 1, 65536,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ "retries", F_UINT, OFF(struct kp_receivers, retries), 0, 0, "5", 0, 100,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ "backoff", F_DUR, OFF(struct kp_receivers, backoff_ns), 0, 0, "1s", 10 * S_MS, 10 * S_M,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ "resend_interval", F_DUR, OFF(struct kp_receivers, resend_ns), 0, 0, "1m", 1 * S_S, 1 * S_H,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ NULL },
};

/* Rule field indexes, for the checks made after a rule is read. */
enum { R_NAME, R_METRIC, R_SCOPE, R_MATCH, R_OP, R_THRESHOLD, R_CLEAR, R_FOR,
       R_WINDOW, R_SEVERITY, R_SUMMARY, R_NFIELDS };

static const struct field rule_fields[] = {
	[R_NAME] = { "name", F_STR, OFF(struct kp_rule, name), SZ(struct kp_rule, name), 0, NULL,
		     1, 0, NULL, check_rule_name, NULL, APPLY_RELOAD },
	[R_METRIC] = { "metric", F_METRIC, OFF(struct kp_rule, metric), 0, 0, "runq_p99", 0, 0,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[R_SCOPE] = { "scope", F_ENUM, OFF(struct kp_rule, scope), 0, 0, "container", 0, 0,
	  scopes, NULL, NULL, APPLY_RELOAD },
	[R_MATCH] = { "match", F_STR, OFF(struct kp_rule, match), SZ(struct kp_rule, match), 0, "*",
		      1, 0, NULL, check_nonempty, NULL, APPLY_RELOAD },
	[R_OP] = { "op", F_ENUM, OFF(struct kp_rule, op), 0, 0, "above", 0, 0, ops,
	  NULL, NULL, APPLY_RELOAD },
	[R_THRESHOLD] = { "threshold", F_VALUE, OFF(struct kp_rule, threshold), 0, 0, "0", -1e18, 1e18,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[R_CLEAR] = { "clear", F_VALUE, OFF(struct kp_rule, clear), 0, 0, "0", -1e18, 1e18,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[R_FOR] = { "for", F_DUR, OFF(struct kp_rule, for_ns), 0, 0, "0s", 0, 24 * S_H,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[R_WINDOW] = { "window", F_DUR, OFF(struct kp_rule, window_ns), 0, 0, NULL, 1 * S_S, 24 * S_H,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[R_SEVERITY] = { "severity", F_ENUM, OFF(struct kp_rule, severity), 0, 0, "warning", 0, 0, severities,
	  NULL, NULL, APPLY_RELOAD },
	[R_SUMMARY] = { "summary", F_STR, OFF(struct kp_rule, summary), SZ(struct kp_rule, summary), 0, NULL,
			0, 0, NULL, NULL, NULL, APPLY_RELOAD },
	{ NULL },
};

enum { H_GOOD, H_BAD, H_WEIGHT };
static const struct field factor_fields[] = {
	[H_GOOD] = { "good", F_VALUE, OFF(struct kp_factor_cfg, good), 0, 0, NULL, 0, 1e12,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[H_BAD] = { "bad", F_VALUE, OFF(struct kp_factor_cfg, bad), 0, 0, NULL, 0, 1e12,
	  NULL, NULL, NULL, APPLY_RELOAD },
	[H_WEIGHT] = { "weight", F_NUM, OFF(struct kp_factor_cfg, weight), 0, 0, NULL, 0, 100,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ NULL },
};

static const struct field runtime_fields[] = {
	{ "host_root", F_STR, OFF(struct kp_runtimes_paths, host_root),
	  SZ(struct kp_runtimes_paths, host_root), 0, NULL, 0, 0, NULL, check_path, NULL, APPLY_RESTART },
	{ "docker", F_URLLIST, OFF(struct kp_runtimes_paths, docker), KP_RT_MAX_ROOTS,
	  OFF(struct kp_runtimes_paths, n_docker), NULL, 0, 0, NULL, check_path, NULL, APPLY_RESTART },
	{ "containers_storage", F_URLLIST, OFF(struct kp_runtimes_paths, storage), KP_RT_MAX_ROOTS,
	  OFF(struct kp_runtimes_paths, n_storage), NULL, 0, 0, NULL, check_path, NULL, APPLY_RESTART },
	{ "containerd", F_URLLIST, OFF(struct kp_runtimes_paths, containerd), KP_RT_MAX_ROOTS,
	  OFF(struct kp_runtimes_paths, n_containerd), NULL, 0, 0, NULL, check_path, NULL, APPLY_RESTART },
	{ "kubelet_logs", F_STR, OFF(struct kp_runtimes_paths, kubelet_logs),
	  SZ(struct kp_runtimes_paths, kubelet_logs), 0, NULL, 0, 0, NULL, check_path, NULL, APPLY_RESTART },
	{ "refresh", F_DUR, OFF(struct kp_runtimes_paths, refresh_ns), 0, 0, "1s", 100 * S_MS, 10 * S_M,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ NULL },
};

static const struct field top_fields[] = {
	{ "listen", F_STR, OFF(struct kp_config, listen), SZ(struct kp_config, listen), 0, "0.0.0.0:9477",
	  1, 0, NULL, check_listen, NULL, APPLY_RESTART },
	{ "interval", F_DUR, OFF(struct kp_config, interval_ns), 0, 0, "2s", 100 * S_MS, 1 * S_H,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "windows", F_DURLIST, OFF(struct kp_config, windows_ns), KP_CFG_MAX_WINDOWS,
	  OFF(struct kp_config, n_windows), "1m,5m", 10 * S_S, 24 * S_H,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "history", F_DUR, OFF(struct kp_config, history_ns), 0, 0, "15m", 1 * S_M, 24 * S_H,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "max_cgroups", F_UINT, OFF(struct kp_config, max_cgroups), 0, 0, "4096", 16, 1000000,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "max_ports", F_UINT, OFF(struct kp_config, max_ports), 0, 0, "16", 0, 1024,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "rtt_sample", F_UINT, OFF(struct kp_config, rtt_sample), 0, 0, "8", 1, 1024,
	  NULL, check_rtt_sample, NULL, APPLY_RESTART },
	{ "max_alerts", F_UINT, OFF(struct kp_config, max_alerts), 0, 0, "1000", 1, 100000,
	  NULL, NULL, NULL, APPLY_RELOAD },
	{ "admin_token", F_STR, OFF(struct kp_config, admin_token), SZ(struct kp_config, admin_token), 0, NULL,
	  0, 0, NULL, check_token, NULL, APPLY_RELOAD },
	{ "acks_open", F_ENUM, OFF(struct kp_config, acks_open), 0, 0, "off", 0, 0, on_off,
	  NULL, NULL, APPLY_RELOAD },
	{ "log_format", F_ENUM, OFF(struct kp_config, log_format), 0, 0, "text", 0, 0, log_formats,
	  NULL, NULL, APPLY_RELOAD },
	{ "bpf_stats", F_ENUM, OFF(struct kp_config, bpf_stats), 0, 0, "sampled", 0, 0, bpf_stats_modes,
	  NULL, NULL, APPLY_RESTART },
	{ "user", F_STR, OFF(struct kp_config, user), SZ(struct kp_config, user), 0, NULL,
	  0, 0, NULL, NULL, NULL, APPLY_RESTART },
	{ "seccomp", F_ENUM, OFF(struct kp_config, seccomp), 0, 0, "on", 0, 0, on_off,
	  NULL, NULL, APPLY_RESTART },
	{ "web_config", F_STR, OFF(struct kp_config, web_config), SZ(struct kp_config, web_config), 0,
	  NULL, 0, 0, NULL, NULL, NULL, APPLY_RESTART },
	{ "labels", F_LABELS, OFF(struct kp_config, labels), KP_CFG_MAX_LABELS, OFF(struct kp_config, n_labels),
	  NULL, 0, 0, NULL, NULL, NULL, APPLY_RELOAD },
	{ "health", F_HEALTH, OFF(struct kp_config, factors), 0, 0, NULL, 0, 0,
	  NULL, NULL, NULL, APPLY_RESTART },
	{ "alerts", F_RULES, OFF(struct kp_config, rules), KP_CFG_MAX_RULES, OFF(struct kp_config, n_rules),
	  NULL, 0, 0, NULL, NULL, NULL, APPLY_RELOAD },
	{ "receivers", F_SECTION, OFF(struct kp_config, receivers), SZ(struct kp_config, receivers), 0,
	  NULL, 0, 0, NULL, NULL, receiver_fields, APPLY_RELOAD },
	{ "runtimes", F_SECTION, OFF(struct kp_config, runtimes), SZ(struct kp_config, runtimes), 0,
	  NULL, 0, 0, NULL, NULL, runtime_fields, APPLY_RESTART },
	{ NULL },
};
/* parse_mapping keeps one slot per row of a table */
_Static_assert(sizeof(top_fields) / sizeof(top_fields[0]) <= MAX_FIELDS, "raise MAX_FIELDS");
_Static_assert(sizeof(rule_fields) / sizeof(rule_fields[0]) <= MAX_FIELDS, "raise MAX_FIELDS");

/* ---- scalars -------------------------------------------------------- */

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int want_scalar(struct pctx *p, const yaml_node_t *n, const char *key, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	return fail(p, n, "%s: expected %s, found %s", key, what, node_kind(n));
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static void human_ns(double ns, char *buf, size_t len)
{
	if (ns >= 3600e9 && fmod(ns, 3600e9) == 0)
		snprintf(buf, len, "%.0fh", ns / 3600e9);
	else if (ns >= 60e9 && fmod(ns, 60e9) == 0)
		snprintf(buf, len, "%.0fm", ns / 60e9);
	else if (ns >= 1e9 && fmod(ns, 1e9) == 0)
		snprintf(buf, len, "%.0fs", ns / 1e9);
	else
		snprintf(buf, len, "%.0fms", ns / 1e6);
}

static int parse_duration(struct pctx *p, const yaml_node_t *n, const char *key,
			  double min, double max, uint64_t *out)
{
	char lo[32], hi[32];
	long long v;
	int err = want_scalar(p, n, key, "a duration such as 500ms, 2s, 1m or 1h");

	if (err)
		return err;
	v = kp_parse_duration(scalar(n));
	human_ns(min, lo, sizeof(lo));
	human_ns(max, hi, sizeof(hi));
	if (v < 0)
		return fail(p, n, "%s: '%s' is not a duration (expected e.g. 500ms, 2s, 1m, 1h)",
			    key, scalar(n));
	if ((double)v < min || (double)v > max)
		return fail(p, n, "%s: %s is out of range (%s to %s)", key, scalar(n), lo, hi);
	*out = (uint64_t)v;
	return 0;
}

static int parse_uint(struct pctx *p, const yaml_node_t *n, const char *key,
		      double min, double max, unsigned int *out)
{
	const char *s;
	char *end;
	unsigned long long v;
	int err = want_scalar(p, n, key, "a whole number");

	if (err)
		return err;
	s = scalar(n);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno)
		return fail(p, n, "%s: '%s' is not a whole number", key, s);
	if ((double)v < min || (double)v > max)
		return fail(p, n, "%s: %llu is out of range (%.0f to %.0f)", key, v, min, max);
	*out = (unsigned int)v;
	return 0;
}

enum vkind { V_NUMBER, V_DURATION, V_PERCENT };

/* A number, a duration ("50ms", read as seconds) or "20%" (read as 20). */
static int parse_value(struct pctx *p, const yaml_node_t *n, const char *key,
		       double min, double max, double *out, enum vkind *kind)
{
	const char *s;
	char *end;
	double v;
	int err = want_scalar(p, n, key, "a number");

	if (err)
		return err;
	s = scalar(n);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return fail(p, n, "%s: '%s' is not a number", key, s);
	*kind = V_NUMBER;
	if (!strcmp(end, "%")) {
		*kind = V_PERCENT;
	} else if (*end) {
		long long d = kp_parse_duration(s);

		if (d < 0)
			return fail(p, n, "%s: '%s' is not a number or a duration", key, s);
		v = (double)d / NS;
		*kind = V_DURATION;
	}
	if (v < min || v > max)
		return fail(p, n, "%s: %s is out of range (%g to %g)", key, s, min, max);
	*out = v;
	return 0;
}

static int value_kind(const yaml_node_t *n)
{
	const char *s = scalar(n);
	char *end;

	strtod(s, &end);
	return !strcmp(end, "%") ? V_PERCENT : *end ? V_DURATION : V_NUMBER;
}

/* A value given as a duration or a percentage must suit the unit. */
static int check_unit(struct pctx *p, const yaml_node_t *n, const char *key, const char *unit,
		      const char *what)
{
	int k;

	if (!n)
		return 0;
	k = value_kind(n);
	if (k == V_DURATION && strcmp(unit, "s"))
		return fail(p, n, "%s: '%s' is a duration, but %s is in %s", key, scalar(n), what, unit);
	if (k == V_PERCENT && strcmp(unit, "%"))
		return fail(p, n, "%s: '%s' is a percentage, but %s is in %s", key, scalar(n), what, unit);
	return 0;
}

static int parse_string(struct pctx *p, const yaml_node_t *n, const char *key,
			size_t size, double min, char *out)
{
	int err;
	size_t len;

	if (is_null(n)) {
		if (min > 0)
			return fail(p, n, "%s: must not be empty", key);
		out[0] = 0;
		return 0;
	}
	err = want_scalar(p, n, key, "a string");
	if (err)
		return err;
	len = n->data.scalar.length;
	if (len >= size)
		return fail(p, n, "%s: too long (%zu bytes, at most %zu)", key, len, size - 1);
	if (memchr(scalar(n), 0, len))
		return fail(p, n, "%s: contains a NUL byte", key);
	if (len < (size_t)min)
		return fail(p, n, "%s: must not be empty", key);
	memcpy(out, scalar(n), len + 1);
	return 0;
}

static int parse_enum(struct pctx *p, const yaml_node_t *n, const char *key,
		      const struct choice *c, int *out)
{
	char list[256] = "";
	size_t k = 0;
	int err = want_scalar(p, n, key, "a name");

	if (err)
		return err;
	for (const struct choice *x = c; x->name; x++)
		if (!strcmp(scalar(n), x->name)) {
			*out = x->value;
			return 0;
		}
	for (const struct choice *x = c; x->name && k < sizeof(list); x++)
		k += snprintf(list + k, sizeof(list) - k, "%s%s", k ? ", " : "", x->name);
	return fail(p, n, "%s: '%s' is not one of %s", key, scalar(n), list);
}

static int parse_metric(struct pctx *p, const yaml_node_t *n, const char *key, int *out)
{
	char list[256] = "";
	size_t k = 0;
	int err = want_scalar(p, n, key, "a metric name");

	if (err)
		return err;
	for (int i = 0; i < KP_M_MAX; i++)
		if (!strcmp(scalar(n), kp_metric_infos[i].name)) {
			*out = i;
			return 0;
		}
	for (int i = 0; i < KP_M_MAX && k < sizeof(list); i++)
		k += snprintf(list + k, sizeof(list) - k, "%s%s", i ? ", " : "",
			      kp_metric_infos[i].name);
	return fail(p, n, "%s: unknown metric '%s' (one of %s)", key, scalar(n), list);
}

/* ---- validators ------------------------------------------------------ */

static int check_listen(struct pctx *p, const yaml_node_t *n, const void *val)
{
	const char *s = val, *colon;
	char *end;
	long port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		colon = rb && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
	}
	if (!colon)
		return fail(p, n, "listen: '%s': expected ADDR:PORT, e.g. 0.0.0.0:9477, "
			    "[::1]:9477 or :9477", s);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 1 || port > 65535)
		return fail(p, n, "listen: '%s': the port must be a number from 1 to 65535", s);
	return 0;
}

/* A directory of the host: absolute ("" for host_root: none). */
static int check_path(struct pctx *p, const yaml_node_t *n, const void *val)
{
	const char *s = val;

	if (s[0] && s[0] != '/')
		return fail(p, n, "'%s' is not an absolute path", s);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			return fail(p, n, "a path with a control character");
	return 0;
}

static int check_url(struct pctx *p, const yaml_node_t *n, const void *val)
{
	const char *s = val;

	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		return fail(p, n, "'%s' is not an http:// or https:// URL", s);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return fail(p, n, "'%s': URLs may not contain spaces or control characters", s);
	if (!s[strncmp(s, "http://", 7) ? 8 : 7] || s[strncmp(s, "http://", 7) ? 8 : 7] == '/')
		return fail(p, n, "'%s' has no host", s);
	return 0;
}

/* sent back in an Authorization header: printable ASCII, no spaces */
static int check_token(struct pctx *p, const yaml_node_t *n, const void *val)
{
	const char *s = val;

	for (const char *c = s; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return fail(p, n, "admin_token: only printable ASCII without spaces is allowed");
	if (*s && strlen(s) < 8)
		return fail(p, n, "admin_token: too short (at least 8 characters)");
	return 0;
}

static int check_rtt_sample(struct pctx *p, const yaml_node_t *n, const void *val)
{
	unsigned int v = *(const unsigned int *)val;

	if (v & (v - 1))
		return fail(p, n, "rtt_sample: %s is not a power of two (1, 2, 4 ... 1024)", scalar(n));
	return 0;
}

static bool name_ok(const char *s, bool dots)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9') || (dots && (*s == '.' || *s == '-'))))
			return false;
	return true;
}

static int check_rule_name(struct pctx *p, const yaml_node_t *n, const void *val)
{
	if (!name_ok(val, true))
		return fail(p, n, "name: '%s': use letters, digits, '_', '.' or '-', "
			    "starting with a letter", (const char *)val);
	return 0;
}

static int check_nonempty(struct pctx *p, const yaml_node_t *n, const void *val)
{
	return *(const char *)val ? 0 : fail(p, n, "must not be empty");
}

/* ---- the tree walk --------------------------------------------------- */

static int parse_mapping(struct pctx *p, const yaml_node_t *n, const char *what,
			 const struct field *tab, void *base, const yaml_node_t **seen);

static int set_default(const struct field *f, void *base);

static int parse_list_items(struct pctx *p, const yaml_node_t *n, const struct field *f,
			    void *base)
{
	unsigned int *count = (unsigned int *)((char *)base + f->count_off);
	yaml_node_item_t *it;

	*count = 0;
	if (f->type == F_DURLIST)	/* unused slots are 0: arrays compare whole */
		memset((char *)base + f->off, 0, f->size * sizeof(uint64_t));
	if (is_null(n))
		return 0;
	if (n->type == YAML_SCALAR_NODE && f->type == F_URLLIST && n->data.scalar.length) {
		/* a lone URL is a list of one */
	} else if (n->type != YAML_SEQUENCE_NODE) {
		return fail(p, n, "%s: expected a list, found %s", f->name, node_kind(n));
	}
	if (n->type == YAML_SCALAR_NODE) {
		char *dst = (char *)base + f->off;
		int err = parse_string(p, n, f->name, KP_CFG_URL_MAX, 1, dst);

		if (!err && f->check)
			err = f->check(p, n, dst);
		*count = err ? 0 : 1;
		return err;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const yaml_node_t *e = yaml_document_get_node(p->doc, *it);
		int err;

		if (*count >= f->size)
			return fail(p, e, "%s: too many entries (at most %zu)", f->name, f->size);
		if (f->type == F_DURLIST) {
			uint64_t *v = (uint64_t *)((char *)base + f->off);

			err = parse_duration(p, e, f->name, f->min, f->max, &v[*count]);
			if (!err && *count && v[*count] <= v[*count - 1])
				err = fail(p, e, "%s: windows must be in ascending order", f->name);
		} else {
			char *dst = (char *)base + f->off + (size_t)*count * KP_CFG_URL_MAX;

			err = parse_string(p, e, f->name, KP_CFG_URL_MAX, 1, dst);
			if (!err && f->check)
				err = f->check(p, e, dst);
		}
		if (err)
			return err;
		(*count)++;
	}
	return 0;
}

static int parse_labels(struct pctx *p, const yaml_node_t *n, const struct field *f, void *base)
{
	struct kp_cfg_label *l = (struct kp_cfg_label *)((char *)base + f->off);
	unsigned int *count = (unsigned int *)((char *)base + f->count_off);
	yaml_node_pair_t *pr;

	*count = 0;
	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "labels: expected a mapping of name: value, found %s", node_kind(n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		int err;

		if (*count >= f->size)
			return fail(p, k, "labels: too many labels (at most %zu)", f->size);
		err = parse_string(p, k, "labels", sizeof(l->name), 1, l[*count].name);
		if (err)
			return err;
		if (!name_ok(l[*count].name, false) || !strncmp(l[*count].name, "__", 2))
			return fail(p, k, "labels: '%s' is not a valid label name", l[*count].name);
		if (!strcmp(l[*count].name, "alertname") || !strcmp(l[*count].name, "severity"))
			return fail(p, k, "labels: '%s' is set by each rule", l[*count].name);
		for (unsigned int i = 0; i < *count; i++)
			if (!strcmp(l[i].name, l[*count].name))
				return fail(p, k, "labels: duplicate label '%s'", l[i].name);
		err = parse_string(p, v, l[*count].name, sizeof(l->value), 0, l[*count].value);
		if (err)
			return err;
		(*count)++;
	}
	return 0;
}

static int parse_health(struct pctx *p, const yaml_node_t *n, struct kp_factor_cfg *fc)
{
	yaml_node_pair_t *pr;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "health: expected a mapping of factor: {good, bad, weight}, "
			    "found %s", node_kind(n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const yaml_node_t *seen[MAX_FIELDS] = { 0 };
		char key[80], list[256] = "";
		size_t len = 0;
		int i, err;

		if (k->type != YAML_SCALAR_NODE)
			return fail(p, k, "health: keys must be factor names, found %s", node_kind(k));
		for (i = 0; i < KP_F_MAX; i++)
			if (!strcmp(scalar(k), kp_factor_defaults[i].name))
				break;
		if (i == KP_F_MAX) {
			for (int j = 0; j < KP_F_MAX; j++)
				len += snprintf(list + len, sizeof(list) - len, "%s%s",
						j ? ", " : "", kp_factor_defaults[j].name);
			return fail(p, k, "health: unknown factor '%s' (one of %s)", scalar(k), list);
		}
		snprintf(key, sizeof(key), "health.%s", kp_factor_defaults[i].name);
		err = parse_mapping(p, v, key, factor_fields, &fc[i], seen);
		if (err)
			return err;
		err = check_unit(p, seen[H_GOOD], "good", kp_factor_defaults[i].unit, key);
		if (!err)
			err = check_unit(p, seen[H_BAD], "bad", kp_factor_defaults[i].unit, key);
		if (err)
			return err;
		if (fc[i].bad < fc[i].good)
			return fail(p, seen[H_BAD] ? seen[H_BAD] : v,
				    "%s: bad (%g) must not be below good (%g)", key, fc[i].bad, fc[i].good);
	}
	return 0;
}

static int parse_rule(struct pctx *p, const yaml_node_t *n, unsigned int idx, struct kp_rule *r)
{
	const yaml_node_t **seen = p->rule_nodes[idx];
	const struct kp_metric_info *mi;
	int err;

	memset(r, 0, sizeof(*r));
	for (const struct field *f = rule_fields; f->name; f++)
		set_default(f, r);
	p->rule_node[idx] = n;
	err = parse_mapping(p, n, "alert rule", rule_fields, r, seen);
	if (err)
		return err;
	if (!seen[R_NAME])
		return fail(p, n, "alert rule: 'name' is missing");
	if (!seen[R_METRIC])
		return fail(p, n, "alert rule '%s': 'metric' is missing", r->name);
	if (!seen[R_THRESHOLD])
		return fail(p, n, "alert rule '%s': 'threshold' is missing", r->name);
	mi = &kp_metric_infos[r->metric];
	err = check_unit(p, seen[R_THRESHOLD], "threshold", mi->unit, mi->name);
	if (!err)
		err = check_unit(p, seen[R_CLEAR], "clear", mi->unit, mi->name);
	if (err)
		return err;
	if (!seen[R_CLEAR])
		r->clear = r->threshold;
	if (r->op == KP_OP_ABOVE && r->clear > r->threshold)
		return fail(p, seen[R_CLEAR], "clear: %g is above the threshold %g; a rule that "
			    "fires above its threshold clears at or below a lower level",
			    r->clear, r->threshold);
	if (r->op == KP_OP_BELOW && r->clear < r->threshold)
		return fail(p, seen[R_CLEAR], "clear: %g is below the threshold %g; a rule that "
			    "fires below its threshold clears at or above a higher level",
			    r->clear, r->threshold);
	if (r->scope == KP_SCOPE_NODE) {
		if (seen[R_MATCH])
			return fail(p, seen[R_MATCH], "match: only rules with scope container "
				    "match containers");
		r->match[0] = 0;
	}
	if (seen[R_WINDOW] && !mi->windowed)
		return fail(p, seen[R_WINDOW], "window: metric %s is not computed over a window "
			    "(windowed metrics: runq_p99, oom_kills)", mi->name);
	return 0;
}

static int parse_rules(struct pctx *p, const yaml_node_t *n, const struct field *f, void *base)
{
	struct kp_rule *rules = (struct kp_rule *)((char *)base + f->off);
	unsigned int *count = (unsigned int *)((char *)base + f->count_off);
	yaml_node_item_t *it;

	*count = 0;
	if (is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, "alerts: expected a list of rules, found %s", node_kind(n));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const yaml_node_t *e = yaml_document_get_node(p->doc, *it);
		int err;

		if (*count >= f->size)
			return fail(p, e, "alerts: too many rules (at most %zu)", f->size);
		err = parse_rule(p, e, *count, &rules[*count]);
		if (err)
			return err;
		/* alerts are keyed by rule name and labels */
		for (unsigned int i = 0; i < *count; i++)
			if (!strcmp(rules[i].name, rules[*count].name))
				return fail(p, p->rule_nodes[*count][R_NAME],
					    "name: duplicate rule '%s' (also at line %zu)",
					    rules[i].name, p->rule_nodes[i][R_NAME]->start_mark.line + 1);
		(*count)++;
	}
	return 0;
}

static int parse_field(struct pctx *p, const yaml_node_t *v, const struct field *f, void *base)
{
	void *dst = (char *)base + f->off;
	enum vkind kind;
	int err = 0, iv = 0;

	switch (f->type) {
	case F_STR:
		err = parse_string(p, v, f->name, f->size, f->min, dst);
		break;
	case F_DUR:
		err = parse_duration(p, v, f->name, f->min, f->max, dst);
		break;
	case F_UINT:
		err = parse_uint(p, v, f->name, f->min, f->max, dst);
		break;
	case F_NUM:
		err = parse_value(p, v, f->name, f->min, f->max, dst, &kind);
		if (!err && kind != V_NUMBER)
			err = fail(p, v, "%s: '%s' is not a plain number", f->name, scalar(v));
		break;
	case F_VALUE:
		err = parse_value(p, v, f->name, f->min, f->max, dst, &kind);
		break;
	case F_ENUM:
		err = parse_enum(p, v, f->name, f->choices, &iv);
		if (!err)
			*(int *)dst = iv;
		break;
	case F_METRIC:
		err = parse_metric(p, v, f->name, &iv);
		if (!err)
			*(enum kp_metric *)dst = (enum kp_metric)iv;
		break;
	case F_DURLIST:
		err = parse_list_items(p, v, f, base);
		if (!err && !*(unsigned int *)((char *)base + f->count_off))
			err = fail(p, v, "%s: at least one is needed", f->name);
		return err;
	case F_URLLIST:
		return parse_list_items(p, v, f, base);
	case F_LABELS:
		return parse_labels(p, v, f, base);
	case F_HEALTH:
		return parse_health(p, v, dst);
	case F_RULES:
		return parse_rules(p, v, f, base);
	case F_SECTION:
		if (is_null(v))
			return 0;
		return parse_mapping(p, v, f->name, f->sub, dst, NULL);
	}
	if (!err && f->check)
		err = f->check(p, v, dst);
	return err;
}

static int parse_mapping(struct pctx *p, const yaml_node_t *n, const char *what,
			 const struct field *tab, void *base, const yaml_node_t **seen_out)
{
	const yaml_node_t *seen[MAX_FIELDS] = { 0 };
	yaml_node_pair_t *pr;
	int err = 0;

	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "%s: expected a mapping, found %s", what, node_kind(n));
	if (++p->depth > MAX_DEPTH) {
		p->depth--;
		return fail(p, n, "nested too deeply");
	}
	for (pr = n->data.mapping.pairs.start; !err && pr < n->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		const struct field *f;
		char list[512] = "";
		size_t len = 0;

		if (k->type != YAML_SCALAR_NODE) {
			err = fail(p, k, "%s: keys must be names, found %s", what, node_kind(k));
			break;
		}
		for (f = tab; f->name; f++)
			if (!strcmp(f->name, scalar(k)))
				break;
		if (!f->name) {
			for (const struct field *x = tab; x->name; x++)
				len += snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
						"%s%s", x == tab ? "" : ", ", x->name);
			err = fail(p, k, "%s: unknown key '%s' (known: %s)", what, scalar(k), list);
			break;
		}
		if (seen[f - tab]) {
			err = fail(p, k, "%s: duplicate key '%s' (first at line %zu)", what,
				   f->name, seen[f - tab]->start_mark.line + 1);
			break;
		}
		seen[f - tab] = k;
		err = parse_field(p, v, f, base);
		seen[f - tab] = v;
	}
	p->depth--;
	if (seen_out)
		memcpy(seen_out, seen, sizeof(seen));
	return err;
}

/* ---- defaults and the whole file ------------------------------------ */

/* Defaults are text in the file's syntax; a bad one is a bug (-EINVAL). */
static int set_default(const struct field *f, void *base)
{
	void *dst = (char *)base + f->off;
	long long v;

	switch (f->type) {
	case F_STR:
		snprintf(dst, f->size, "%s", f->def ? f->def : "");
		return 0;
	case F_DUR:
		if (!f->def) {
			*(uint64_t *)dst = 0;
			return 0;
		}
		v = kp_parse_duration(f->def);
		*(uint64_t *)dst = v < 0 ? 0 : (uint64_t)v;
		return v < 0 ? -EINVAL : 0;
	case F_UINT:
		*(unsigned int *)dst = f->def ? (unsigned int)strtoul(f->def, NULL, 10) : 0;
		return 0;
	case F_NUM:
	case F_VALUE:
		*(double *)dst = f->def ? strtod(f->def, NULL) : 0;
		return 0;
	case F_ENUM:
		for (const struct choice *c = f->choices; c->name; c++)
			if (f->def && !strcmp(c->name, f->def)) {
				*(int *)dst = c->value;
				return 0;
			}
		*(int *)dst = 0;
		return f->def ? -EINVAL : 0;
	case F_METRIC:
		*(enum kp_metric *)dst = KP_M_RUNQ_P99;
		return 0;
	case F_DURLIST: {
		unsigned int *count = (unsigned int *)((char *)base + f->count_off);
		const char *s = f->def;

		*count = 0;
		while (s && *s && *count < f->size) {
			char one[32];
			size_t n = strcspn(s, ",");

			snprintf(one, sizeof(one), "%.*s", (int)n, s);
			v = kp_parse_duration(one);
			if (v < 0)
				return -EINVAL;
			((uint64_t *)dst)[(*count)++] = (uint64_t)v;
			s += n + (s[n] == ',');
		}
		return 0;
	}
	case F_URLLIST:
	case F_LABELS:
		*(unsigned int *)((char *)base + f->count_off) = 0;
		return 0;
	case F_HEALTH:
		memcpy(dst, kp_factor_defaults, sizeof(kp_factor_defaults));
		return 0;
	case F_RULES:
		memcpy(dst, kp_builtin_rules, kp_builtin_rules_n * sizeof(kp_builtin_rules[0]));
		*(unsigned int *)((char *)base + f->count_off) = kp_builtin_rules_n;
		return 0;
	case F_SECTION:
		for (const struct field *s = f->sub; s->name; s++)
			set_default(s, dst);
		return 0;
	}
	return -EINVAL;
}

/* Rules without a window take the first configured one; a built-in rule's
 * window is cut to the longest kept (one from the file was checked). */
static void finish(struct kp_config *cfg)
{
	uint64_t longest = cfg->windows_ns[cfg->n_windows - 1];

	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		if (!cfg->rules[i].window_ns)
			cfg->rules[i].window_ns = cfg->windows_ns[0];
		if (cfg->rules[i].window_ns > longest)
			cfg->rules[i].window_ns = longest;
	}
}

static void defaults_unfinished(struct kp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (const struct field *f = top_fields; f->name; f++)
		set_default(f, cfg);
}

void kp_config_defaults(struct kp_config *cfg)
{
	defaults_unfinished(cfg);
	finish(cfg);
}

void kp_config_runtimes(const struct kp_config *cfg, struct kp_runtimes_paths *out)
{
	const char *env = getenv("KPULSE_HOST_ROOT");

	*out = cfg->runtimes;
	kp_runtimes_paths_fill(out);
	if (!out->host_root[0] && env)
		snprintf(out->host_root, sizeof(out->host_root), "%s", env);
}

void kp_config_free(struct kp_config *cfg)
{
	(void)cfg;
}

/* Checks across keys, once everything is read. */
static int check_whole(struct pctx *p, struct kp_config *c)
{
	uint64_t longest = c->windows_ns[c->n_windows - 1];
	char w[32];

	human_ns((double)longest, w, sizeof(w));
	for (unsigned int i = 0; i < c->n_rules; i++) {
		const yaml_node_t *wn = p->rule_nodes[i][R_WINDOW];

		if (wn && c->rules[i].window_ns > longest)
			return fail(p, wn, "window: %s is longer than the longest of `windows` (%s): "
				    "only that much is kept", scalar(wn), w);
	}
	return 0;
}

static void reader_position(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int syntax_error(struct pctx *p, yaml_parser_t *y, const char *buf, size_t len)
{
	size_t line = y->problem_mark.line + 1, col = y->problem_mark.column + 1;

	if (y->error == YAML_READER_ERROR)
		reader_position(buf, len, y->problem_offset, &line, &col);
	if (y->error == YAML_MEMORY_ERROR) {
		snprintf(p->err, p->errlen, "%s: out of memory", p->file);
		return -ENOMEM;
	}
	snprintf(p->err, p->errlen, "%s:%zu:%zu: %s%s%s", p->file, line, col,
		 y->problem ? y->problem : "syntax error", y->context ? " " : "",
		 y->context ? y->context : "");
	return -EINVAL;
}

int kp_config_parse(const char *name, const char *buf, size_t len,
		    struct kp_config *out, char *err, size_t errlen)
{
	struct pctx *p = calloc(1, sizeof(*p));
	struct kp_config *cfg = calloc(1, sizeof(*cfg));
	yaml_parser_t y;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	bool have_doc = false;
	int ret = -EINVAL;

	if (!p || !cfg || !yaml_parser_initialize(&y)) {
		snprintf(err, errlen, "%s: out of memory", name);
		free(p);
		free(cfg);
		return -ENOMEM;
	}
	p->file = name;
	p->err = err;
	p->errlen = errlen;
	p->doc = &doc;
	defaults_unfinished(cfg);
	yaml_parser_set_input_string(&y, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&y, &doc)) {
		ret = syntax_error(p, &y, buf, len);
		goto out;
	}
	have_doc = true;
	root = yaml_document_get_root_node(&doc);
	if (root) {
		if (!yaml_parser_load(&y, &extra)) {
			ret = syntax_error(p, &y, buf, len);
			goto out;
		}
		if (yaml_document_get_root_node(&extra)) {
			ret = fail(p, yaml_document_get_root_node(&extra),
				   "only one YAML document is allowed");
			yaml_document_delete(&extra);
			goto out;
		}
		yaml_document_delete(&extra);
	}
	/* An empty file is far more often a truncated or wrongly mounted one
	 * than a wish for defaults; on a reload it would silently drop the
	 * admin token and every receiver. `{}` says "defaults" on purpose. */
	if (!root || is_null(root)) {
		snprintf(err, errlen, "%s:1:1: no settings (the file is empty or only comments); "
			 "write {} to run on the defaults", name);
		goto out;
	}
	ret = parse_mapping(p, root, "config", top_fields, cfg, NULL);
	if (ret)
		goto out;
	ret = check_whole(p, cfg);
	if (!ret) {
		finish(cfg);
		*out = *cfg;
	}
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&y);
	free(cfg);
	free(p);
	return ret;
}

int kp_config_load(const char *path, struct kp_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	buf = malloc(MAX_FILE_BYTES + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	len = fread(buf, 1, MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		ret = -errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
	} else if (len > MAX_FILE_BYTES) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d bytes; is this the right file?", path,
			 MAX_FILE_BYTES);
	} else {
		ret = kp_config_parse(path, buf, len, cfg, err, errlen);
	}
	free(buf);
	fclose(f);
	return ret;
}

/* ---- reloads -------------------------------------------------------- */

/* Bytes a top-level setting holds, and where its list count is (lists
 * compare count and used entries only). */
static size_t value_bytes(const struct field *f, const struct kp_config *c)
{
	unsigned int n = f->count_off ? *(const unsigned int *)((const char *)c + f->count_off) : 0;

	switch (f->type) {
	case F_STR:
		return f->size;
	case F_DUR:
		return sizeof(uint64_t);
	case F_UINT:
		return sizeof(unsigned int);
	case F_NUM:
	case F_VALUE:
		return sizeof(double);
	case F_ENUM:
	case F_METRIC:
		return sizeof(int);
	case F_DURLIST:
		return n * sizeof(uint64_t);
	case F_URLLIST:
		return n * (size_t)KP_CFG_URL_MAX;
	case F_LABELS:
		return n * sizeof(struct kp_cfg_label);
	case F_HEALTH:
		return sizeof(c->factors);
	case F_RULES:
		return n * sizeof(struct kp_rule);
	case F_SECTION:
		return f->size;
	}
	return 0;
}

static bool same_value(const struct field *f, const struct kp_config *a,
		       const struct kp_config *b)
{
	size_t n = value_bytes(f, a);

	if (f->count_off && memcmp((const char *)a + f->count_off, (const char *)b + f->count_off,
				   sizeof(unsigned int)))
		return false;
	return !memcmp((const char *)a + f->off, (const char *)b + f->off, n);
}

/* Whether @f holds nothing in @c: an empty string or list, no receivers. */
static bool is_empty(const struct field *f, const struct kp_config *c)
{
	const char *v = (const char *)c + f->off;

	if (f->type == F_STR)
		return !v[0];
	if (f->count_off)
		return !*(const unsigned int *)((const char *)c + f->count_off);
	if (f->type == F_SECTION)
		return f->off == OFF(struct kp_config, receivers) &&
		       !c->receivers.n_alertmanager && !c->receivers.n_webhook;
	return false;
}

static void copy_value(const struct field *f, struct kp_config *to, const struct kp_config *from)
{
	if (f->count_off)
		memcpy((char *)to + f->count_off, (const char *)from + f->count_off,
		       sizeof(unsigned int));
	memcpy((char *)to + f->off, (const char *)from + f->off, value_bytes(f, from));
}

int kp_config_pin(struct kp_config *cfg, const char *key)
{
	for (unsigned int i = 0; top_fields[i].name; i++)
		if (!strcmp(top_fields[i].name, key)) {
			cfg->pinned |= 1u << i;
			return 0;
		}
	return -ENOENT;
}

void kp_config_reload(const struct kp_config *run, struct kp_config *next,
		      kp_config_note_fn note, void *ctx)
{
	char msg[160];

	next->pinned = run->pinned;
	for (unsigned int i = 0; top_fields[i].name; i++) {
		const struct field *f = &top_fields[i];

		if (same_value(f, run, next))
			continue;
		if (run->pinned & (1u << i)) {
			copy_value(f, next, run);	/* the command line wins */
			continue;
		}
		if (f->apply == APPLY_RESTART) {
			snprintf(msg, sizeof(msg), "'%s' changed; it takes effect at the next start",
				 f->name);
			copy_value(f, next, run);
		} else if (is_empty(f, next) && !is_empty(f, run)) {
			snprintf(msg, sizeof(msg), "the reload removes '%s' (it was set)", f->name);
		} else {
			snprintf(msg, sizeof(msg), "'%s' changed", f->name);
		}
		note(ctx, msg);
	}
}
