/* notify_systemd.c - the daemon's side of systemd's notify protocol, through
 * libsystemd's sd_notify: a STATUS= line per start-up phase (shown by
 * `systemctl status kpulse`), READY=1 only once the BPF programs are
 * attached and the HTTP server is up, so units ordered after kpulse and
 * `systemctl start` wait for real data, and STOPPING=1 when it shuts down.
 * Without $NOTIFY_SOCKET (not under systemd) every call does nothing; a
 * failed send is ignored: the daemon works the same, only systemd's view of
 * it is wrong (a start that times out says so in the journal). */
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include "app/notify_systemd.h"

void kp_sd_status(const char *phase)
{
	sd_notifyf(0, "STATUS=%s", phase);
}

void kp_sd_ready(const char *listen, unsigned int attached, bool degraded)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving on %s, %u BPF programs attached%s",
		   listen, attached, degraded ? " (degraded: see /health)" : "");
}

void kp_sd_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
