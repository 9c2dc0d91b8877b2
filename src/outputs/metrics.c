/* metrics.c - /metrics: per-container and node series, then kpulse's own
 * cost (BPF run time per program, map fill, drops) and process_* figures.
 * Names and units follow the contract in DESIGN.md. */
#include <stddef.h>
#include <string.h>
#include "outputs/metrics.h"
#include <stdlib.h>
#include <uthash.h>
#include "model/hist.h"
#include "model/model.h"
#include "outputs/prom.h"
#include "outputs/node_metrics.h"
#include "base/version.h"

/* A container's label set, escaped once, by cgroup id. */
struct label_cache {
	uint64_t cgid;
	char *prep;
	unsigned int ident_gen;	/* the identity it was made from */
	uint64_t gen;		/* the last render that used it */
	UT_hash_handle hh;
};

struct kp_metrics {
	struct label_cache *by_id;
	uint64_t gen;
};

struct kp_metrics *kp_metrics__new(void)
{
	return calloc(1, sizeof(struct kp_metrics));
}

void kp_metrics__free(struct kp_metrics *mx)
{
	struct label_cache *e, *tmp;

	if (!mx)
		return;
	HASH_ITER(hh, mx->by_id, e, tmp) {
		HASH_DEL(mx->by_id, e);
		free(e->prep);
		free(e);
	}
	free(mx);
}

/* Current render, for clabels(); set by kp_metrics__render. */
static struct kp_metrics *cur;

/* Label set of a container, escaped once and kept until its identity
 * changes (the runtimes' files can name it after its path is known). */
static const char *clabels(const struct kp_container *k)
{
	struct kp_label l[KP_CONTAINER_LABELS + 1];
	struct label_cache *e;

	HASH_FIND(hh, cur->by_id, &k->cgid, sizeof(k->cgid), e);
	if (e && e->ident_gen != k->ident_gen) {
		free(e->prep);
		kp_container_labels(k, l);
		e->prep = kp_prom_prepare(l);
		e->ident_gen = k->ident_gen;
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return "";
		kp_container_labels(k, l);
		e->cgid = k->cgid;
		e->prep = kp_prom_prepare(l);
		e->ident_gen = k->ident_gen;
		HASH_ADD(hh, cur->by_id, cgid, sizeof(e->cgid), e);
	}
	e->gen = cur->gen;
	return e->prep ? e->prep : "";
}

const char *kp_metrics__labels(struct kp_metrics *mx, const struct kp_container *k)
{
	cur = mx;
	return clabels(k);
}

/* Forget the label sets of containers this render did not show. */
static void labels_sweep(struct kp_metrics *mx)
{
	struct label_cache *e, *tmp;

	HASH_ITER(hh, mx->by_id, e, tmp) {
		if (e->gen == mx->gen)
			continue;
		HASH_DEL(mx->by_id, e);
		free(e->prep);
		free(e);
	}
}

#define FOR_EACH_SHOWN(m, k, tmp) KP_MODEL_FOR_EACH_SHOWN(m, k, tmp)

/* A container's histogram, unless it never saw an event: an empty one is
 * 20-odd lines saying nothing (the Prometheus convention: a histogram
 * appears with its first observation). Once shown it stays, as counts only
 * grow. */
static void container_hist(FILE *f, const char *name, const struct kp_container *k,
			   const char *extra, const uint64_t *fine, uint64_t sum_ns)
{
	if (kp_hist_any(fine))
		kp_prom_histogram_p(f, name, clabels(k), extra, fine, sum_ns);
}

/* kpulse_<scope>_pressure_<res>_<some|full>_seconds_total for every
 * resource and kind, from the PSI files' cumulative totals (µs). */
static void render_pressure(FILE *f, const struct kp_model *c, bool node)
{
	static const char *const kinds[2] = { "some", "full" };
	struct kp_container *k, *tmp;
	char name[96], help[192];

	for (int r = 0; r < KP_PSI_NRES; r++) {
		for (int s = 0; s < 2; s++) {
			const struct kp_mem_files *nf = &(&c->node_mem)->files;

			snprintf(name, sizeof(name), "kpulse_%s_pressure_%s_%s_seconds_total",
				 node ? "node" : "container", kp_psi_res_name(r), kinds[s]);
			snprintf(help, sizeof(help), s ?
				 "Time all non-idle tasks%s were stalled on %s at once (PSI full), from %s%s%s." :
				 "Time at least one task%s was stalled on %s (PSI some), from %s%s%s.",
				 node ? "" : " of the container", kp_psi_res_name(r),
				 node ? "/proc/pressure/" : "the cgroup's ", kp_psi_res_name(r),
				 node ? "" : ".pressure");
			kp_prom_family(f, name, "counter", help);
#define PSI_LINE(files) (s ? &(files)->psi[r].full : &(files)->psi[r].some)
			if (node) {
				if (nf->has_psi[r] && PSI_LINE(nf)->present)
					kp_prom_sample(f, name, NULL, (double)PSI_LINE(nf)->total_us / 1e6);
				continue;
			}
			FOR_EACH_SHOWN(c, k, tmp) {
				const struct kp_mem_files *kf = &k->mem.files;

				if (!kf->has_psi[r] || !PSI_LINE(kf)->present)
					continue;
				kp_prom_sample_p(f, name, clabels(k), NULL,
						(double)PSI_LINE(kf)->total_us / 1e6);
			}
#undef PSI_LINE
		}
	}
}

/* memory.stat figures, named as cAdvisor's (container_memory_*). */
static void render_container_memstat(FILE *f, const struct kp_model *c)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} rows[] = {
		{ "kpulse_container_memory_working_set_bytes",
		  "Memory usage minus inactive file pages (what the OOM killer and kubelet evictions look at).",
		  offsetof(struct kp_mem_files, working_set_bytes) },
		{ "kpulse_container_memory_rss_bytes",
		  "Anonymous memory of the container (memory.stat anon, v1 total_rss).",
		  offsetof(struct kp_mem_files, rss_bytes) },
		{ "kpulse_container_memory_cache_bytes",
		  "Page cache charged to the container (memory.stat file, v1 total_cache).",
		  offsetof(struct kp_mem_files, cache_bytes) },
	};
	struct kp_container *k, *tmp;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		kp_prom_family(f, rows[i].name, "gauge", rows[i].help);
		FOR_EACH_SHOWN(c, k, tmp) {
			if (!k->mem.files.has_stat)
				continue;
			kp_prom_sample_u64_p(f, rows[i].name, clabels(k), NULL,
					     *(const uint64_t *)((const char *)&k->mem.files + rows[i].off));
		}
	}
	kp_prom_family(f, "kpulse_container_memory_swap_bytes", "gauge",
		       "Swap used by the container (memory.swap.current, v1 total_swap); no series without swap accounting.");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (k->mem.files.has_swap)
			kp_prom_sample_u64_p(f, "kpulse_container_memory_swap_bytes", clabels(k), NULL,
					     k->mem.files.swap_bytes);
	}
}

/* CPU limit (cpu.max or the v1 cfs quota/period) and throttling (cpu.stat). */
static void render_container_cpu_files(FILE *f, const struct kp_model *c)
{
	struct kp_container *k, *tmp;

	kp_prom_family(f, "kpulse_container_cpu_limit_cores", "gauge",
		       "CPU the container may use (CFS quota / period); no series when unlimited.");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (k->cpu.has_limit)
			kp_prom_sample_p(f, "kpulse_container_cpu_limit_cores", clabels(k), NULL,
					 kp_cpu_limit_cores(&k->cpu.limit));
	}
	kp_prom_family(f, "kpulse_container_cpu_periods_total", "counter",
		       "CFS enforcement periods in which the container had runnable tasks (cpu.stat nr_periods); limited containers only.");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (k->cpu.has_throttle)
			kp_prom_sample_u64_p(f, "kpulse_container_cpu_periods_total", clabels(k), NULL,
					     k->cpu.throttle.periods);
	}
	kp_prom_family(f, "kpulse_container_cpu_throttled_periods_total", "counter",
		       "Periods in which the container used up its quota and was throttled (nr_throttled).");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (k->cpu.has_throttle)
			kp_prom_sample_u64_p(f, "kpulse_container_cpu_throttled_periods_total",
					     clabels(k), NULL, k->cpu.throttle.throttled_periods);
	}
	kp_prom_family(f, "kpulse_container_cpu_throttled_seconds_total", "counter",
		       "Time the container's runnable tasks were held back by its CPU limit.");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (k->cpu.has_throttle)
			kp_prom_sample_p(f, "kpulse_container_cpu_throttled_seconds_total", clabels(k),
					 NULL, (double)k->cpu.throttle.throttled_ns / 1e9);
	}
}

static void render_container_mem(FILE *f, const struct kp_model *c)
{
	struct kp_container *k, *tmp;

	kp_prom_family(f, "kpulse_container_memory_reclaim_seconds", "histogram",
		       "Time the container's tasks stalled in memcg or direct reclaim, per stall.");
	FOR_EACH_SHOWN(c, k, tmp) {
		container_hist(f, "kpulse_container_memory_reclaim_seconds", k, NULL,
			       kp_mem_reclaim_hist(&k->mem), k->mem.reclaim_sum_ns);
	}
	kp_prom_family(f, "kpulse_container_oom_kills_total", "counter",
		       "Tasks of the container killed by the OOM killer (oom:mark_victim).");
	FOR_EACH_SHOWN(c, k, tmp) {
		kp_prom_sample_u64_p(f, "kpulse_container_oom_kills_total", clabels(k), NULL,
				k->mem.oom_kills);
	}
	render_pressure(f, c, false);
	kp_prom_family(f, "kpulse_container_memory_usage_bytes", "gauge",
		       "Memory charged to the container's memory cgroup (memory.current, or v1 memory.usage_in_bytes).");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (!k->mem.files.has_usage)
			continue;
		kp_prom_sample_u64_p(f, "kpulse_container_memory_usage_bytes", clabels(k), NULL,
				   k->mem.files.usage_bytes);
	}
	kp_prom_family(f, "kpulse_container_memory_limit_bytes", "gauge",
		       "Memory limit of the container's memory cgroup; no series when unlimited.");
	FOR_EACH_SHOWN(c, k, tmp) {
		if (!k->mem.files.has_limit)
			continue;
		kp_prom_sample_u64_p(f, "kpulse_container_memory_limit_bytes", clabels(k), NULL,
				   k->mem.files.limit_bytes);
	}
	render_container_memstat(f, c);
}

#define FOR_EACH_TCP(m, k, tmp) KP_MODEL_FOR_EACH_SHOWN(m, k, tmp) if (k->tcp)

/* Request latency of one container and direction: a series per named
 * port and one for port="other" (src/ports.h keeps the set small). */
static void render_requests(FILE *f, const struct kp_container *k, int dir, struct kp_lat *lat)
{
	static const char *const dir_name[2] = { "inbound", "outbound" };
	const struct kp_portset *ps = k->req[dir];
	char extra[48];

	if (!ps)
		return;
	for (unsigned int i = 0; i < kp_portset__named_count(ps); i++) {
		unsigned int port = kp_portset__named(ps, i, lat);

		snprintf(extra, sizeof(extra), "direction=\"%s\",port=\"%u\"", dir_name[dir], port);
		kp_prom_histogram_p(f, "kpulse_container_request_latency_seconds", clabels(k), extra,
				    lat->hist, lat->sum_ns);
	}
	if (kp_portset__other(ps, lat)) {
		snprintf(extra, sizeof(extra), "direction=\"%s\",port=\"other\"", dir_name[dir]);
		kp_prom_histogram_p(f, "kpulse_container_request_latency_seconds", clabels(k), extra,
				    lat->hist, lat->sum_ns);
	}
}

/* The TCP counters, container and node alike: one row per series, rows of
 * one family next to each other. */
static const struct tcp_counter {
	const char *name;	/* after kpulse_container_ / kpulse_node_ */
	const char *extra;	/* a label pair of the series, or NULL */
	size_t off;		/* of the uint64_t in struct kp_tcp_totals */
	bool sock_len;		/* needs sock_{send,recv}_length (6.3+) */
	const char *help;
} tcp_counters[] = {
	{ "tcp_connections_total", "direction=\"inbound\"", offsetof(struct kp_tcp_totals, conn_in),
	  false, "TCP connections established: inbound = passive open (accepted), "
		 "outbound = active open." },
	{ "tcp_connections_total", "direction=\"outbound\"",
	  offsetof(struct kp_tcp_totals, conn_out), false, NULL },
	{ "tcp_retransmits_total", NULL, offsetof(struct kp_tcp_totals, retrans), false,
	  "Successful TCP retransmissions (tcp_retransmit_skb), in segments." },
	{ "tcp_resets_total", "direction=\"sent\"", offsetof(struct kp_tcp_totals, rst_sent), false,
	  "TCP resets sent and received by sockets (not those sent for no socket)." },
	{ "tcp_resets_total", "direction=\"received\"", offsetof(struct kp_tcp_totals, rst_recv),
	  false, NULL },
	{ "network_receive_bytes_total", NULL, offsetof(struct kp_tcp_totals, rx_bytes), true,
	  "Bytes inet sockets returned to their tasks (sock_recv_length, no MSG_PEEK)." },
	{ "network_transmit_bytes_total", NULL, offsetof(struct kp_tcp_totals, tx_bytes), true,
	  "Bytes inet sockets accepted from their tasks (sock_send_length)." },
};

/* Every TCP counter family, for the containers whose sockets did anything
 * (@node false) or host-wide. */
static void render_tcp_counters(FILE *f, const struct kp_model *c, bool node, bool sock_len)
{
	const struct kp_tcp_totals *n = (&c->node_tcp);
	struct kp_container *k, *tmp;
	char name[96];

	for (size_t i = 0, j; i < sizeof(tcp_counters) / sizeof(tcp_counters[0]); i = j) {
		const struct tcp_counter *t = &tcp_counters[i];

		for (j = i + 1; j < sizeof(tcp_counters) / sizeof(tcp_counters[0]) &&
				!strcmp(tcp_counters[j].name, t->name); j++)
			;
		if (t->sock_len && !sock_len)
			continue;
		snprintf(name, sizeof(name), "kpulse_%s_%s", node ? "node" : "container", t->name);
		/* host-wide, kpulse_node_network_* are node_exporter's per-interface
		 * series (node_metrics.c): the socket sums are kpulse_node_socket_* */
		if (node && !strncmp(t->name, "network_", 8))
			snprintf(name, sizeof(name), "kpulse_node_socket_%s", t->name + 8);
		kp_prom_family(f, name, "counter", t->help);
		if (node) {
			for (size_t r = i; r < j; r++)
				kp_prom_sample_u64_p(f, name, NULL, tcp_counters[r].extra,
						     *(const uint64_t *)((const char *)n + tcp_counters[r].off));
			continue;
		}
		FOR_EACH_TCP(c, k, tmp)
			for (size_t r = i; r < j; r++)
				kp_prom_sample_u64_p(f, name, clabels(k), tcp_counters[r].extra,
						     *(const uint64_t *)((const char *)k->tcp +
									 tcp_counters[r].off));
	}
}

/* Containers whose sockets did anything while kpulse ran; the figures are
 * charged to the cgroup that created the socket. Without the socket length
 * tracepoints (@sock_len false: before Linux 6.3) bytes and request
 * latency are not shown at all, rather than as zeros. */
static void render_container_tcp(FILE *f, const struct kp_model *c, bool sock_len)
{
	struct kp_lat lat;
	struct kp_container *k, *tmp;

	kp_prom_family(f, "kpulse_container_tcp_rtt_seconds", "histogram",
		       "Smoothed RTT of the container's TCP sockets (tcp_probe srtt), per received segment "
		       "(one in rtt_sample recorded at random, counted rtt_sample times).");
	FOR_EACH_TCP(c, k, tmp)
		container_hist(f, "kpulse_container_tcp_rtt_seconds", k, NULL,
			       k->tcp->rtt_hist, k->tcp->rtt_sum_ns);
	kp_prom_family(f, "kpulse_container_tcp_connect_latency_seconds", "histogram",
		       "Active opens from SYN_SENT to ESTABLISHED.");
	FOR_EACH_TCP(c, k, tmp)
		container_hist(f, "kpulse_container_tcp_connect_latency_seconds", k, NULL,
			       k->tcp->connect_hist, k->tcp->connect_sum_ns);
	kp_prom_family(f, "kpulse_container_tcp_established", "gauge",
		       "TCP sockets in ESTABLISHED right now (of those established while kpulse runs).");
	FOR_EACH_TCP(c, k, tmp)
		kp_prom_sample_p(f, "kpulse_container_tcp_established", clabels(k), NULL,
				 k->tcp->established > 0 ? (double)k->tcp->established : 0);
	render_tcp_counters(f, c, false, sock_len);
	if (!sock_len)
		return;
	kp_prom_family(f, "kpulse_container_request_latency_seconds", "histogram",
		       "First bytes of a request to first bytes of its response on one socket; inbound: port is the local listening port, outbound: the remote port; quieter ports fold into port=\"other\".");
	FOR_EACH_TCP(c, k, tmp)
		for (int d = 0; d < 2; d++)
			render_requests(f, k, d, &lat);
}

static void render_node_tcp(FILE *f, const struct kp_model *c, bool sock_len)
{
	const struct kp_tcp_totals *n = (&c->node_tcp);

	kp_prom_family(f, "kpulse_node_tcp_rtt_seconds", "histogram",
		       "Smoothed RTT of all TCP sockets, per received segment (sampled as the "
		       "container histograms), host-wide.");
	kp_prom_histogram(f, "kpulse_node_tcp_rtt_seconds", NULL, n->rtt_hist, n->rtt_sum_ns);
	kp_prom_family(f, "kpulse_node_tcp_connect_latency_seconds", "histogram",
		       "Active opens from SYN_SENT to ESTABLISHED, host-wide.");
	kp_prom_histogram(f, "kpulse_node_tcp_connect_latency_seconds", NULL,
			  n->connect_hist, n->connect_sum_ns);
	kp_prom_family(f, "kpulse_node_tcp_established", "gauge",
		       "TCP sockets in ESTABLISHED right now (of those established while kpulse runs), host-wide.");
	kp_prom_sample(f, "kpulse_node_tcp_established", NULL,
		       n->established > 0 ? (double)n->established : 0);
	render_tcp_counters(f, c, true, sock_len);
	if (!sock_len)
		return;
	kp_prom_family(f, "kpulse_node_request_latency_seconds", "histogram",
		       "Request latency over all sockets and ports, host-wide, by direction.");
	for (int d = 0; d < 2; d++) {
		const struct kp_lat *r = (&c->node_req[d]);

		kp_prom_histogram_p(f, "kpulse_node_request_latency_seconds", NULL,
				    d ? "direction=\"outbound\"" : "direction=\"inbound\"",
				    r->hist, r->sum_ns);
	}
}

static void render_containers(FILE *f, const struct kp_model *c)
{
	struct kp_container *k, *tmp;

	kp_prom_family(f, "kpulse_container_cpu_seconds_total", "counter",
		       "On-CPU time of the container's tasks, from sched_switch.");
	FOR_EACH_SHOWN(c, k, tmp) {
		kp_prom_sample_p(f, "kpulse_container_cpu_seconds_total", clabels(k), NULL,
			       (double)k->t.cpu_ns / 1e9);
	}
	kp_prom_family(f, "kpulse_container_context_switches_total", "counter",
		       "Context switches away from the container's tasks; involuntary = still runnable.");
	FOR_EACH_SHOWN(c, k, tmp) {
		kp_prom_sample_u64_p(f, "kpulse_container_context_switches_total", clabels(k),
				"kind=\"voluntary\"", k->t.nvcsw);
		kp_prom_sample_u64_p(f, "kpulse_container_context_switches_total", clabels(k),
				"kind=\"involuntary\"", k->t.nivcsw);
	}
	kp_prom_family(f, "kpulse_container_runqueue_latency_seconds", "histogram",
		       "Time from wakeup or preemption until on CPU, charged to the waiting task's container.");
	FOR_EACH_SHOWN(c, k, tmp) {
		container_hist(f, "kpulse_container_runqueue_latency_seconds", k, NULL,
			       k->t.runq_hist, k->t.runq_sum_ns);
	}
	render_container_cpu_files(f, c);
	render_container_mem(f, c);
}

static void render_node(FILE *f, const struct kp_model *c)
{
	const struct kp_sched_totals *n = (&c->node);
	const struct kp_mem_totals *m = (&c->node_mem);
	struct kp_label kind[2] = { { "kind", NULL }, { NULL, NULL } };

	kp_prom_family(f, "kpulse_node_cpu_seconds_total", "counter",
		       "On-CPU time of all tasks but the idle task, host-wide.");
	kp_prom_sample(f, "kpulse_node_cpu_seconds_total", NULL, (double)n->cpu_ns / 1e9);
	kp_prom_family(f, "kpulse_node_context_switches_total", "counter",
		       "Context switches away from non-idle tasks, host-wide.");
	kind[0].value = "voluntary";
	kp_prom_sample_u64(f, "kpulse_node_context_switches_total", kind, n->nvcsw);
	kind[0].value = "involuntary";
	kp_prom_sample_u64(f, "kpulse_node_context_switches_total", kind, n->nivcsw);
	kp_prom_family(f, "kpulse_node_runqueue_latency_seconds", "histogram",
		       "Run-queue latency of all tasks, host-wide.");
	kp_prom_histogram(f, "kpulse_node_runqueue_latency_seconds", NULL,
			  n->runq_hist, n->runq_sum_ns);
	kp_prom_family(f, "kpulse_node_memory_reclaim_seconds", "histogram",
		       "Time tasks stalled in memcg or direct reclaim, host-wide, per stall.");
	kp_prom_histogram(f, "kpulse_node_memory_reclaim_seconds", NULL,
			  kp_mem_reclaim_hist(m), m->reclaim_sum_ns);
	kp_prom_family(f, "kpulse_node_oom_kills_total", "counter",
		       "Tasks killed by the OOM killer, host-wide.");
	kp_prom_sample_u64(f, "kpulse_node_oom_kills_total", NULL, m->oom_kills);
	render_pressure(f, c, true);
}

static void render_programs(FILE *f, const struct kp_self *st)
{
	struct kp_label l[3] = { { "program", NULL }, { NULL, NULL }, { NULL, NULL } };

	kp_prom_family(f, "kpulse_bpf_program_attached", "gauge",
		       "1 when the program for this tracepoint runs, 0 when it could not load or attach.");
	for (unsigned int i = 0; i < st->n_progs; i++) {
		const struct kp_prog_state *p = &st->progs[i];

		l[0].value = p->tracepoint;
		l[1] = (struct kp_label){ "attach", p->attach };
		kp_prom_sample_u64(f, "kpulse_bpf_program_attached", l, p->attached);
	}
	l[1] = (struct kp_label){ NULL, NULL };
	kp_prom_family(f, "kpulse_bpf_program_run_seconds_total", "counter",
		       "Kernel time spent in the program (the kernel's bpf run-time stats; with bpf_stats: "
		       "sampled, estimated from one interval in 30).");
	for (unsigned int i = 0; i < st->n_progs; i++) {
		if (!st->progs[i].has_stats)
			continue;
		l[0].value = st->progs[i].tracepoint;
		kp_prom_sample(f, "kpulse_bpf_program_run_seconds_total", l,
			       (double)st->progs[i].run_ns / 1e9);
	}
	kp_prom_family(f, "kpulse_bpf_program_runs_total", "counter",
		       "Invocations of the program (sampled like the run time).");
	for (unsigned int i = 0; i < st->n_progs; i++) {
		if (!st->progs[i].has_stats)
			continue;
		l[0].value = st->progs[i].tracepoint;
		kp_prom_sample_u64(f, "kpulse_bpf_program_runs_total", l, st->progs[i].runs);
	}
	kp_prom_family(f, "kpulse_bpf_stats_duty_cycle", "gauge",
		       "Share of the time the bpf run-time stats behind kpulse_bpf_program_* were on "
		       "(1 always, 0 off).");
	kp_prom_sample(f, "kpulse_bpf_stats_duty_cycle", NULL, st->stats_duty);
}

static void render_maps(FILE *f, const struct kp_self *st)
{
	struct kp_label l[2] = { { "map", NULL }, { NULL, NULL } };

	kp_prom_family(f, "kpulse_bpf_map_entries", "gauge", "Entries in the map at the last collection.");
	for (int i = 0; i < KP_MAP_MAX; i++) {
		l[0].value = kp_map_names[i];
		kp_prom_sample_u64(f, "kpulse_bpf_map_entries", l, st->map_entries[i]);
	}
	kp_prom_family(f, "kpulse_bpf_map_max_entries", "gauge", "Capacity of the map.");
	for (int i = 0; i < KP_MAP_MAX; i++) {
		l[0].value = kp_map_names[i];
		kp_prom_sample_u64(f, "kpulse_bpf_map_max_entries", l, st->map_max_entries[i]);
	}
	kp_prom_family(f, "kpulse_bpf_events_dropped_total", "counter",
		       "Events the BPF programs could not record, by reason.");
	l[0].name = "reason";
	for (int r = 0; r < KP_DROP_MAX; r++) {
		l[0].value = kp_drop_names[r];
		kp_prom_sample_u64(f, "kpulse_bpf_events_dropped_total", l, st->drops[r]);
	}
	l[0].value = "recursion_miss";
	kp_prom_sample_u64(f, "kpulse_bpf_events_dropped_total", l, kp_self_misses(st));
}

/* A family of one sample without labels, as most of kpulse's own figures
 * and process_* are: the name written once. */
static void single_u64(FILE *f, const char *name, const char *type, const char *help,
		       uint64_t v)
{
	kp_prom_family(f, name, type, help);
	kp_prom_sample_u64(f, name, NULL, v);
}

static void single(FILE *f, const char *name, const char *type, const char *help, double v)
{
	kp_prom_family(f, name, type, help);
	kp_prom_sample(f, name, NULL, v);
}

static void render_daemon(FILE *f, const struct kp_model *c)
{
	const struct kp_self *st = &c->self;
	struct kp_label l[2] = { { "version", KPULSE_VERSION }, { NULL, NULL } };
	struct kp_container *k, *tmp;
	uint64_t n = 0;

	FOR_EACH_SHOWN(c, k, tmp)
		n++;
	single_u64(f, "kpulse_containers", "gauge", "Cgroups tracked right now.", n);
	single_u64(f, "kpulse_containers_removed_total", "counter",
		   "Cgroups that disappeared and were dropped from maps and output.", st->removed);
	single_u64(f, "kpulse_cgroup_tree_walks_total", "counter",
		   "Walks of the cgroup v2 tree to resolve new cgroup ids.", st->tree_walks);
	single_u64(f, "kpulse_collections_total", "counter", "Map reads done.", st->collections);
	single(f, "kpulse_collection_duration_seconds", "gauge", "Wall time of the last map read.",
	       st->last_duration_s);
	single_u64(f, "kpulse_degraded", "gauge",
		   "1 when some BPF program is not running on this kernel (see /health).",
		   st->degraded);
	single_u64(f, "kpulse_container_name_lookups_total", "counter",
		   "Containers looked up in the runtimes' files (a lookup per new container, and per retry).",
		   st->names.lookups);
	single_u64(f, "kpulse_container_names_found_total", "counter",
		   "Lookups the runtimes' or the kubelet's files answered.", st->names.found);
	single_u64(f, "kpulse_runtime_file_errors_total", "counter",
		   "Runtime files that could not be read or were not what the runtime writes.",
		   st->names.errors);
	single_u64(f, "kpulse_runtime_index_entries", "gauge",
		   "Containers and pods indexed from containers.json and the kubelet's log directories.",
		   st->names.entries);
	single_u64(f, "kpulse_runtime_index_dropped_total", "counter",
		   "Index entries past the bound (4096 per index), not kept.", st->names.dropped);
	kp_prom_family(f, "kpulse_build_info", "gauge", "Version of this kpulse.");
	kp_prom_sample_u64(f, "kpulse_build_info", l, 1);
}

static void render_process(FILE *f, const struct kp_procstat *ps)
{
	single(f, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.", ps->cpu_seconds);
	single(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
	       ps->rss_bytes);
	single(f, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
	       ps->vsize_bytes);
	single(f, "process_open_fds", "gauge", "Number of open file descriptors.", ps->open_fds);
	single(f, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
	       ps->max_fds);
	single(f, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.", ps->start_time_seconds);
}

void kp_metrics__render(struct kp_metrics *mx, FILE *f, const struct kp_model *m)
{
	bool sock_len = m->self.feat.sock_len;

	cur = mx;
	mx->gen++;
	render_containers(f, m);
	render_container_tcp(f, m, sock_len);
	render_node(f, m);
	kp_node_metrics_render(f, &m->nodefigs);
	render_node_tcp(f, m, sock_len);
	render_programs(f, &m->self);
	render_maps(f, &m->self);
	render_daemon(f, m);
	if (m->self.proc.start_time_seconds > 0)
		render_process(f, &m->self.proc);
	labels_sweep(mx);
	cur = NULL;
}
