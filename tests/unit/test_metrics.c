/* test_metrics.c - /metrics rendered from a model built in the test, then
 * read back by a small exposition parser written here (as promtool would:
 * HELP and TYPE before a family's samples, one block per family, valid
 * names, no duplicate series, valid UTF-8) and held to the model: labels of
 * every container series (image, pod and namespace where the runtimes'
 * files named them), values, histogram buckets against the bucket layout,
 * CPU limit, throttling and memory.stat, the series that must be absent,
 * hostile names, kpulse's own and process_* figures and the label cache
 * across container removals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/version.h"
#include "model/hist.h"
#include "model/model.h"
#include "outputs/metrics.h"
#include "outputs/prom.h"
#include "model_build.h"

/* a quote, a backslash, a newline, a lone 0xff and a broken sequence;
 * shown with \xNN for the bytes that are not text (model/text.h) */
#define ODD_PATH "/test.slice/we\"ird\\na\nme\xff\xc3(.scope"
#define ODD_SHOWN "/test.slice/we\"ird\\na\\x0ame\\xff\\xc3(.scope"
#define API_IMAGE "ghcr.io/acme/api@sha256:0f1e"

/* ---- the parser ---- */

#define MAX_LABELS 12

struct sample {
	char *name;
	unsigned int nl;
	char *lname[MAX_LABELS], *lval[MAX_LABELS];
	double value;
	const struct family *fam;
};

struct family {
	char *name, *type;
};

struct expo {
	char *text;
	struct sample *s;
	size_t n, cap;
	struct family f[256];
	size_t nf;
};

/* Valid UTF-8, checked here byte by byte (RFC 3629): no overlong forms,
 * no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned int c = p[i], n, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c < 0xc2 || c > 0xf4)
			return false;
		n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		if (i + n >= len)
			return false;
		cp = c & (0x3fu >> n);
		for (unsigned int k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

/* The end of a metric (or label) name at @p; fails on an empty one. */
static const char *name_end(const char *p, bool colon, const char *line)
{
	const char *q = p;

	while (name_char(*q, q == p, colon))
		q++;
	if (q == p)
		fail_msg("no name at '%s' in line '%s'", p, line);
	return q;
}

static const struct family *family_of(const struct expo *x, const char *name)
{
	for (size_t i = 0; i < x->nf; i++)
		if (!strcmp(x->f[i].name, name))
			return &x->f[i];
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* {a="x",b="y"}: values unescaped (\\, \" and \n only). Returns the end. */
static const char *parse_labels(const char *p, struct sample *s, const char *line)
{
	p++;
	while (*p != '}') {
		const char *e = name_end(p, false, line);
		char *v;
		size_t n = 0;

		if (s->nl == MAX_LABELS)
			fail_msg("too many labels: %s", line);
		s->lname[s->nl] = strndup(p, (size_t)(e - p));
		if (e[0] != '=' || e[1] != '"')
			fail_msg("expected =\" after a label name: %s", line);
		p = e + 2;
		v = malloc(strlen(p) + 1);
		while (*p != '"') {
			if (!*p)
				fail_msg("unterminated label value: %s", line);
			if (*p == '\\') {
				p++;
				if (*p == 'n')
					v[n++] = '\n';
				else if (*p == '\\' || *p == '"')
					v[n++] = *p;
				else
					fail_msg("bad escape \\%c: %s", *p, line);
				p++;
				continue;
			}
			v[n++] = *p++;
		}
		v[n] = 0;
		for (unsigned int i = 0; i < s->nl; i++)
			if (!strcmp(s->lname[i], s->lname[s->nl]))
				fail_msg("label %s twice: %s", s->lname[i], line);
		s->lval[s->nl++] = v;
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			fail_msg("expected , or } in %s", line);
	}
	return p + 1;
}

/* A sample line must belong to the family declared last. */
static void parse_sample(struct expo *x, const char *line)
{
	const char *e = name_end(line, true, line), *v;
	const struct family *f = x->nf ? &x->f[x->nf - 1] : NULL;
	struct sample s = { .name = strndup(line, (size_t)(e - line)) };
	char *end;

	if (!f)
		fail_msg("sample before any family: %s", line);
	if (strcmp(s.name, f->name)) {
		size_t fl = strlen(f->name);
		bool hist = !strcmp(f->type, "histogram") && !strncmp(s.name, f->name, fl) &&
			    (!strcmp(s.name + fl, "_bucket") || !strcmp(s.name + fl, "_sum") ||
			     !strcmp(s.name + fl, "_count"));

		if (!hist)
			fail_msg("sample of %s outside its family (now %s)", s.name, f->name);
	}
	if (family_of(x, s.name) && family_of(x, s.name) != f)
		fail_msg("%s: its family came before", s.name);
	s.fam = f;
	if (*e == '{')
		e = parse_labels(e, &s, line);
	if (*e != ' ')
		fail_msg("expected a space before the value: %s", line);
	v = e + 1;
	s.value = strtod(v, &end);
	if (end == v || *end)
		fail_msg("bad value '%s' in %s", v, line);
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 256;
		x->s = realloc(x->s, x->cap * sizeof(*x->s));
	}
	x->s[x->n++] = s;
}

static void parse_comment(struct expo *x, char *line)
{
	char *name = line + 7, *rest;

	if (!strncmp(line, "# HELP ", 7)) {
		rest = (char *)name_end(name, true, line);
		if (*rest != ' ' || !rest[1])
			fail_msg("HELP without text: %s", line);
		*rest = 0;
		if (family_of(x, name))
			fail_msg("family %s declared twice", name);
		if (x->nf == sizeof(x->f) / sizeof(x->f[0]))
			fail_msg("too many families");
		x->f[x->nf].name = strdup(name);
		x->f[x->nf].type = NULL;
		x->nf++;
		return;
	}
	if (!strncmp(line, "# TYPE ", 7)) {
		struct family *f = x->nf ? &x->f[x->nf - 1] : NULL;

		rest = (char *)name_end(name, true, line);
		*rest++ = 0;
		if (!f || strcmp(f->name, name) || f->type)
			fail_msg("TYPE of %s not right after its HELP", name);
		if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram"))
			fail_msg("type %s", rest);
		if (!strcmp(rest, "counter") && !ends_with(name, "_total"))
			fail_msg("counter %s not named _total", name);
		f->type = strdup(rest);
		return;
	}
	fail_msg("stray comment: %s", line);
}

/* Every sample key (name and sorted labels) once. */
static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_no_duplicates(const struct expo *x)
{
	char **keys = calloc(x->n, sizeof(*keys));

	for (size_t i = 0; i < x->n; i++) {
		const struct sample *s = &x->s[i];
		const char *pairs[MAX_LABELS];
		size_t len = strlen(s->name) + 2;
		char tmp[4096];

		for (unsigned int k = 0; k < s->nl; k++) {
			snprintf(tmp, sizeof(tmp), "%s=%s", s->lname[k], s->lval[k]);
			pairs[k] = strdup(tmp);
			len += strlen(tmp) + 1;
		}
		qsort(pairs, s->nl, sizeof(pairs[0]), key_cmp);
		keys[i] = malloc(len);
		strcpy(keys[i], s->name);
		for (unsigned int k = 0; k < s->nl; k++) {
			strcat(keys[i], "\x1f");
			strcat(keys[i], pairs[k]);
			free((char *)pairs[k]);
		}
	}
	qsort(keys, x->n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < x->n; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			fail_msg("duplicate series %s", keys[i]);
	for (size_t i = 0; i < x->n; i++)
		free(keys[i]);
	free(keys);
}

static void parse(struct expo *x, char *text, size_t len)
{
	char *line, *save = NULL;

	memset(x, 0, sizeof(*x));
	x->text = text;
	assert_true(len > 0);
	assert_int_equal(strlen(text), len);	/* no NUL inside */
	assert_true(utf8_valid((const unsigned char *)text, len));
	assert_true(text[len - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			parse_comment(x, line);
		else
			parse_sample(x, line);
	}
	for (size_t i = 0; i < x->nf; i++)
		if (!x->f[i].type)
			fail_msg("family %s without TYPE", x->f[i].name);
	check_no_duplicates(x);
}

static void expo_free(struct expo *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->s[i].name);
		for (unsigned int k = 0; k < x->s[i].nl; k++) {
			free(x->s[i].lname[k]);
			free(x->s[i].lval[k]);
		}
	}
	for (size_t i = 0; i < x->nf; i++) {
		free(x->f[i].name);
		free(x->f[i].type);
	}
	free(x->s);
	free(x->text);
}

static void render(struct kp_metrics *mx, const struct kp_model *m, struct expo *x)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	kp_metrics__render(mx, f, m);
	assert_int_equal(fclose(f), 0);
	parse(x, buf, len);
}

/* ---- queries ---- */

static const char *label(const struct sample *s, const char *name)
{
	for (unsigned int k = 0; k < s->nl; k++)
		if (!strcmp(s->lname[k], name))
			return s->lval[k];
	return NULL;
}

/* Whether @s has every pair of the NULL-ended list @want. */
static bool has_labels(const struct sample *s, const char *const *want)
{
	for (; want && want[0]; want += 2) {
		const char *v = label(s, want[0]);

		if (!v || strcmp(v, want[1]))
			return false;
	}
	return true;
}

static size_t count(const struct expo *x, const char *name, const char *const *want)
{
	size_t n = 0;

	for (size_t i = 0; i < x->n; i++)
		n += !strcmp(x->s[i].name, name) && has_labels(&x->s[i], want);
	return n;
}

/* The one sample of @name with labels @want. */
static double value(const struct expo *x, const char *name, const char *const *want)
{
	const struct sample *found = NULL;

	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->s[i].name, name) || !has_labels(&x->s[i], want))
			continue;
		if (found)
			fail_msg("%s: more than one sample matches", name);
		found = &x->s[i];
	}
	if (!found)
		fail_msg("%s: no sample%s%s", name, want ? " with " : "", want ? want[1] : "");
	return found->value;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Series of any name that name a container by this id. */
static size_t count_id(const struct expo *x, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < x->n; i++) {
		const char *v = label(&x->s[i], "container_id");

		n += v && !strcmp(v, id);
	}
	return n;
}

static bool has_family(const struct expo *x, const char *name)
{
	return family_of(x, name) != NULL;
}

/* ---- the model ---- */

struct ev {
	uint64_t v, n;
};

static void record_all(uint64_t *hist, uint64_t *sum, const struct ev *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tb_record(hist, sum, e[i].v, e[i].n);
}

static const struct ev web_runq[] = {
	{ 500, 3 }, { 2 * MS, 10 }, { 30 * MS, 5 }, { 70 * S, 1 },
};
static const struct ev web_reclaim[] = { { 1 * MS, 4 }, { 300 * MS, 1 } };
static const struct ev web_rtt[] = { { 100 * US, 50 }, { 900 * US, 2 } };
static const struct ev web_connect[] = { { 1 * MS, 5 } };
static const struct ev node_runq[] = { { 9 * US, 1000 }, { 11 * MS, 17 } };

static struct kp_lat lat_of(const struct ev *e, size_t n, uint64_t count_extra)
{
	struct kp_lat l;

	memset(&l, 0, sizeof(l));
	record_all(l.hist, &l.sum_ns, e, n);
	for (size_t i = 0; i < n; i++)
		l.count += e[i].n;
	l.count += count_extra;
	return l;
}

static void psi(struct kp_mem_files *f, enum kp_psi_res r, uint64_t some_us, int64_t full_us)
{
	f->has_psi[r] = true;
	f->psi[r].some = (struct kp_psi_line){ true, 1, 2, 3, some_us };
	if (full_us >= 0)
		f->psi[r].full = (struct kp_psi_line){ true, 0.5, 0.25, 0.125, (uint64_t)full_us };
}

static void set_prog(struct kp_self *s, const char *tp, const char *attach, bool attached,
		     bool stats, uint64_t run_ns, uint64_t runs, uint64_t misses)
{
	struct kp_prog_state *p = &s->progs[s->n_progs++];

	snprintf(p->tracepoint, sizeof(p->tracepoint), "%s", tp);
	snprintf(p->attach, sizeof(p->attach), "%s", attach);
	p->loaded = attached;
	p->attached = attached;
	if (!attached)
		snprintf(p->reason, sizeof(p->reason), "tracepoint not found");
	p->has_stats = stats;
	p->run_ns = run_ns;
	p->runs = runs;
	p->misses = misses;
	s->attached += attached;
}

static const struct ev req_8080[] = { { 5 * MS, 100 } };
static const struct ev req_9090[] = { { 300 * MS, 3 } };
static const struct ev req_5432[] = { { 2 * MS, 7 } };

/* web: docker with its image, every figure (a CPU limit with throttling,
 * memory.stat and swap), TCP and request ports both ways; api: a pod named
 * by the kubelet's files, no limits, memory.stat without swap, no TCP;
 * odd: a hostile name; 999: never resolved. */
static struct kp_model *build(void)
{
	struct kp_model *m = kp_model__new(1);
	struct kp_container *web, *api, *odd, *unres;
	struct kp_tcp_totals *t;
	struct kp_lat l;
	struct kp_self *s = &m->self;

	web = tb_container(m, 1001, WEB_PATH, "web", WEB_ID, KP_RT_DOCKER, NULL);
	api = tb_container(m, 1002, API_PATH, "api", API_ID, KP_RT_CONTAINERD, POD_UID);
	odd = tb_container(m, 1003, ODD_PATH, ODD_PATH, NULL, KP_RT_CGROUP, NULL);
	unres = kp_model__get(m, 999);
	tb_named(m, web, WEB_IMAGE, NULL, NULL);
	tb_named(m, api, API_IMAGE, "api-7d9f-0", "prod");

	/* three years of one core, to the nanosecond */
	web->t.cpu_ns = 94608000ull * S + 123456789;
	web->t.nvcsw = 1111;
	web->t.nivcsw = 222;
	record_all(web->t.runq_hist, &web->t.runq_sum_ns, web_runq, 4);
	/* made at the first stall, as mem_read does; freed with the container */
	web->mem.reclaim_hist = calloc(KP_HIST_BUCKETS, sizeof(*web->mem.reclaim_hist));
	assert_non_null(web->mem.reclaim_hist);
	record_all(web->mem.reclaim_hist, &web->mem.reclaim_sum_ns, web_reclaim, 2);
	web->mem.oom_kills = 2;
	web->mem.files.has_usage = true;
	web->mem.files.usage_bytes = 512ull << 20;
	web->mem.files.has_limit = true;
	web->mem.files.limit_bytes = 1ull << 30;
	psi(&web->mem.files, KP_PSI_CPU, 1234567, 7654321);
	psi(&web->mem.files, KP_PSI_MEMORY, 42, -1);	/* no "full" line */
	web->mem.files.has_stat = true;
	web->mem.files.working_set_bytes = 400ull << 20;
	web->mem.files.rss_bytes = 300ull << 20;
	web->mem.files.cache_bytes = 150ull << 20;
	web->mem.files.has_swap = true;
	web->mem.files.swap_bytes = 3ull << 20;
	web->cpu.has_limit = true;
	web->cpu.limit = (struct kp_cpu_limit){ true, 150000, 100000 };
	web->cpu.has_throttle = true;
	/* a year of periods: seconds keep their nanoseconds */
	web->cpu.throttle = (struct kp_cpu_throttle){ 315360000, 1234567, 31536000ull * S + 987654321 };
	t = kp_model__tcp(web);
	*t = (struct kp_tcp_totals){ .conn_in = 10, .conn_out = 20, .established = 3,
				     .retrans = 4, .rst_sent = 5, .rst_recv = 6,
				     .rx_bytes = 7000, .tx_bytes = 8000 };
	record_all(t->rtt_hist, &t->rtt_sum_ns, web_rtt, 2);
	record_all(t->connect_hist, &t->connect_sum_ns, web_connect, 1);
	/* max_ports 1: the busier 8080 is named, 9090 goes to "other" */
	l = lat_of(req_8080, 1, 0);
	assert_int_equal(kp_portset__update(kp_model__ports(m, web, 0), 8080, &l, NULL), 0);
	l = lat_of(req_9090, 1, 0);
	assert_int_equal(kp_portset__update(web->req[0], 9090, &l, NULL), 0);
	kp_portset__settle(web->req[0], 10 * S);
	l = lat_of(req_5432, 1, 0);
	assert_int_equal(kp_portset__update(kp_model__ports(m, web, 1), 5432, &l, NULL), 0);
	kp_portset__settle(web->req[1], 10 * S);

	api->t.cpu_ns = 1500 * MS;
	api->t.nvcsw = 3;
	api->mem.files.has_usage = true;
	api->mem.files.usage_bytes = 4096;	/* unlimited: has_limit false */
	api->mem.files.has_stat = true;		/* swap not accounted */
	api->mem.files.working_set_bytes = 4000;
	api->mem.files.rss_bytes = 3000;
	api->mem.files.cache_bytes = 96;

	odd->t.cpu_ns = 1 * S;

	unres->t.cpu_ns = 5 * S;
	kp_model__tcp(unres)->conn_in = 99;

	m->node.cpu_ns = 5555 * S + 5;
	m->node.nvcsw = 77777;
	m->node.nivcsw = 8888;
	record_all(m->node.runq_hist, &m->node.runq_sum_ns, node_runq, 2);
	m->node_mem.oom_kills = 9;
	psi(&m->node_mem.files, KP_PSI_IO, 31, 13);
	m->node_tcp = (struct kp_tcp_totals){ .conn_in = 100, .conn_out = 200, .established = -2,
					      .retrans = 40, .rx_bytes = 1 << 20,
					      .tx_bytes = 2 << 20 };
	m->node_req[0] = lat_of(req_8080, 1, 0);
	m->node_req[1] = lat_of(req_5432, 1, 0);

	s->feat.sock_len = true;
	set_prog(s, "sched_switch", "tp_btf", true, true, 2500 * MS, 1000, 1);
	set_prog(s, "tcp_probe", "raw_tp", true, false, 0, 0, 50);
	set_prog(s, "sock_send_length", "tp_btf", false, false, 0, 0, 0);
	set_prog(s, "mark_victim", "tp_btf", true, true, 10, 2, 2);
	s->degraded = true;
	s->stats_mode = "sampled";
	s->stats_duty = 1.0 / 30;
	for (int i = 0; i < KP_MAP_MAX; i++) {
		s->map_entries[i] = 10u + (unsigned)i;
		s->map_max_entries[i] = 4096;
	}
	for (int r = 0; r < KP_DROP_MAX; r++)
		s->drops[r] = 100u + (unsigned)r;
	s->collections = 42;
	s->names = (struct kp_names_self){ .lookups = 7, .found = 5, .file_reads = 20,
					   .errors = 1, .dropped = 2, .entries = 3 };
	s->removed = 3;
	s->tree_walks = 5;
	s->last_duration_s = 0.0123;
	s->proc = (struct kp_procstat){ .cpu_seconds = 1.25, .rss_bytes = 12345678,
					.vsize_bytes = 987654321, .open_fds = 17, .max_fds = 1024,
					.start_time_seconds = 1734567891 };
	return m;
}

/* Each test's model and renderer (setup and teardown). */
static struct kp_model *model;
static struct kp_metrics *mx;

static int setup(void **st)
{
	(void)st;
	model = build();
	mx = kp_metrics__new();
	return mx ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	kp_metrics__free(mx);
	kp_model__free(model);
	return 0;
}

/* ---- the checks ---- */

/* Labels of a container series beside the container's own, per family. */
static bool extra_label(const char *family, const char *name, const char *series)
{
	if (!strcmp(name, "le"))
		return ends_with(series, "_bucket");
	if (!strcmp(name, "kind"))
		return !strcmp(family, "kpulse_container_context_switches_total");
	if (!strcmp(name, "direction"))
		return !strcmp(family, "kpulse_container_tcp_connections_total") ||
		       !strcmp(family, "kpulse_container_tcp_resets_total") ||
		       !strcmp(family, "kpulse_container_request_latency_seconds");
	if (!strcmp(name, "port"))
		return !strcmp(family, "kpulse_container_request_latency_seconds");
	return false;
}

/* kpulse's own counters of its container name lookups */
static bool daemon_family(const char *family)
{
	return !strcmp(family, "kpulse_container_name_lookups_total") ||
	       !strcmp(family, "kpulse_container_names_found_total");
}

struct who {
	const char *name, *id, *runtime, *cgroup, *pod_uid, *image, *pod, *namespace;
};

static const struct who shown[] = {
	{ "web", WEB_ID, "docker", WEB_PATH, NULL, WEB_IMAGE, NULL, NULL },
	{ "api", API_ID, "containerd", API_PATH, POD_UID, API_IMAGE, "api-7d9f-0", "prod" },
	{ ODD_SHOWN, "1003", "cgroup", ODD_SHOWN, NULL, NULL, NULL, NULL },
};

/* Every kpulse_container_* series carries exactly one shown container's
 * labels, right, plus its family's own. */
static void check_container_labels(const struct expo *x, const struct who *w, size_t nw)
{
	size_t per[8] = { 0 };

	for (size_t i = 0; i < x->n; i++) {
		const struct sample *s = &x->s[i];
		const char *id = label(s, "container_id");
		const struct who *c = NULL;
		unsigned int own = 0;

		if (strncmp(s->fam->name, "kpulse_container_", 17) || daemon_family(s->fam->name)) {
			assert_null(id);
			continue;
		}
		assert_non_null(id);
		for (size_t k = 0; k < nw; k++)
			if (!strcmp(w[k].id, id)) {
				c = &w[k];
				per[k]++;
			}
		if (!c)
			fail_msg("%s: unknown container_id %s", s->name, id);
		for (unsigned int k = 0; k < s->nl; k++) {
			const char *n = s->lname[k], *v = s->lval[k];
			const char *want = !strcmp(n, "container") ? c->name :
					   !strcmp(n, "container_id") ? c->id :
					   !strcmp(n, "runtime") ? c->runtime :
					   !strcmp(n, "cgroup") ? c->cgroup :
					   !strcmp(n, "pod_uid") ? c->pod_uid :
					   !strcmp(n, "image") ? c->image :
					   !strcmp(n, "pod") ? c->pod :
					   !strcmp(n, "namespace") ? c->namespace : NULL;

			if (extra_label(s->fam->name, n, s->name))
				continue;
			own++;
			if (!want)
				fail_msg("%s: label %s", s->name, n);
			assert_string_equal(v, want);
		}
		/* the four every container has, and the names known */
		assert_int_equal(own, 4 + !!c->pod_uid + !!c->image + !!c->pod + !!c->namespace);
	}
	for (size_t k = 0; k < nw; k++)
		assert_true(per[k] > 0);
}

/* A histogram series: buckets cumulative on the fixed bounds, matching
 * both kp_hist_fold_le and a count made here from the events (a fine
 * bucket falls under a bound when its upper edge is at or below it),
 * +Inf, _count and _sum. */
static void check_hist(const struct expo *x, const char *name, const char *const *want,
		       const struct ev *e, size_t ne)
{
	static uint64_t fine[KP_HIST_BUCKETS];
	uint64_t folded[64], total = 0, sum_ns = 0;
	char series[128];
	size_t nb = 0;
	double prev_le = -1;

	memset(fine, 0, sizeof(fine));
	record_all(fine, &sum_ns, e, ne);
	for (size_t i = 0; i < ne; i++)
		total += e[i].n;
	assert_int_equal(kp_hist_fold_le(fine, folded), total);
	snprintf(series, sizeof(series), "%s_bucket", name);
	for (size_t i = 0; i < x->n; i++) {
		const struct sample *s = &x->s[i];
		const char *le;
		double bound;
		uint64_t mine = 0;

		if (strcmp(s->name, series) || !has_labels(s, want))
			continue;
		le = label(s, "le");
		assert_non_null(le);
		bound = strtod(le, NULL);
		assert_true(bound > prev_le);	/* ascending */
		prev_le = bound;
		if (nb == kp_prom_le_count) {
			assert_string_equal(le, "+Inf");
			assert_near(s->value, (double)total, 0);
		} else {
			uint64_t bound_ns = (uint64_t)llround(bound * 1e9);

			assert_near(bound, kp_prom_le[nb], 1e-15);
			for (size_t k = 0; k < ne; k++)
				if (tb_upper(e[k].v) <= bound_ns)
					mine += e[k].n;
			assert_near(s->value, (double)mine, 0);
			assert_near(s->value, (double)folded[nb], 0);
		}
		nb++;
	}
	assert_int_equal(nb, kp_prom_le_count + 1);
	snprintf(series, sizeof(series), "%s_count", name);
	assert_near(value(x, series, want), (double)total, 0);
	snprintf(series, sizeof(series), "%s_sum", name);
	assert_near(value(x, series, want), (double)sum_ns / 1e9, 1e-9);
}

static void test_structure_and_labels(void **st)
{
	struct expo x;

	(void)st;
	render(mx, model, &x);
	check_container_labels(&x, shown, 3);
	/* the unresolved container is nowhere, not even in the count */
	assert_int_equal(count_id(&x, "999"), 0);
	assert_near(value(&x, "kpulse_containers", NULL), 3, 0);
	/* a pod has pod_uid; others do not */
	assert_int_equal(count(&x, "kpulse_container_cpu_seconds_total", L("pod_uid", POD_UID)), 1);
	for (size_t i = 0; i < x.n; i++) {
		if (label(&x.s[i], "pod_uid") || label(&x.s[i], "pod") || label(&x.s[i], "namespace"))
			assert_string_equal(label(&x.s[i], "container_id"), API_ID);
		if (label(&x.s[i], "container_id") && !strcmp(label(&x.s[i], "container_id"), "1003"))
			assert_null(label(&x.s[i], "image"));	/* not known */
	}
	assert_int_equal(count(&x, "kpulse_container_cpu_seconds_total",
			       L("image", API_IMAGE, "pod", "api-7d9f-0", "namespace", "prod")), 1);
	/* the node's series carry no container labels */
	for (size_t i = 0; i < x.n; i++)
		if (!strncmp(x.s[i].name, "kpulse_node_", 12))
			assert_null(label(&x.s[i], "container"));
	expo_free(&x);
}

static void test_container_values(void **st)
{
	const struct kp_container *web = kp_model__find(model, 1001);
	struct expo x;

	(void)st;
	render(mx, model, &x);
	/* counters keep their resolution however large they grow */
	assert_near(value(&x, "kpulse_container_cpu_seconds_total", L("container", "web")),
			   94608000.123456789, 1e-6);
	assert_near(value(&x, "kpulse_container_cpu_seconds_total", L("container", "api")),
			   1.5, 0);
	assert_near(value(&x, "kpulse_container_context_switches_total",
				 L("container", "web", "kind", "voluntary")), 1111, 0);
	assert_near(value(&x, "kpulse_container_context_switches_total",
				 L("container", "web", "kind", "involuntary")), 222, 0);
	assert_int_equal(count(&x, "kpulse_container_context_switches_total", L("container", "api")),
			 2);
	check_hist(&x, "kpulse_container_runqueue_latency_seconds", L("container", "web"),
		   web_runq, 4);
	/* a container's histogram appears with its first observation */
	assert_int_equal(count(&x, "kpulse_container_runqueue_latency_seconds_bucket",
			       L("container", "api")), 0);
	assert_int_equal(count(&x, "kpulse_container_memory_reclaim_seconds_count",
			       L("container", "api")), 0);
	check_hist(&x, "kpulse_container_memory_reclaim_seconds", L("container", "web"),
		   web_reclaim, 2);
	assert_near(value(&x, "kpulse_container_oom_kills_total", L("container", "web")), 2, 0);
	assert_near(value(&x, "kpulse_container_memory_usage_bytes", L("container", "web")),
			   512 << 20, 0);
	assert_near(value(&x, "kpulse_container_memory_limit_bytes", L("container", "web")),
			   1 << 30, 0);
	/* PSI totals in seconds; a missing "full" line, a missing file: no series */
	assert_near(value(&x, "kpulse_container_pressure_cpu_some_seconds_total",
				 L("container", "web")), 1.234567, 1e-12);
	assert_near(value(&x, "kpulse_container_pressure_cpu_full_seconds_total",
				 L("container", "web")), 7.654321, 1e-12);
	assert_near(value(&x, "kpulse_container_pressure_memory_some_seconds_total",
				 L("container", "web")), 42e-6, 1e-15);
	assert_int_equal(count(&x, "kpulse_container_pressure_memory_full_seconds_total", NULL), 0);
	assert_int_equal(count(&x, "kpulse_container_pressure_io_some_seconds_total", NULL), 0);
	assert_true(has_family(&x, "kpulse_container_pressure_io_some_seconds_total"));

	/* TCP, both directions */
	check_hist(&x, "kpulse_container_tcp_rtt_seconds", L("container", "web"), web_rtt, 2);
	check_hist(&x, "kpulse_container_tcp_connect_latency_seconds", L("container", "web"),
		   web_connect, 1);
	assert_near(value(&x, "kpulse_container_tcp_established", L("container", "web")), 3, 0);
	assert_near(value(&x, "kpulse_container_tcp_connections_total",
				 L("container", "web", "direction", "inbound")), 10, 0);
	assert_near(value(&x, "kpulse_container_tcp_connections_total",
				 L("container", "web", "direction", "outbound")), 20, 0);
	assert_near(value(&x, "kpulse_container_tcp_retransmits_total",
				 L("container", "web")), 4, 0);
	assert_near(value(&x, "kpulse_container_tcp_resets_total",
				 L("container", "web", "direction", "sent")), 5, 0);
	assert_near(value(&x, "kpulse_container_tcp_resets_total",
				 L("container", "web", "direction", "received")), 6, 0);
	assert_near(value(&x, "kpulse_container_network_receive_bytes_total",
				 L("container", "web")), 7000, 0);
	assert_near(value(&x, "kpulse_container_network_transmit_bytes_total",
				 L("container", "web")), 8000, 0);
	/* request latency: the named port, "other" for the quieter one, the
	 * outbound port; every request counted once over the ports */
	check_hist(&x, "kpulse_container_request_latency_seconds",
		   L("container", "web", "direction", "inbound", "port", "8080"), req_8080, 1);
	check_hist(&x, "kpulse_container_request_latency_seconds",
		   L("container", "web", "direction", "inbound", "port", "other"), req_9090, 1);
	check_hist(&x, "kpulse_container_request_latency_seconds",
		   L("container", "web", "direction", "outbound", "port", "5432"), req_5432, 1);
	assert_int_equal(count(&x, "kpulse_container_request_latency_seconds_count",
			       L("container", "web")), 3);
	assert_int_equal(count(&x, "kpulse_container_request_latency_seconds_count",
			       L("direction", "outbound", "port", "other")), 0);
	(void)web;
	expo_free(&x);
}

static void test_node_and_self(void **st)
{
	struct expo x;
	uint64_t dropped;

	(void)st;
	render(mx, model, &x);
	assert_near(value(&x, "kpulse_node_cpu_seconds_total", NULL), 5555.000000005, 1e-9);
	assert_near(value(&x, "kpulse_node_context_switches_total", L("kind", "voluntary")),
			   77777, 0);
	assert_near(value(&x, "kpulse_node_context_switches_total", L("kind", "involuntary")),
			   8888, 0);
	check_hist(&x, "kpulse_node_runqueue_latency_seconds", NULL, node_runq, 2);
	check_hist(&x, "kpulse_node_memory_reclaim_seconds", NULL, NULL, 0);
	assert_near(value(&x, "kpulse_node_oom_kills_total", NULL), 9, 0);
	assert_near(value(&x, "kpulse_node_pressure_io_some_seconds_total", NULL), 31e-6, 1e-15);
	assert_near(value(&x, "kpulse_node_pressure_io_full_seconds_total", NULL), 13e-6, 1e-15);
	assert_int_equal(count(&x, "kpulse_node_pressure_cpu_some_seconds_total", NULL), 0);
	/* a negative gauge (closes counted before their opens) shows 0 */
	assert_near(value(&x, "kpulse_node_tcp_established", NULL), 0, 0);
	assert_near(value(&x, "kpulse_node_tcp_connections_total", L("direction", "inbound")),
			   100, 0);
	assert_near(value(&x, "kpulse_node_tcp_retransmits_total", NULL), 40, 0);
	assert_near(value(&x, "kpulse_node_socket_transmit_bytes_total", NULL), 2 << 20, 0);
	check_hist(&x, "kpulse_node_request_latency_seconds", L("direction", "inbound"), req_8080, 1);
	check_hist(&x, "kpulse_node_request_latency_seconds", L("direction", "outbound"), req_5432, 1);

	/* programs: every one's state, run time only where stats were read */
	assert_int_equal(count(&x, "kpulse_bpf_program_attached", NULL), 4);
	assert_near(value(&x, "kpulse_bpf_program_attached",
				 L("program", "sched_switch", "attach", "tp_btf")), 1, 0);
	assert_near(value(&x, "kpulse_bpf_program_attached",
				 L("program", "sock_send_length", "attach", "tp_btf")), 0, 0);
	assert_int_equal(count(&x, "kpulse_bpf_program_run_seconds_total", NULL), 2);
	assert_near(value(&x, "kpulse_bpf_program_run_seconds_total",
				 L("program", "sched_switch")), 2.5, 0);
	assert_near(value(&x, "kpulse_bpf_program_runs_total", L("program", "mark_victim")),
			   2, 0);
	assert_int_equal(count(&x, "kpulse_bpf_program_runs_total", L("program", "tcp_probe")), 0);
	assert_near(value(&x, "kpulse_bpf_stats_duty_cycle", NULL), 1.0 / 30, 1e-9);
	/* maps and drops, each by name */
	for (int i = 0; i < KP_MAP_MAX; i++) {
		assert_near(value(&x, "kpulse_bpf_map_entries", L("map", kp_map_names[i])),
				   10 + i, 0);
		assert_near(value(&x, "kpulse_bpf_map_max_entries", L("map", kp_map_names[i])),
				   4096, 0);
	}
	for (int r = 0; r < KP_DROP_MAX; r++)
		assert_near(value(&x, "kpulse_bpf_events_dropped_total",
					 L("reason", kp_drop_names[r])), 100 + r, 0);
	/* recursion misses of the programs with stats: 1 + 2 (not tcp_probe's) */
	assert_near(value(&x, "kpulse_bpf_events_dropped_total", L("reason", "recursion_miss")),
			   3, 0);
	dropped = count(&x, "kpulse_bpf_events_dropped_total", NULL);
	assert_int_equal(dropped, KP_DROP_MAX + 1);
	assert_near(value(&x, "kpulse_containers_removed_total", NULL), 3, 0);
	assert_near(value(&x, "kpulse_cgroup_tree_walks_total", NULL), 5, 0);
	assert_near(value(&x, "kpulse_collections_total", NULL), 42, 0);
	assert_near(value(&x, "kpulse_collection_duration_seconds", NULL), 0.0123, 1e-12);
	assert_near(value(&x, "kpulse_degraded", NULL), 1, 0);
	assert_near(value(&x, "kpulse_build_info", NULL), 1, 0);
	/* kpulse's own name lookups, without container labels */
	assert_near(value(&x, "kpulse_container_name_lookups_total", NULL), 7, 0);
	assert_near(value(&x, "kpulse_container_names_found_total", NULL), 5, 0);
	assert_near(value(&x, "kpulse_runtime_file_errors_total", NULL), 1, 0);
	assert_near(value(&x, "kpulse_runtime_index_entries", NULL), 3, 0);
	assert_near(value(&x, "kpulse_runtime_index_dropped_total", NULL), 2, 0);
	assert_int_equal(family_of(&x, "kpulse_container_name_lookups_total")->type[0], 'c');
	assert_near(value(&x, "kpulse_build_info", L("version", KPULSE_VERSION)), 1, 0);

	/* process_*: the model's figures, to the second */
	assert_near(value(&x, "process_start_time_seconds", NULL), 1734567891, 0);
	assert_near(value(&x, "process_cpu_seconds_total", NULL), 1.25, 0);
	assert_near(value(&x, "process_resident_memory_bytes", NULL), 12345678, 0);
	assert_near(value(&x, "process_virtual_memory_bytes", NULL), 987654321, 0);
	assert_near(value(&x, "process_open_fds", NULL), 17, 0);
	assert_near(value(&x, "process_max_fds", NULL), 1024, 0);
	expo_free(&x);

	/* without the process's figures: no process_* at all */
	model->self.proc.start_time_seconds = 0;
	render(mx, model, &x);
	for (size_t i = 0; i < x.nf; i++)
		assert_true(strncmp(x.f[i].name, "process_", 8));
	expo_free(&x);
}

/* The CPU limit and throttling, memory.stat and swap: cAdvisor's figures
 * under kpulse's names, only where the files gave them. */
static void test_limits_and_memstat(void **st)
{
	struct expo x;

	(void)st;
	render(mx, model, &x);
	assert_near(value(&x, "kpulse_container_cpu_limit_cores", L("container", "web")), 1.5, 0);
	assert_near(value(&x, "kpulse_container_cpu_periods_total", L("container", "web")),
		    315360000, 0);
	assert_near(value(&x, "kpulse_container_cpu_throttled_periods_total",
			  L("container", "web")), 1234567, 0);
	assert_near(value(&x, "kpulse_container_cpu_throttled_seconds_total",
			  L("container", "web")), 31536000.987654321, 1e-6);
	assert_near(value(&x, "kpulse_container_memory_working_set_bytes", L("container", "web")),
		    400 << 20, 0);
	assert_near(value(&x, "kpulse_container_memory_rss_bytes", L("container", "web")),
		    300 << 20, 0);
	assert_near(value(&x, "kpulse_container_memory_cache_bytes", L("container", "web")),
		    150 << 20, 0);
	assert_near(value(&x, "kpulse_container_memory_swap_bytes", L("container", "web")),
		    3 << 20, 0);
	assert_near(value(&x, "kpulse_container_memory_working_set_bytes", L("container", "api")),
		    4000, 0);
	assert_near(value(&x, "kpulse_container_memory_cache_bytes", L("container", "api")), 96, 0);
	/* unlimited, never throttled, no swap accounting, no memory.stat:
	 * no series, but the family is there */
	assert_int_equal(count(&x, "kpulse_container_cpu_limit_cores", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_cpu_periods_total", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_cpu_throttled_seconds_total", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_memory_swap_bytes", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_memory_rss_bytes", NULL), 2);	/* not odd */
	assert_true(has_family(&x, "kpulse_container_cpu_throttled_periods_total"));
	expo_free(&x);

	/* a limit without throttling figures yet: the limit alone */
	kp_model__find(model, 1001)->cpu.has_throttle = false;
	render(mx, model, &x);
	assert_int_equal(count(&x, "kpulse_container_cpu_limit_cores", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_cpu_periods_total", NULL), 0);
	expo_free(&x);
}

/* What must not be there: a limit when unlimited, TCP families for a
 * container without TCP, bytes and request latency without sock_len. */
static void test_absent_series(void **st)
{
	static const char *const sock_len_families[] = {
		"kpulse_container_network_receive_bytes_total",
		"kpulse_container_network_transmit_bytes_total",
		"kpulse_container_request_latency_seconds",
		"kpulse_node_socket_receive_bytes_total",
		"kpulse_node_socket_transmit_bytes_total",
		"kpulse_node_request_latency_seconds",
	};
	struct expo x;

	(void)st;
	render(mx, model, &x);
	assert_int_equal(count(&x, "kpulse_container_memory_limit_bytes", L("container", "api")), 0);
	assert_int_equal(count(&x, "kpulse_container_memory_limit_bytes", NULL), 1);
	assert_int_equal(count(&x, "kpulse_container_memory_usage_bytes", NULL), 2);	/* odd: none */
	for (size_t i = 0; i < x.n; i++) {
		const char *id = label(&x.s[i], "container_id");

		if (id && strcmp(id, WEB_ID) && (strstr(x.s[i].name, "_tcp_") ||
						 strstr(x.s[i].name, "_network_") ||
						 strstr(x.s[i].name, "_request_")))
			fail_msg("%s for a container without TCP", x.s[i].name);
	}
	for (size_t i = 0; i < sizeof(sock_len_families) / sizeof(sock_len_families[0]); i++)
		assert_true(has_family(&x, sock_len_families[i]));
	expo_free(&x);

	model->self.feat.sock_len = false;
	render(mx, model, &x);
	for (size_t i = 0; i < sizeof(sock_len_families) / sizeof(sock_len_families[0]); i++)
		assert_false(has_family(&x, sock_len_families[i]));
	for (size_t i = 0; i < x.n; i++)
		assert_null(strstr(x.s[i].name, "_bytes_total"));
	/* the rest of TCP stays */
	assert_near(value(&x, "kpulse_container_tcp_retransmits_total", L("container", "web")),
			   4, 0);
	assert_near(value(&x, "kpulse_node_tcp_retransmits_total", NULL), 40, 0);
	expo_free(&x);
}

/* The raw text of hostile names: escaped, one line per sample. */
static void test_hostile_names_escaped(void **st)
{
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *want = "kpulse_container_cpu_seconds_total{container=\"/test.slice/we\\\"ird\\\\na"
			   "\\\\x0ame\\\\xff\\\\xc3(.scope\",container_id=\"1003\",runtime=\"cgroup\","
			   "cgroup=\"/test.slice/we\\\"ird\\\\na\\\\x0ame\\\\xff\\\\xc3(.scope\"} 1\n";

	(void)st;
	kp_metrics__render(mx, f, model);
	fclose(f);
	line = strstr(buf, "kpulse_container_cpu_seconds_total{container=\"/test");
	assert_non_null(line);
	assert_memory_equal(line, want, strlen(want));
	free(buf);
}

/* The label cache: a removed container's series go, and a container made
 * again under the same id shows its new name. */
static void test_label_cache_forgets(void **st)
{
	struct kp_container *k;
	struct expo x;

	(void)st;
	render(mx, model, &x);
	assert_true(count(&x, "kpulse_container_cpu_seconds_total", L("container", "web")) == 1);
	expo_free(&x);

	kp_model__remove(model, kp_model__find(model, 1001));
	render(mx, model, &x);
	assert_int_equal(count_id(&x, WEB_ID), 0);
	for (size_t i = 0; i < x.n; i++)
		assert_true(!label(&x.s[i], "container") ||
			    strcmp(label(&x.s[i], "container"), "web"));
	assert_near(value(&x, "kpulse_containers", NULL), 2, 0);
	check_container_labels(&x, shown + 1, 2);
	expo_free(&x);

	k = tb_container(model, 1001, "/system.slice/web2.service", "web2.service", NULL,
			 KP_RT_SYSTEMD, NULL);
	k->t.cpu_ns = 3 * S;
	render(mx, model, &x);
	assert_near(value(&x, "kpulse_container_cpu_seconds_total",
				 L("container", "web2.service", "container_id", "1001",
				   "runtime", "systemd", "cgroup", "/system.slice/web2.service")),
			   3, 0);
	for (size_t i = 0; i < x.n; i++)
		assert_true(!label(&x.s[i], "container") ||
			    strcmp(label(&x.s[i], "container"), "web"));
	expo_free(&x);
}

/* An empty model still renders a valid exposition, and a second renderer
 * keeps a cache of its own: the first one's labels stay as they were. */
static void test_empty_model(void **st)
{
	struct kp_model *empty = kp_model__new(0);
	struct kp_metrics *other = kp_metrics__new();
	struct expo x;

	(void)st;
	render(mx, model, &x);
	expo_free(&x);
	render(other, empty, &x);
	assert_near(value(&x, "kpulse_containers", NULL), 0, 0);
	assert_true(has_family(&x, "kpulse_container_cpu_seconds_total"));
	assert_int_equal(count(&x, "kpulse_container_cpu_seconds_total", NULL), 0);
	assert_int_equal(count(&x, "kpulse_bpf_program_attached", NULL), 0);
	expo_free(&x);
	render(mx, model, &x);
	check_container_labels(&x, shown, 3);
	expo_free(&x);
	kp_metrics__free(other);
	kp_metrics__free(NULL);
	kp_model__free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_structure_and_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_and_self, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_memstat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_cache_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
