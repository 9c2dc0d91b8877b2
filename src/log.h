/* log.h - one-line diagnostics on stderr with a subsystem prefix.
 * Errors are logged once, where they are born; callers get a negative errno. */
#ifndef KPULSE_LOG_H
#define KPULSE_LOG_H

#include <stdio.h>

extern int kp_verbose;

#define kp_err(fmt, ...) fprintf(stderr, "kpulse: " fmt "\n", ##__VA_ARGS__)
#define kp_info(fmt, ...) fprintf(stderr, "kpulse: " fmt "\n", ##__VA_ARGS__)
#define kp_debug(fmt, ...)                                                    \
	do {                                                                  \
		if (kp_verbose)                                               \
			fprintf(stderr, "kpulse: " fmt "\n", ##__VA_ARGS__);  \
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
