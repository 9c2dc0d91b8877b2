/* pipeline.h - kernel -> maps -> collector -> model -> analysis, set up in
 * one place for the daemon and every terminal command: check privileges,
 * find the cgroup tree, load and attach the programs, and make the model,
 * the collector that fills it and the analysis that reads it. */
#ifndef KPULSE_PIPELINE_H
#define KPULSE_PIPELINE_H

#include <stdint.h>
#include "analysis/analysis.h"
#include "kernel/loader.h"

struct kp_cgroups;
struct kp_model;
struct kp_collector;
struct kp_runtimes;
struct kp_runtimes_paths;

struct kp_pipeline {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	struct kp_model *model;
	struct kp_collector *col;
	struct kp_analysis *an;
	struct kp_runtimes *rt;		/* container names from the runtimes' files */
	char root[4096];		/* the cgroup v2 mount */
};

struct kp_pipeline_opts {
	struct kp_loader_opts lo;
	struct kp_analysis_opts ao;
	unsigned int max_ports;		/* named request ports (default 16) */
	/* where the runtimes keep their files; NULL: the defaults, under
	 * $KPULSE_HOST_ROOT when that is set */
	const struct kp_runtimes_paths *runtimes;
};

/* Opens everything. On failure prints one line and returns the exit code
 * to use (64/69/77/1), with @p closed; 0 on success. */
int kp_pipeline_open(struct kp_pipeline *p, const struct kp_pipeline_opts *o);
/* A collection: maps and due cgroup files, then the analysis. */
void kp_pipeline_tick(struct kp_pipeline *p, uint64_t now_ns);
/* Maps only, when the last read is older than @fresh_ns: what a scrape
 * between two ticks needs for exact counters. */
void kp_pipeline_refresh(struct kp_pipeline *p, uint64_t now_ns, uint64_t fresh_ns);
void kp_pipeline_close(struct kp_pipeline *p);

#endif
