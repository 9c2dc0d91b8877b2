/* session.h - a local measuring session for the terminal commands: load the
 * programs, find the cgroup tree, collect and analyse on demand, and release
 * everything on close. The daemon keeps its own loop. */
#ifndef KPULSE_SESSION_H
#define KPULSE_SESSION_H

#include <stdint.h>
#include "kernel/loader.h"

struct kp_session {
	struct kp_loader *loader;
	struct kp_cgroups *cg;
	struct kp_collector *col;
	struct kp_analysis *an;
};

/* Opens everything; @window_ns is the percentile window the output uses.
 * On failure prints one line and returns the exit code to use (64/69/77/1);
 * 0 on success. */
int kp_session_open(struct kp_session *s, const struct kp_loader_opts *lo,
		    uint64_t window_ns, uint64_t interval_ns);
/* Read the maps and update the analysis now. */
void kp_session_tick(struct kp_session *s);
void kp_session_close(struct kp_session *s);

/* Sleep up to @ns; returns early (non-zero) on SIGINT/SIGTERM or, when
 * @quit_key is set and stdin is a terminal, on that key. */
int kp_session_wait(uint64_t ns, int quit_key);

#endif
