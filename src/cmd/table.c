/* table.c - see table.h. */
#include <stdbool.h>
#include <string.h>
#include "cmd/table.h"

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

