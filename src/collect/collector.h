/* collector.h - fills the model (model/model.h) from the BPF maps, the
 * cgroups' own files and the OOM event ring buffer, and keeps it to the
 * cgroups that exist: a cgroup that is gone leaves the kernel maps and the
 * model. It also copies kpulse's own state (programs, map fill, drops)
 * from the loader into the model, so that outputs read only the model. */
#ifndef KPULSE_COLLECTOR_H
#define KPULSE_COLLECTOR_H

#include <stdint.h>
#include <stdio.h>
#include "base/clock.h"
#include "model/model.h"

struct kp_loader;
struct kp_cgroups;
struct kp_collector;

/* A collector reading @l's maps into @m, naming cgroups through @cg. */
int kp_collector__new(struct kp_collector **out, struct kp_loader *l,
		      struct kp_cgroups *cg, struct kp_model *m);
void kp_collector__free(struct kp_collector *c);
/* Read every map and the cgroup files that are due; @now_ns is
 * CLOCK_MONOTONIC (the clock BPF uses). */
int kp_collector__collect(struct kp_collector *c, uint64_t now_ns);
/* The same without the cgroup files: what a scrape between two collections
 * does, so that it costs map reads, not file opens. */
int kp_collector__refresh(struct kp_collector *c, uint64_t now_ns);

/* Name containers from the runtimes' files through @rt (owned by the
 * caller; NULL, the default: by their cgroup paths only). */
struct kp_runtimes;
void kp_collector__set_runtimes(struct kp_collector *c, struct kp_runtimes *rt);

/* Each container's PSI and memory files are read by a collection when
 * @every_ns passed since they were last read, for at most @per_collection
 * containers per collection (0 and 0, the default: all, every time). */
void kp_collector__set_files_budget(struct kp_collector *c, uint64_t every_ns,
				    unsigned int per_collection);

/* The loader's sampled bpf stats move on (a window opens or closes at the
 * daemon's interval ticks), and the model's copy of each program's cost
 * with them. */
void kp_collector__stats_tick(struct kp_collector *c, uint64_t now_ns);

/* Only the kernel's drop counters into the model (self.drops): cheap
 * enough to watch several times a second (`kpulse slow`). */
void kp_collector__read_drops(struct kp_collector *c);

/* OOM kills arrive through a ring buffer: poll this fd (-1 when the memory
 * programs are not loaded) and call kp_collector__poll_events when it is
 * readable; kp_collector__collect also drains it. */
int kp_collector__events_fd(const struct kp_collector *c);
/* Whether the kernel announces cgroup deaths to us (cgroup_rmdir attached
 * and its ring buffer read); else gone cgroups are found by id or by a walk. */
bool kp_collector__deaths_announced(const struct kp_collector *c);
int kp_collector__poll_events(struct kp_collector *c);
/* Write one line per OOM kill to @f as it arrives (NULL: do not). */
void kp_collector__set_oom_log(struct kp_collector *c, FILE *f);

#endif
