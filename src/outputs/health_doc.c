/* health_doc.c - see health_doc.h.
 *
 * `degraded` is said whenever something is off or data was lost lately,
 * each time with a reason a person can act on and the series that shows
 * it: a program that does not run, a kernel feature missing, events the
 * BPF side dropped (map full, no memory for storage, ring full), runs the
 * kernel skipped (recursion), or a bound the daemon hit. `notes` say what
 * is not shown and why without it being a fault (a container whose v1
 * memory cgroup is shared). */
#include <stdio.h>
#include <string.h>
#include "base/version.h"
#include "model/model.h"
#include "outputs/features.h"
#include "outputs/health_doc.h"
#include "outputs/node_health.h"

/* What to do about each kind of drop. */
static const char *const drop_advice[KP_DROP_MAX] = {
	[KP_DROP_CGROUP_MAP_FULL] = "the per-cgroup scheduler map is full: CPU and run-queue "
				    "figures of new cgroups are lost; raise --max-cgroups",
	[KP_DROP_TASK_STORAGE] = "the kernel could not give a task its storage (memory "
				 "pressure): some run-queue waits are lost",
	[KP_DROP_PID_MAP_FULL] = "the raw_tp fallback's task map is full: some run-queue "
				 "waits are lost; raise --max-cgroups",
	[KP_DROP_MEM_MAP_FULL] = "the per-cgroup memory map is full: reclaim stalls and OOM "
				 "kills of new cgroups are lost; raise --max-cgroups",
	[KP_DROP_EVENT_RING_FULL] = "the OOM event ring was full: some kills are counted "
				    "but not listed",
	[KP_DROP_TCP_MAP_FULL] = "the per-cgroup TCP map is full: socket figures of new "
				 "cgroups are lost; raise --max-cgroups",
	[KP_DROP_TCP_HIST_MAP_FULL] = "the RTT/connect histogram map is full: some samples "
				      "are lost; raise --max-cgroups",
	[KP_DROP_SK_STORAGE] = "the kernel could not give a socket its storage (memory "
			       "pressure): its requests are not timed",
	[KP_DROP_REQ_MAP_FULL] = "the request-latency map is full or short of memory: some "
				 "requests are not timed; raise --max-cgroups",
	[KP_DROP_SOCK_MAP_FULL] = "the raw_tp fallback's socket map is full: some sockets "
				  "are not followed",
	[KP_DROP_SLOW_RING_FULL] = "`kpulse slow`'s ring was full: events were dropped",
	[KP_DROP_MAP_NOMEM] = "a per-cgroup map had room but the kernel had no memory at "
			      "hand for a new cgroup's entry (a burst of new cgroups): some "
			      "of their figures are lost",
	[KP_DROP_DEATH_RING_FULL] = "cgroups died faster than the daemon read of their "
				    "deaths: those are found by walking the tree instead",
};

static void problem(json_t *arr, const char *what, const char *series)
{
	json_array_append_new(arr, json_pack("{s:s, s:s?}", "reason", what, "series", series));
}

/* Programs with their attach type and why one is not running; the names
 * of what this kernel lacks go to @missing and each reason to @probs. */
static json_t *programs_json(const struct kp_self *s, json_t *missing, json_t *probs)
{
	json_t *progs = json_array();
	char why[400];

	for (unsigned int i = 0; i < s->n_progs; i++) {
		const struct kp_prog_state *p = &s->progs[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "tracepoint", p->tracepoint,
				      "attach", p->attach, "loaded", p->loaded,
				      "attached", p->attached);

		if (kp_feature_since(p->tracepoint))	/* the oldest Linux that has it */
			json_object_set_new(o, "since", json_string(kp_feature_since(p->tracepoint)));
		if (!p->attached) {
			json_object_set_new(o, "reason", json_string(p->reason));
			json_array_append_new(missing, json_string(p->tracepoint));
			snprintf(why, sizeof(why), "the %s program does not run: %s", p->tracepoint,
				 p->reason);
			problem(probs, why, "kpulse_bpf_program_attached");
		}
		json_array_append_new(progs, o);
	}
	return progs;
}

static void features(const struct kp_self *s, const struct kp_health_doc_opts *o,
		     json_t *missing, json_t *probs)
{
	if (!s->feat.tp_btf) {
		json_array_append_new(missing, json_string("tp_btf"));
		problem(probs, "no BTF-typed tracepoints: the raw_tp fallbacks run (pid- and "
			"socket-keyed maps that can fill up)", NULL);
	}
	if (!s->feat.bpf_stats && o->bpf_stats_wanted) {
		json_array_append_new(missing, json_string("bpf_stats"));
		problem(probs, "BPF_ENABLE_STATS could not be turned on: kpulse's own kernel "
			"cost is not measured (needs CAP_SYS_ADMIN before Linux 5.8, or set "
			"bpf_stats: off)", "kpulse_bpf_program_run_seconds_total");
	}
	/* bytes and request latency need both (Linux 6.3+) */
	if (!s->feat.sock_len) {
		json_array_append_new(missing, json_string("network_bytes"));
		json_array_append_new(missing, json_string("request_latency"));
	} else if (!s->feat.data_ready) {
		/* received bytes timed at the read, not at their arrival */
		json_array_append_new(missing, json_string("request_arrival_time"));
	}
}

/* Data lost within @window_ns of @now: one reason per kind of drop. */
static void losses(const struct kp_self *s, uint64_t now, uint64_t window_ns, json_t *probs)
{
	char what[512], series[128];

	for (int r = 0; r < KP_DROP_MAX; r++) {
		if (!s->drops_last_ns[r] || now - s->drops_last_ns[r] > window_ns)
			continue;
		snprintf(what, sizeof(what), "%s (%llu events in all, the last %.0f s ago)",
			 drop_advice[r] ? drop_advice[r] : kp_drop_names[r],
			 (unsigned long long)s->drops[r], (double)(now - s->drops_last_ns[r]) / 1e9);
		snprintf(series, sizeof(series), "kpulse_bpf_events_dropped_total{reason=\"%s\"}",
			 kp_drop_names[r]);
		problem(probs, what, series);
	}
	if (s->misses_last_ns && now - s->misses_last_ns <= window_ns)
		problem(probs, "the kernel skipped program runs that would have nested on one CPU "
			"(recursion): a few events are lost",
			"kpulse_bpf_events_dropped_total{reason=\"recursion_miss\"}");
}

static json_t *notes_json(const struct kp_self *s)
{
	json_t *notes = json_array();
	char what[256];

	if (s->memcg_shared) {
		snprintf(what, sizeof(what), "%llu containers have their tasks in a v1 memory "
			 "cgroup shared with other tasks: their memory usage and limit are not "
			 "reported (it would be someone else's)", (unsigned long long)s->memcg_shared);
		json_array_append_new(notes, json_string(what));
	}
	return notes;
}

json_t *kp_health_doc(const struct kp_model *m, const struct kp_health_doc_opts *o,
		      uint64_t now, unsigned int *http_status)
{
	const struct kp_self *s = &m->self;
	double age = s->collections ? (double)(now - s->last_mono_ns) / 1e9 : -1;
	uint64_t window = 3 * o->interval_ns > 60000000000ull ? 3 * o->interval_ns : 60000000000ull;
	json_t *missing = json_array(), *probs = json_array(), *notes = notes_json(s), *progs, *j;
	const char *status = "ok";

	progs = programs_json(s, missing, probs);
	features(s, o, missing, probs);
	losses(s, now, window, probs);
	kp_node_health_reasons(&m->nodefigs, probs, notes);	/* bounds, files, mounts */
	if (s->names.dropped)
		problem(probs, "the runtimes' files list more containers than kpulse indexes (4096 "
			"per index): those past it are shown by id", "kpulse_runtime_index_dropped_total");
	for (size_t i = 0; o->extra && i < json_array_size(o->extra); i++)
		json_array_append(probs, json_array_get(o->extra, i));
	if (json_array_size(probs) || json_array_size(missing))
		status = "degraded";
	if (!s->attached || age < 0 || age > 3.0 * (double)o->interval_ns / 1e9 + 1)
		status = "failing";
	*http_status = strcmp(status, "failing") ? 200 : 503;
	j = json_pack("{s:s, s:s, s:f, s:o, s:o, s:o, s:o, s:s, s:s, s:s, s:i, s:f, s:I}",
		      "status", status, "version", KPULSE_VERSION,
		      "uptime_seconds", (double)(now - o->started_ns) / 1e9,
		      /* why not ok, each with the series that shows it */
		      "reasons", probs, "notes", notes,
		      "programs", progs, "features_missing", missing,
		      /* where run-queue waits start: the kernel's sched_info
		       * enqueue stamp, or our own from the wakeup programs */
		      "runq_source", s->feat.sched_info ? "sched_info" : "wakeup",
		      /* when received bytes of a request are timed: "arrival"
		       * (sk_data_ready), "read" (fallback) or "none" */
		      "request_timing", !s->feat.sock_len ? "none"
					: s->feat.data_ready ? "arrival" : "read",
		      /* per-program cost: "sampled" (one interval in 30),
		       * "always" or "off" */
		      "bpf_stats", s->stats_mode ? s->stats_mode : "off",
		      /* tcp_probe: one received segment in this many */
		      "rtt_sample", (int)o->rtt_sample,
		      "last_collection_age_seconds", age,
		      "collections", (json_int_t)s->collections);
	if (j)	/* sched_switch's prev_state: argument or the task's field */
		json_object_set_new(j, "switch_state_source", json_string(
			s->feat.switch_state ? s->feat.switch_state : "unknown"));
	if (j && o->privileges)
		json_object_set(j, "privileges", o->privileges);
	if (j)	/* the node series' bounds and mounts */
		json_object_set_new(j, "node", kp_node_health_json(&m->nodefigs));
	if (!j)
		return NULL;
	/* names from the runtimes' files; dropped > 0: an index hit its bound */
	json_object_set_new(j, "container_names", json_pack("{s:I, s:I, s:I, s:I, s:I}",
		"lookups", (json_int_t)s->names.lookups, "found", (json_int_t)s->names.found,
		"file_errors", (json_int_t)s->names.errors,
		"index_entries", (json_int_t)s->names.entries,
		"index_dropped", (json_int_t)s->names.dropped));
	/* where CPU limits and throttling come from: "v2", "v1" (hybrid) or "none" */
	json_object_set_new(j, "cpu_limits_source",
			    json_string(s->cpu_source ? s->cpu_source : "none"));
	/* how gone cgroups leave the maps: "announced" (cgroup_rmdir),
	 * "open_by_id" or "tree_walk" (see README, Bounds) */
	json_object_set_new(j, "gone_cgroups_source",
			    json_string(s->gone_source ? s->gone_source : "tree_walk"));
	return j;
}
