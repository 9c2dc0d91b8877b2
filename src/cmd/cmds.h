/* cmds.h - the terminal commands, one file each (bpftool's habit): each an
 * int do_x(int argc, char **argv) returning an exit code. */
#ifndef KPULSE_CMDS_H
#define KPULSE_CMDS_H

#include <stdint.h>

struct kp_pipeline;
struct kp_loader_opts;

int do_snapshot(int argc, char **argv);
int do_top(int argc, char **argv);
int do_latency(int argc, char **argv);
int do_check(int argc, char **argv);
int do_slow(int argc, char **argv);

/* The measuring pipeline of a command: @lo (NULL: defaults; the test hook
 * KPULSE_FORCE_RAW_TP applies either way), percentiles over @window_ns,
 * rates over @interval_ns; read once before it returns. 0, or the exit
 * code to use (one line printed). */
int kp_cmd_pipeline(struct kp_pipeline *p, const struct kp_loader_opts *lo,
		    uint64_t window_ns, uint64_t interval_ns);

#endif
