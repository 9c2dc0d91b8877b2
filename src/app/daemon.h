/* daemon.h - `kpulse daemon`: collector + HTTP server in one poll loop. */
#ifndef KPULSE_DAEMON_H
#define KPULSE_DAEMON_H

#include "base/opts.h"

int do_daemon(int argc, char **argv);

#endif
