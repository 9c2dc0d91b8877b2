/* health_doc.c - see health_doc.h. */
#include <string.h>
#include "base/version.h"
#include "model/model.h"
#include "outputs/features.h"
#include "outputs/health_doc.h"

/* Programs with their attach type and why one is not running; the names
 * of what this kernel lacks. */
static json_t *programs_json(const struct kp_self *s, json_t *missing)
{
	json_t *progs = json_array();

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
		}
		json_array_append_new(progs, o);
	}
	return progs;
}

json_t *kp_health_doc(const struct kp_model *m, const struct kp_health_doc_opts *o,
		      uint64_t now, unsigned int *http_status)
{
	const struct kp_self *s = &m->self;
	double age = s->collections ? (double)(now - s->last_mono_ns) / 1e9 : -1;
	json_t *missing = json_array(), *progs = programs_json(s, missing);
	const char *status = "ok";

	if (!s->feat.tp_btf)
		json_array_append_new(missing, json_string("tp_btf"));
	if (!s->feat.bpf_stats && o->bpf_stats_wanted)
		json_array_append_new(missing, json_string("bpf_stats"));
	/* bytes and request latency need both (Linux 6.3+) */
	if (!s->feat.sock_len) {
		json_array_append_new(missing, json_string("network_bytes"));
		json_array_append_new(missing, json_string("request_latency"));
	}
	if (s->degraded)
		status = "degraded";
	if (!s->attached || age < 0 || age > 3.0 * (double)o->interval_ns / 1e9 + 1)
		status = "failing";
	*http_status = strcmp(status, "failing") ? 200 : 503;
	return json_pack("{s:s, s:s, s:f, s:o, s:o, s:s, s:s, s:i, s:f, s:I}",
			 "status", status, "version", KPULSE_VERSION,
			 "uptime_seconds", (double)(now - o->started_ns) / 1e9,
			 "programs", progs, "features_missing", missing,
			 /* where run-queue waits start: the kernel's sched_info
			  * enqueue stamp, or our own from the wakeup programs */
			 "runq_source", s->feat.sched_info ? "sched_info" : "wakeup",
			 /* per-program cost: "sampled" (one interval in 30),
			  * "always" or "off" */
			 "bpf_stats", s->stats_mode ? s->stats_mode : "off",
			 /* tcp_probe: one received segment in this many */
			 "rtt_sample", (int)o->rtt_sample,
			 "last_collection_age_seconds", age,
			 "collections", (json_int_t)s->collections);
}
