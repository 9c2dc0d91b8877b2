/* api.c - JSON documents (see api.h). Percentiles come from the fine kernel
 * buckets over sliding windows: never below the exact value and at most
 * 6.25% above it. Times are in seconds, as floats. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "analysis/analysis.h"
#include "analysis/heatmap.h"
#include "analysis/portwin.h"
#include "analysis/netrates.h"
#include "outputs/api.h"
#include "model/model.h"
#include "base/opts.h"
#include "model/hist.h"
#include "model/text.h"

static const struct {
	const char *name;
	double q;
} quantiles[] = {
	{ "p50", 0.5 }, { "p90", 0.9 }, { "p95", 0.95 },
	{ "p99", 0.99 }, { "p999", 0.999 }, { "max", 1.0 },
};

static void window_name(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ull;

	if (s && s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else if (s && s % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

/* {"1m": {count, p50, ..., max}, "5m": {...}} for one latency window; a
 * kind with no events yet has count 0 and null percentiles. */
static json_t *latency_json(const struct kp_analysis *a, const struct kp_window *w,
			    uint64_t now)
{
	const struct kp_analysis_opts *o = kp_analysis__opts(a);
	static uint64_t buf[KP_HIST_BUCKETS];
	json_t *j = json_object();
	char name[16];

	enum { NQ = sizeof(quantiles) / sizeof(quantiles[0]) };
	double qs[NQ];
	uint64_t v[NQ];

	for (size_t k = 0; k < NQ; k++)
		qs[k] = quantiles[k].q;
	for (int i = 0; i < KP_MAX_WINDOWS && o->windows_ns[i]; i++) {
		uint64_t n = w ? kp_analysis_window(w, o->windows_ns[i], now, buf) : 0;
		json_t *q = json_pack("{s:I}", "count", (json_int_t)n);

		if (n)	/* all of them in one pass over the buckets */
			kp_hist_quantiles(buf, n, qs, NQ, v);
		for (size_t k = 0; k < NQ; k++)
			json_object_set_new(q, quantiles[k].name,
					    n ? json_real((double)v[k] / 1e9) : json_null());
		window_name(o->windows_ns[i], name, sizeof(name));
		json_object_set_new(j, name, q);
	}
	return j;
}

static json_t *health_json(const struct kp_health *h, const struct kp_analysis *a)
{
	const struct kp_analysis_opts *o = kp_analysis__opts(a);
	json_t *factors = json_array();

	for (int i = 0; i < KP_F_MAX; i++) {
		const struct kp_factor_result *r = &h->f[i];

		if (isnan(r->value))
			continue;
		json_array_append_new(factors, json_pack("{s:s, s:f, s:f, s:s}",
			"name", o->factors[i].name, "value", r->value,
			"penalty", -r->penalty, "reason", r->reason));
	}
	return json_pack("{s:f, s:s, s:o}", "score", h->score,
			 "reason", h->worst >= 0 ? h->f[h->worst].reason : "",
			 "factors", factors);
}

static json_t *histogram_json(const struct kp_window *w, uint64_t span, uint64_t now)
{
	static uint64_t buf[KP_HIST_BUCKETS];
	json_t *rows = json_array();
	char name[16];

	if (w)
		kp_analysis_window(w, span, now, buf);
	else
		memset(buf, 0, sizeof(buf));
	for (unsigned int b = 0; b < KP_HIST_BUCKETS; b++)
		if (buf[b])	/* the top bucket has no upper edge (JSON has no inf) */
			json_array_append_new(rows, json_pack("[f, o, I]",
				(double)kp_hist_lower(b) / 1e9,
				b == KP_HIST_BUCKETS - 1 ? json_null()
							 : json_real((double)kp_hist_upper(b) / 1e9),
				(json_int_t)buf[b]));
	window_name(span, name, sizeof(name));
	return json_pack("{s:s, s:s, s:o}", "window", name,
			 "columns", "lower_seconds, upper_seconds, count", "buckets", rows);
}

/* runq always; other kinds once they have had an event */
static json_t *latencies_json(const struct kp_astate *s, const struct kp_analysis *a,
			      uint64_t now)
{
	json_t *j = json_object();

	for (int i = 0; i < KP_L_MAX; i++)
		if (i == KP_L_RUNQ || s->lat[i])
			json_object_set_new(j, kp_lat_names[i], latency_json(a, s->lat[i], now));
	return j;
}

/* [{direction, port, window, count, p50, p99, max}] per named port and
 * "other" (port "other"), over the shortest window. */
static json_t *ports_json(const struct kp_portwin *pw, uint64_t now)
{
	static uint64_t buf[KP_HIST_BUCKETS];
	json_t *arr = json_array();
	char win[16];

	window_name(kp_portwin__span(pw), win, sizeof(win));
	for (unsigned int i = 0; i < kp_portwin__count(pw); i++) {
		int dir, port;
		const struct kp_window *w = kp_portwin__get(pw, i, &dir, &port);
		uint64_t n = kp_analysis_window(w, kp_portwin__span(pw), now, buf);
		json_t *o = json_pack("{s:s, s:o, s:s, s:I}", "direction", dir ? "outbound" : "inbound",
				      "port", port < 0 ? json_string("other") : json_integer(port),
				      "window", win, "count", (json_int_t)n);

		for (size_t k = 0; k < sizeof(quantiles) / sizeof(quantiles[0]); k++)
			if (!strcmp(quantiles[k].name, "p50") || !strcmp(quantiles[k].name, "p99") ||
			    !strcmp(quantiles[k].name, "max"))
				json_object_set_new(o, quantiles[k].name, n ?
					json_real((double)kp_hist_quantile(buf, quantiles[k].q) / 1e9) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *psi_line_json(const struct kp_psi_line *l)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "avg10", l->avg10, "avg60", l->avg60,
			 "avg300", l->avg300, "total_seconds", (double)l->total_us / 1e6);
}

/* {"cpu": {"some": {...}, "full": {...}}, "memory": ..., "io": ...} */
static json_t *pressure_json(const struct kp_mem_files *f)
{
	json_t *j = json_object();

	for (int r = 0; r < KP_PSI_NRES; r++) {
		json_t *o;

		if (!f->has_psi[r])
			continue;
		o = json_object();
		if (f->psi[r].some.present)
			json_object_set_new(o, "some", psi_line_json(&f->psi[r].some));
		if (f->psi[r].full.present)
			json_object_set_new(o, "full", psi_line_json(&f->psi[r].full));
		json_object_set_new(j, kp_psi_res_name(r), o);
	}
	return j;
}

static json_t *memory_json(const struct kp_mem_totals *m, const struct kp_astate *s)
{
	json_t *j = json_pack("{s:{s:I, s:I, s:f}, s:I, s:f}",
		"reclaim", "stalls_total", (json_int_t)(m->direct_reclaims + m->memcg_reclaims),
		"direct_stalls_total", (json_int_t)m->direct_reclaims,
		"seconds_total", (double)m->reclaim_sum_ns / 1e9,
		"oom_kills_total", (json_int_t)m->oom_kills,
		"oom_kills_window", s->oom_kills_window);

	if (m->files.has_usage)
		json_object_set_new(j, "usage_bytes", json_integer((json_int_t)m->files.usage_bytes));
	if (m->files.has_limit)
		json_object_set_new(j, "limit_bytes", json_integer((json_int_t)m->files.limit_bytes));
	if (m->files.has_stat) {
		json_object_set_new(j, "working_set_bytes",
				    json_integer((json_int_t)m->files.working_set_bytes));
		json_object_set_new(j, "rss_bytes", json_integer((json_int_t)m->files.rss_bytes));
		json_object_set_new(j, "cache_bytes", json_integer((json_int_t)m->files.cache_bytes));
	}
	if (m->files.has_swap)
		json_object_set_new(j, "swap_bytes", json_integer((json_int_t)m->files.swap_bytes));
	return j;
}

/* cores used, and the limit with its throttling when there is one */
static json_t *cpu_json(const struct kp_container *k, const struct kp_astate *s)
{
	json_t *j = json_pack("{s:f, s:f}", "cores", s->cpu_cores,
			      "seconds_total", (double)k->t.cpu_ns / 1e9);

	if (k->cpu.has_limit)
		json_object_set_new(j, "limit_cores", json_real(kp_cpu_limit_cores(&k->cpu.limit)));
	if (k->cpu.has_throttle)
		json_object_set_new(j, "throttling", json_pack("{s:I, s:I, s:f, s:o}",
			"periods_total", (json_int_t)k->cpu.throttle.periods,
			"throttled_periods_total", (json_int_t)k->cpu.throttle.throttled_periods,
			"throttled_seconds_total", (double)k->cpu.throttle.throttled_ns / 1e9,
			/* over the first window; null before two reads or unlimited */
			"throttled_percent", isnan(s->throttled_pct) ? json_null()
								     : json_real(s->throttled_pct)));
	return j;
}

/* The runtime's and the kubelet's names, when their files gave them. */
static void identity_json(json_t *j, const struct kp_identity *id)
{
	if (id->image[0])
		json_object_set_new(j, "image", json_string(id->image));
	if (id->pod[0])
		json_object_set_new(j, "pod", json_string(id->pod));
	if (id->namespace[0])
		json_object_set_new(j, "namespace", json_string(id->namespace));
}

static json_t *tcp_json(const struct kp_tcp_totals *t, const struct kp_astate *s)
{
	return json_pack("{s:{s:I, s:I, s:I}, s:I, s:{s:I, s:I}, s:{s:I, s:I, s:f, s:f}}",
		"connections", "inbound_total", (json_int_t)t->conn_in,
		"outbound_total", (json_int_t)t->conn_out,
		"established", (json_int_t)t->established,
		"retransmits_total", (json_int_t)t->retrans,
		"resets", "sent_total", (json_int_t)t->rst_sent,
		"received_total", (json_int_t)t->rst_recv,
		"bytes", "received_total", (json_int_t)t->rx_bytes,
		"sent_total", (json_int_t)t->tx_bytes,
		"receive_per_second", s->rx_rate, "transmit_per_second", s->tx_rate);
}

static json_t *container_json(const struct kp_container *k, const struct kp_astate *s,
			      const struct kp_analysis *a, uint64_t now, bool detail)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}",
			      "id", kp_container_id(k), "name", k->ident.name,
			      "runtime", kp_runtime_name(k->ident.runtime),
			      "cgroup", k->cgroup, "cgroup_id", (json_int_t)k->cgid);

	if (k->ident.pod_uid[0])
		json_object_set_new(j, "pod_uid", json_string(k->ident.pod_uid));
	identity_json(j, &k->ident);
	json_object_set_new(j, "health", health_json(&s->health, a));
	json_object_set_new(j, "cpu", cpu_json(k, s));
	json_object_set_new(j, "context_switches", json_pack("{s:f, s:f, s:I, s:I}",
		"voluntary_per_second", s->vcsw_rate,
		"involuntary_per_second", s->ivcsw_rate,
		"voluntary_total", (json_int_t)k->t.nvcsw,
		"involuntary_total", (json_int_t)k->t.nivcsw));
	json_object_set_new(j, "latency", latencies_json(s, a, now));
	json_object_set_new(j, "memory", memory_json(&k->mem, s));
	json_object_set_new(j, "pressure", pressure_json(&k->mem.files));
	if (k->tcp)
		json_object_set_new(j, "tcp", tcp_json(k->tcp, s));
	if (detail) {
		const struct kp_analysis_opts *o = kp_analysis__opts(a);
		uint64_t span = o->windows_ns[0];
		json_t *h = json_object();

		for (int i = 0; i < KP_MAX_WINDOWS && o->windows_ns[i]; i++)
			span = o->windows_ns[i];
		for (int i = 0; i < KP_L_MAX; i++)
			if (i == KP_L_RUNQ || s->lat[i])
				json_object_set_new(h, kp_lat_names[i], histogram_json(s->lat[i], span, now));
		json_object_set_new(j, "histograms", h);
		json_object_set_new(j, "request_ports", ports_json(s->ports, now));
	}
	return j;
}

/* A shown container and its analysis, in the list's order. */
struct row {
	const struct kp_container *k;
	const struct kp_astate *s;
};

/* worst health first, then the busiest */
static int row_order(const void *x, const void *y)
{
	const struct kp_astate *a = ((const struct row *)x)->s, *b = ((const struct row *)y)->s;

	if (a->health.score != b->health.score)
		return a->health.score < b->health.score ? -1 : 1;
	return a->cpu_cores > b->cpu_cores ? -1 : a->cpu_cores < b->cpu_cores;
}

/* The containers matching @pattern that have an analysis, sorted; NULL
 * with *@n 0 when there are none (or no memory). */
static struct row *sorted_rows(const struct kp_model *c, const struct kp_analysis *a,
			       const char *pattern, size_t *n)
{
	struct kp_container *k, *tmp;
	struct row *rows = NULL;
	size_t cap = 0;

	*n = 0;
	KP_MODEL_FOR_EACH_SHOWN(c, k, tmp) {
		const struct kp_astate *s;

		if (!kp_container_matches(k, pattern) ||
		    !(s = kp_analysis__get(a, k->cgid)))
			continue;
		if (*n == cap) {
			struct row *r = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*r));

			if (!r)
				break;
			rows = r;
		}
		rows[(*n)++] = (struct row){ k, s };
	}
	if (*n)
		qsort(rows, *n, sizeof(*rows), row_order);
	return rows;
}

json_t *kp_api_containers(const struct kp_model *c, const struct kp_analysis *a,
			  uint64_t now, const char *pattern)
{
	json_t *arr = json_array();
	size_t n;
	struct row *rows = sorted_rows(c, a, pattern, &n);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, container_json(rows[i].k, rows[i].s, a, now, false));
	free(rows);
	return arr;
}

/* A growing body for json_dump_callback: jansson hands over a few bytes
 * at a time, which through a FILE cost a locked call each. */
struct sink {
	char *buf;
	size_t len, cap;
};

static int sink_put(const char *b, size_t n, void *data)
{
	struct sink *k = data;

	if (k->len + n + 1 > k->cap) {
		size_t cap = k->cap ? k->cap : 65536;
		char *p;

		while (cap < k->len + n + 1)
			cap *= 2;
		if (!(p = realloc(k->buf, cap)))
			return -1;
		k->buf = p;
		k->cap = cap;
	}
	memcpy(k->buf + k->len, b, n);
	k->len += n;
	k->buf[k->len] = '\0';
	return 0;
}

/* One container's tree at a time, each freed once written: a tree of the
 * whole list (60-odd values a container) cost more to make, write and
 * free than the rest of a request together, and its peak was the size of
 * the list. jansson writes every value; only the list's brackets and
 * commas are put here, as jansson's compact form has them. */
char *kp_api_containers_text(const struct kp_model *c, const struct kp_analysis *a,
			     uint64_t now, const char *pattern, size_t *len)
{
	struct sink k = { 0 };
	size_t n, put = 0;
	struct row *rows = sorted_rows(c, a, pattern, &n);
	int err = sink_put("[", 1, &k);

	for (size_t i = 0; i < n && !err; i++) {
		json_t *j = container_json(rows[i].k, rows[i].s, a, now, false);

		if (!j)
			continue;	/* as json_array_append_new would */
		if (put++)
			err = sink_put(",", 1, &k);
		if (!err)
			err = json_dump_callback(j, sink_put, &k, JSON_COMPACT);
		json_decref(j);
	}
	if (!err)
		err = sink_put("]", 1, &k);
	free(rows);
	if (err) {
		free(k.buf);
		return NULL;
	}
	*len = k.len;
	return k.buf;
}

json_t *kp_api_container(const struct kp_model *c, const struct kp_analysis *a,
			 uint64_t now, const char *key)
{
	struct kp_container *k, *tmp;

	KP_MODEL_FOR_EACH_SHOWN(c, k, tmp) {
		const struct kp_astate *s;

		if (!kp_container_is(k, key))
			continue;
		s = kp_analysis__get(a, k->cgid);
		return s ? container_json(k, s, a, now, true) : NULL;
	}
	return NULL;
}

static json_t *loadavg_json(void)
{
	double l1, l5, l15;
	FILE *f = fopen("/proc/loadavg", "re");
	int ok = f && fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3;

	if (f)
		fclose(f);
	return ok ? json_pack("{s:f, s:f, s:f}", "1m", l1, "5m", l5, "15m", l15) : json_null();
}

static json_t *meminfo_json(void)
{
	unsigned long long total = 0, avail = 0, v;
	char line[256], key[64];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return json_null();
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %llu", key, &v) == 2) {
			if (!strcmp(key, "MemTotal"))
				total = v * 1024;
			else if (!strcmp(key, "MemAvailable"))
				avail = v * 1024;
		}
	fclose(f);
	return json_pack("{s:I, s:I, s:I}", "total_bytes", (json_int_t)total,
			 "available_bytes", (json_int_t)avail,
			 "used_bytes", (json_int_t)(total - avail));
}

/* Every interface of /proc/net/dev as of the last tick (names as text):
 * totals, and bytes per second since the tick before (null until a device
 * was read twice); null when the file could not be read. */
static json_t *netdevs_json(const struct kp_node_figs *n, const struct kp_netrates *nr)
{
	json_t *arr;

	if (!n->have[KP_NODE_NETDEV])
		return json_null();
	arr = json_array();
	for (unsigned int i = 0; i < n->net.n; i++) {
		const struct kp_netdev *d = &n->net.d[i];
		const struct kp_netrate *r = kp_netrates_get(nr, d->name, i);
		char name[4 * sizeof(d->name)];

		kp_visible(d->name, name, sizeof(name));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
			"device", name,
			"receive_bytes_total", (json_int_t)d->v[KP_NET_RX_BYTES],
			"transmit_bytes_total", (json_int_t)d->v[KP_NET_TX_BYTES],
			"receive_packets_total", (json_int_t)d->v[KP_NET_RX_PACKETS],
			"transmit_packets_total", (json_int_t)d->v[KP_NET_TX_PACKETS],
			"receive_errs_total", (json_int_t)d->v[KP_NET_RX_ERRS],
			"transmit_errs_total", (json_int_t)d->v[KP_NET_TX_ERRS],
			"receive_drop_total", (json_int_t)d->v[KP_NET_RX_DROP],
			"transmit_drop_total", (json_int_t)d->v[KP_NET_TX_DROP],
			"receive_bytes_per_second", r ? json_real(r->rx_bps) : json_null(),
			"transmit_bytes_per_second", r ? json_real(r->tx_bps) : json_null()));
	}
	return arr;
}

/* Whole disks: totals since boot, rates over the last interval (null until
 * there were two reads). */
static json_t *disks_json(const struct kp_disks *d)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < d->n; i++) {
		const struct kp_disk *k = &d->d[i];

		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:o, s:o, s:o}",
			"device", k->name, "read_bytes_total", (json_int_t)k->read_bytes,
			"write_bytes_total", (json_int_t)k->write_bytes,
			"read_bytes_per_second", k->has_rates ? json_real(k->read_bps) : json_null(),
			"write_bytes_per_second", k->has_rates ? json_real(k->write_bps) : json_null(),
			"busy_ratio", k->has_rates ? json_real(k->busy) : json_null()));
	}
	return arr;
}

json_t *kp_api_node(const struct kp_model *c, const struct kp_analysis *a,
		    uint64_t now)
{
	json_t *node;
	const struct kp_sched_totals *t = &c->node;
	const struct kp_mem_totals *m = &c->node_mem;
	const struct kp_oom_list *ol = &c->ooms;
	const struct kp_astate *s = kp_analysis__get(a, 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	json_t *ooms = json_array(), *mem = meminfo_json();

	for (unsigned int i = 0; ol && i < kp_oom_list_count(ol); i++) {
		const struct kp_oom_record *r = kp_oom_list_get(ol, i);

		json_array_append_new(ooms, json_pack("{s:f, s:i, s:i, s:s, s:s, s:s, s:I, s:I}",
			"time", (double)r->unix_ns / 1e9, "pid", (int)r->tgid, "tid", (int)r->pid,
			"comm", r->comm, "container", r->cgroup[0] ? r->ident.name : "",
			"cgroup", r->cgroup, "anon_rss_bytes", (json_int_t)r->anon_rss_bytes,
			"memcg_usage_bytes", (json_int_t)r->memcg_usage_bytes));
	}
	if (json_is_object(mem)) {
		json_object_set_new(mem, "reclaim", json_pack("{s:I, s:f}",
			"stalls_total", (json_int_t)(m->direct_reclaims + m->memcg_reclaims),
			"seconds_total", (double)m->reclaim_sum_ns / 1e9));
		json_object_set_new(mem, "oom_kills_total", json_integer((json_int_t)m->oom_kills));
	}
	node = json_pack("{s:o, s:{s:I, s:f, s:f}, s:o, s:o, s:o, s:{s:f, s:f}, s:o, s:o, s:o}",
		"health", health_json(&s->health, a),
		"cpu", "count", (json_int_t)ncpu, "cores_busy", s->cpu_cores,
		"seconds_total", (double)t->cpu_ns / 1e9,
		"memory", mem,
		"pressure", pressure_json(&m->files),
		"load", loadavg_json(),
		"context_switches", "voluntary_per_second", s->vcsw_rate,
		"involuntary_per_second", s->ivcsw_rate,
		"network", tcp_json(&c->node_tcp, s),
		"latency", latencies_json(s, a, now),
		"oom_events", ooms);
	if (node) {
		json_object_set_new(node, "disk", disks_json(&c->disks));
		json_object_set_new(node, "network_devices",
				    netdevs_json(&c->nodefigs, kp_analysis__netrates(a)));
	}
	return node;
}

/* "unknown or missing metric; one of a, b, ..." from the series' names. */
static const char *metric_error(void)
{
	static char msg[1024];
	size_t n;

	if (msg[0])
		return msg;
	n = (size_t)snprintf(msg, sizeof(msg), "unknown or missing metric; one of runq_heatmap");
	for (int i = 0; i < KP_S_MAX && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, ", %s", kp_series_names[i]);
	return msg;
}

/* Run-queue latency per time column and power-of-two row, for a heatmap:
 * points are [unix time of the column's end, [count per row]]. */
static json_t *heatmap_json(const struct kp_heatmap *hm, double t0, uint64_t start_ns,
			    uint64_t now, long long span)
{
	json_t *rows = json_array(), *pts = json_array();
	uint64_t from = now > (uint64_t)span ? now - (uint64_t)span : 0;

	for (unsigned int r = 0; r < KP_HEATMAP_ROWS; r++)
		json_array_append_new(rows, json_real((double)kp_heatmap_row_lower(r) / 1e9));
	for (unsigned int i = 0; i < kp_heatmap__columns(hm); i++) {
		uint64_t cs, ce;
		const uint32_t *n = kp_heatmap__column(hm, i, &cs, &ce);
		json_t *col;

		if (ce <= from)
			continue;
		col = json_array();
		for (unsigned int r = 0; r < KP_HEATMAP_ROWS; r++)
			json_array_append_new(col, json_integer(n[r]));
		json_array_append_new(pts, json_pack("[f, o]",
			t0 + (double)((ce - start_ns) / 1000000000ull), col));
	}
	return json_pack("{s:f, s:o, s:o}",
			 "column_seconds", (double)kp_heatmap__col_ns(hm) / 1e9,
			 "rows_lower_seconds", rows, "points", pts);
}

json_t *kp_api_history(const struct kp_model *c, const struct kp_analysis *a,
		       uint64_t now, const char *metric, const char *container,
		       const char *window, const char **err)
{
	const struct kp_analysis_opts *o = kp_analysis__opts(a);
	const struct kp_astate *s = NULL;
	const struct kp_history *h;
	uint32_t lo, hi, t;
	float v;
	long long span = window ? kp_parse_duration(window) : (long long)o->history_ns;
	struct kp_container *k, *tmp;
	uint32_t since_now = (uint32_t)((now - kp_analysis__start_ns(a)) / 1000000000ull);
	double t0 = (double)time(NULL) - since_now;
	int m = -1;
	bool heatmap = metric && !strcmp(metric, "runq_heatmap");
	json_t *pts;

	for (int i = 0; i < KP_S_MAX; i++)
		if (metric && !strcmp(metric, kp_series_names[i]))
			m = i;
	if (m < 0 && !heatmap) {
		*err = metric_error();
		return NULL;
	}
	if (span <= 0) {
		*err = "bad window; a duration such as 15m";
		return NULL;
	}
	if (!container || !*container || !strcmp(container, "node")) {
		s = kp_analysis__get(a, 0);
	} else {
		KP_MODEL_FOR_EACH_SHOWN(c, k, tmp)
			if (kp_container_is(k, container)) {
				s = kp_analysis__get(a, k->cgid);
				break;
			}
		if (!s) {
			*err = "no such container";
			return NULL;
		}
	}
	if (heatmap) {
		pts = heatmap_json(s->runq_map, t0, kp_analysis__start_ns(a), now, span);
		json_object_set_new(pts, "metric", json_string(metric));
		json_object_set_new(pts, "container",
				    json_string(container && *container ? container : "node"));
		return pts;
	}
	h = &s->hist[m];
	pts = json_array();
	if (kp_history_range(&s->ticks, h, &lo, &hi))
		for (uint32_t q = lo; q <= hi; q++) {
			if (!kp_history_at(&s->ticks, h, q, &t, &v) ||
			    (double)(since_now - t) * 1e9 > (double)span)
				continue;
			json_array_append_new(pts, json_pack("[f, f]", t0 + t, (double)v));
		}
	return json_pack("{s:s, s:s, s:o}", "metric", metric,
			 "container", container && *container ? container : "node",
			 "points", pts);
}

int kp_api_ack_id(const char *url, char *id, size_t len)
{
	static const char prefix[] = "/api/v1/alerts/";
	const char *rest, *slash;

	if (strncmp(url, prefix, sizeof(prefix) - 1))
		return -ENOENT;
	rest = url + sizeof(prefix) - 1;
	slash = strchr(rest, '/');
	if (!slash || strcmp(slash, "/ack") || slash == rest || (size_t)(slash - rest) >= len)
		return -ENOENT;
	snprintf(id, len, "%.*s", (int)(slash - rest), rest);
	return 0;
}
