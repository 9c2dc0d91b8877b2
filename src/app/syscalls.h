/* syscalls.h - the running daemon's seccomp filter (see syscalls.c). */
#ifndef KPULSE_SYSCALLS_H
#define KPULSE_SYSCALLS_H

#include <stdbool.h>

/* Install it for the calling thread and every thread it starts later
 * (call before starting any). A call outside it fails with EPERM, or with
 * @kill ends the process. 0 or a negative errno; *@n_allowed gets the
 * number of calls allowed. */
int kp_syscalls_install(bool kill, unsigned int *n_allowed);

#endif
