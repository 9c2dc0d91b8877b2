/* daemon.h - `kpulse daemon`: collector + HTTP server in one poll loop. */
#ifndef KPULSE_DAEMON_H
#define KPULSE_DAEMON_H

int do_daemon(int argc, char **argv);

/* "500ms", "2s", "1m", plain "2" (seconds) -> ns; -1 when malformed. */
long long kp_parse_duration(const char *s);

#endif
