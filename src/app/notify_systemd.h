/* notify_systemd.h - start-up and shutdown as systemd's Type=notify sees
 * them (no-ops when not started by systemd). */
#ifndef KPULSE_NOTIFY_SYSTEMD_H
#define KPULSE_NOTIFY_SYSTEMD_H

#include <stdbool.h>

/* STATUS=<phase>: what start-up is doing now. */
void kp_sd_status(const char *phase);
/* READY=1 with a STATUS= line: programs attached, HTTP served. */
void kp_sd_ready(const char *listen, unsigned int attached, bool degraded);
/* STOPPING=1: shutdown has begun. */
void kp_sd_stopping(void);

#endif
