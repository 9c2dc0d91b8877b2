/* log.h - one-line diagnostics on stderr with a subsystem prefix.
 * Errors are logged once, where they are born; callers get a negative errno.
 * With kp_log_json set (the daemon's --log-format json) each line is one
 * JSON object {"time", "level", "msg"} instead of "kpulse: msg". */
#ifndef KPULSE_LOG_H
#define KPULSE_LOG_H

#include <stdio.h>

extern int kp_verbose;
extern int kp_log_json;

void kp_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define kp_err(fmt, ...) kp_log("error", fmt, ##__VA_ARGS__)
#define kp_info(fmt, ...) kp_log("info", fmt, ##__VA_ARGS__)
#define kp_debug(fmt, ...)                                                    \
	do {                                                                  \
		if (kp_verbose)                                               \
			kp_log("debug", fmt, ##__VA_ARGS__);                  \
	} while (0)

/* Exit codes (sysexits.h meanings). */
enum {
	KP_EXIT_OK = 0,
	KP_EXIT_OTHER = 1,
	KP_EXIT_USAGE = 64,
	KP_EXIT_UNAVAILABLE = 69,	/* kernel feature missing */
	KP_EXIT_NOPERM = 77,
};

#endif
