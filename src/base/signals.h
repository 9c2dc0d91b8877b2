/* signals.h - signals as file descriptor events. Handlers never run code
 * here: SIGINT/SIGTERM (and SIGHUP for the daemon) are blocked and read
 * from a signalfd in the poll loop, so cleanup always runs and a signal
 * during a BPF load still ends in it. */
#ifndef KPULSE_SIGNALS_H
#define KPULSE_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

/* Block SIGINT, SIGTERM and, with @hup, SIGHUP (and ignore SIGPIPE), return
 * a signalfd for them (one per process: a second call returns the first
 * fd), or -1. */
int kp_signals_fd(bool hup);

/* The next pending signal on @fd, 0 when none. */
int kp_signals_read(int fd);

/* Sleep up to @ns; returns early (non-zero) on SIGINT/SIGTERM or, when
 * @quit_key is set and stdin is a terminal, on that key (or Ctrl-C). */
int kp_signals_wait(uint64_t ns, int quit_key);

#endif
