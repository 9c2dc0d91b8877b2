/* alerting.c - the daemon's alerting (see alerting.h).
 *
 * Rule values come from what the analysis already made at this tick: the
 * run-queue p99 from the container's sliding window over the rule's own
 * span (kernel fine buckets, so at most 6.25% above the exact value; no
 * wait observed in the window is 0, not unknown, so an idle container
 * resolves), PSI avg10 from the cgroup's pressure files, OOM kills from
 * the model's list of recent kills. A figure this kernel does not give
 * is NaN, which holds an alert's state rather than resolving it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "app/alerting.h"
#include "analysis/alerts.h"
#include "base/clock.h"
#include "outputs/alert_out.h"
#include "analysis/analysis.h"
#include "model/model.h"
#include "model/hist.h"
#include "base/log.h"
#include "outputs/notify.h"

struct kp_alerting {
	struct kp_alerts *engine;
	struct kp_notify *notify;
	struct kp_receivers receivers;		/* what notify was made from */
	struct kp_cfg_label labels[KP_CFG_MAX_LABELS + 1];	/* config + instance */
	unsigned int n_labels;
	enum kp_log_format log_format;
	char generator_url[KP_CFG_URL_MAX];
	/* the model being evaluated, during kp_alerting__eval only */
	const struct kp_model *m;
	const struct kp_analysis *an;
	uint64_t now;
	uint64_t scratch[KP_HIST_BUCKETS];
};

/* Offset from the monotonic clock (the engine's) to unix time. */
static int64_t to_unix(void)
{
	return (int64_t)(kp_now_real_ns() - kp_now_mono_ns());
}

static void on_event(void *ctx, const struct kp_alert_event *ev)
{
	struct kp_alerting *a = ctx;
	int64_t off = to_unix();

	if (ev->kind != KP_AEV_RESEND) {
		kp_alert_event_log(stderr, ev, a->log_format == KP_LOG_JSON, off);
		fflush(stderr);
	}
	if (kp_alert_event_delivers(ev) && kp_notify__count(a->notify)) {
		struct kp_label extra[KP_CFG_MAX_LABELS + 2];
		json_t *j;

		for (unsigned int i = 0; i < a->n_labels; i++)
			extra[i] = (struct kp_label){ a->labels[i].name, a->labels[i].value };
		extra[a->n_labels] = (struct kp_label){ NULL, NULL };
		j = kp_alert_am_json(ev->alert, extra, a->generator_url, off);

		kp_notify__post(a->notify, j);
		json_decref(j);
	}
}

/* The config's labels, then instance=<host name> unless the config has one. */
static void set_labels(struct kp_alerting *a, const struct kp_config *cfg)
{
	char host[KP_CFG_TEXT_MAX];
	bool have_instance = false;

	a->n_labels = cfg->n_labels;
	memcpy(a->labels, cfg->labels, cfg->n_labels * sizeof(cfg->labels[0]));
	for (unsigned int i = 0; i < cfg->n_labels; i++)
		have_instance |= !strcmp(cfg->labels[i].name, "instance");
	if (!have_instance && !gethostname(host, sizeof(host))) {
		host[sizeof(host) - 1] = 0;
		snprintf(a->labels[a->n_labels].name, sizeof(a->labels[0].name), "instance");
		snprintf(a->labels[a->n_labels].value, sizeof(a->labels[0].value), "%s", host);
		a->n_labels++;
	}
}

/* The host's identity, folded into alert ids so that another host's ids
 * cannot be guessed: /etc/machine-id, else this boot's random id (neither
 * is known off the host). */
static uint64_t host_seed(void)
{
	static const char *const files[] = { "/etc/machine-id", "/proc/sys/kernel/random/boot_id" };
	uint64_t h = 0xcbf29ce484222325ull;
	char buf[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "re");
		size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

		if (f)
			fclose(f);
		if (n < 16)
			continue;
		for (size_t k = 0; k < n; k++)
			h = (h ^ (unsigned char)buf[k]) * 0x100000001b3ull;
		return h;
	}
	return 0;
}

static void engine_opts(const struct kp_config *cfg, struct kp_alerts_opts *o)
{
	o->max_active = cfg->max_alerts;
	o->resend_ns = cfg->receivers.resend_ns;
	o->admin_token = cfg->admin_token;
	o->open = cfg->acks_open;
}

int kp_alerting__new(struct kp_alerting **out, const struct kp_config *cfg,
		     const char *generator_url, uint64_t now)
{
	struct kp_alerting *a = calloc(1, sizeof(*a));
	struct kp_alerts_opts o;
	int err;

	if (!a)
		return -ENOMEM;
	engine_opts(cfg, &o);
	o.id_seed = host_seed();
	snprintf(a->generator_url, sizeof(a->generator_url), "%s", generator_url ? generator_url : "");
	a->log_format = cfg->log_format;
	set_labels(a, cfg);
	a->engine = kp_alerts__new(&o, on_event, a);
	if (!a->engine) {
		free(a);
		return -ENOMEM;
	}
	err = kp_alerts__set_rules(a->engine, cfg->rules, cfg->n_rules, now);
	if (!err)
		err = kp_notify__new(&a->notify, &cfg->receivers);
	if (err) {
		kp_alerting__free(a);
		return err;
	}
	a->receivers = cfg->receivers;
	*out = a;
	return 0;
}

void kp_alerting__free(struct kp_alerting *a)
{
	if (!a)
		return;
	kp_alerts__free(a->engine);	/* no more events after this */
	kp_notify__free(a->notify);
	free(a);
}

int kp_alerting__reconfigure(struct kp_alerting *a, const struct kp_config *cfg, uint64_t now)
{
	struct kp_alerts_opts o;
	int err;

	/* receivers first, so resolutions of removed rules go to the new ones */
	if (memcmp(&a->receivers, &cfg->receivers, sizeof(cfg->receivers))) {
		struct kp_notify *n;

		err = kp_notify__new(&n, &cfg->receivers);
		if (err)
			return err;
		kp_notify__free(a->notify);	/* what it still held is dropped */
		a->notify = n;
		a->receivers = cfg->receivers;
	}
	a->log_format = cfg->log_format;
	set_labels(a, cfg);
	engine_opts(cfg, &o);
	kp_alerts__set_opts(a->engine, &o);
	return kp_alerts__set_rules(a->engine, cfg->rules, cfg->n_rules, now);
}

/* ---- values ------------------------------------------------------------ */

static double psi_avg10(const struct kp_mem_files *f, enum kp_psi_res r)
{
	return f->has_psi[r] && f->psi[r].some.present ? f->psi[r].some.avg10 : NAN;
}

/* OOM kills within @window of now, in cgroup @cgid (0: anywhere). */
static double oom_kills(const struct kp_alerting *a, uint64_t cgid, uint64_t window)
{
	const struct kp_oom_list *l = &a->m->ooms;
	unsigned int n = 0;

	for (unsigned int i = 0; l && i < kp_oom_list_count(l); i++) {
		const struct kp_oom_record *r = kp_oom_list_get(l, i);

		if ((!cgid || r->cgid == cgid) && r->mono_ns + window > a->now)
			n++;
	}
	return n;
}

static double value(struct kp_alerting *a, const struct kp_rule *r, uint64_t cgid,
		    const struct kp_mem_files *files)
{
	const struct kp_astate *s = kp_analysis__get(a->an, cgid);

	switch (r->metric) {
	case KP_M_RUNQ_P99:
		/* 0 when nothing waited */
		return s ? kp_analysis_p99(a->an, s, KP_L_RUNQ, r->window_ns, a->now, a->scratch)
			 : NAN;
	case KP_M_CPU_PRESSURE:
		return files ? psi_avg10(files, KP_PSI_CPU) : NAN;
	case KP_M_MEMORY_PRESSURE:
		return files ? psi_avg10(files, KP_PSI_MEMORY) : NAN;
	case KP_M_IO_PRESSURE:
		return files ? psi_avg10(files, KP_PSI_IO) : NAN;
	case KP_M_OOM_KILLS:
		return oom_kills(a, cgid, r->window_ns);
	case KP_M_CPU_CORES:
		return s ? s->cpu_cores : NAN;
	case KP_M_HEALTH_SCORE:
		return s ? s->health.score : NAN;
	case KP_M_CPU_THROTTLED:
		return s ? kp_analysis_throttled_pct(s, r->window_ns, a->now) : NAN;
	default:
		return NAN;
	}
}

static void sample(void *ctx, const struct kp_rule *r, struct kp_alerts_sink *sink)
{
	struct kp_alerting *a = ctx;
	struct kp_container *k, *tmp;

	if (r->scope == KP_SCOPE_NODE) {
		kp_alerts_put(sink, NULL, value(a, r, 0, &a->m->node_mem.files));
		return;
	}
	KP_MODEL_FOR_EACH_SHOWN(a->m, k, tmp) {
		struct kp_label l[KP_CONTAINER_LABELS + 1];

		if (!kp_container_matches(k, r->match))
			continue;	/* skip the value's cost too */
		kp_container_labels(k, l);	/* as on /metrics */
		kp_alerts_put(sink, l, value(a, r, k->cgid, &k->mem.files));
	}
}

void kp_alerting__eval(struct kp_alerting *a, const struct kp_model *m,
		       const struct kp_analysis *an, uint64_t now)
{
	a->m = m;
	a->an = an;
	a->now = now;
	kp_alerts__eval(a->engine, now, sample, a);
	a->m = NULL;
	a->an = NULL;
}

/* ---- API ----------------------------------------------------------------- */

json_t *kp_alerting__json(const struct kp_alerting *a)
{
	return kp_alerts__json(a->engine, to_unix());
}

unsigned int kp_alerting__ack(struct kp_alerting *a, const char *id, const char *authorization,
			      uint64_t now, json_t **alert, const char **msg)
{
	const char *token = NULL;
	int err;

	*alert = NULL;
	if (authorization && !strncasecmp(authorization, "Bearer ", 7)) {
		token = authorization + 7;
		while (*token == ' ')
			token++;
	}
	err = kp_alerts__ack(a->engine, id, token, now);
	switch (err) {
	case 0:
		*alert = kp_alert_json(kp_alerts__find(a->engine, id), to_unix());
		return 200;
	case -EACCES:
		*msg = "an admin token is configured: send 'Authorization: Bearer <token>'";
		return 401;
	case -EPERM:
		*msg = "wrong admin token";
		return 403;
	case -ENOKEY:
		*msg = "acknowledgements are off: set admin_token in the config file (kpulse daemon "
		       "--config FILE) and send it as 'Authorization: Bearer <token>' or "
		       "'X-Kpulse-Token: <token>', or set acks_open: on to let anyone who "
		       "reaches the port acknowledge";
		return 403;
	case -EBUSY:
		*msg = "the alert is not firing (pending or resolved): nothing to acknowledge";
		return 409;
	default:
		*msg = "no such alert";
		return 404;
	}
}

void kp_alerting__prom(const struct kp_alerting *a, FILE *f)
{
	kp_alerts__prom(a->engine, f);
	kp_notify__prom(a->notify, f);
}
