/* pipeline.c - see pipeline.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "base/log.h"
#include "collect/cgroup.h"
#include "collect/collector.h"
#include "collect/runtimes.h"
#include "model/model.h"

static struct kp_runtimes *runtimes_open(const struct kp_runtimes_paths *given)
{
	const char *env = getenv("KPULSE_HOST_ROOT");
	struct kp_runtimes_paths p;

	if (given) {
		p = *given;
	} else {
		kp_runtimes_paths_default(&p);
		if (env)
			snprintf(p.host_root, sizeof(p.host_root), "%s", env);
	}
	return kp_runtimes__new(&p);
}

int kp_pipeline_open(struct kp_pipeline *p, const struct kp_pipeline_opts *o)
{
	char why[256];
	int err;

	memset(p, 0, sizeof(*p));
	if (kp_check_privileges(why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_NOPERM;
	}
	if (kp_cgroup_v2_root(p->root, sizeof(p->root))) {
		kp_err("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
		return KP_EXIT_UNAVAILABLE;
	}
	err = kp_loader__open(&p->loader, &o->lo);
	if (err == -EPERM) {
		kp_pipeline_close(p);
		return KP_EXIT_NOPERM;
	}
	if (err) {
		kp_err("no BPF program could be loaded and attached on this kernel "
		       "(run 'kpulse check' to see why, -v for libbpf's log)");
		kp_pipeline_close(p);
		return KP_EXIT_UNAVAILABLE;
	}
	p->cg = kp_cgroups__new(p->root);
	p->model = kp_model__new(o->max_ports ? o->max_ports : 16);
	p->an = kp_analysis__new(&o->ao, kp_now_mono_ns());
	p->rt = runtimes_open(o->runtimes);
	if (!p->cg || !p->model || !p->an || !p->rt ||
	    kp_collector__new(&p->col, p->loader, p->cg, p->model)) {
		kp_err("out of memory");
		kp_pipeline_close(p);
		return KP_EXIT_OTHER;
	}
	kp_collector__set_runtimes(p->col, p->rt);
	return 0;
}

void kp_pipeline_tick(struct kp_pipeline *p, uint64_t now)
{
	kp_collector__collect(p->col, now);
	kp_analysis__update(p->an, p->model, now);
}

void kp_pipeline_refresh(struct kp_pipeline *p, uint64_t now, uint64_t fresh_ns)
{
	if (now - p->model->self.last_mono_ns >= fresh_ns)
		kp_collector__refresh(p->col, now);
}

void kp_pipeline_close(struct kp_pipeline *p)
{
	kp_analysis__free(p->an);
	kp_collector__free(p->col);
	kp_runtimes__free(p->rt);
	kp_model__free(p->model);
	kp_cgroups__free(p->cg);
	kp_loader__close(p->loader);
	memset(p, 0, sizeof(*p));
}
