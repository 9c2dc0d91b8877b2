/* basic_auth.h - HTTP basic authentication against bcrypt hashes
 * (basic_auth_users of the web config), without ever blocking the
 * daemon's loop: a bcrypt check costs 60-100 ms at cost 10, so checks run
 * on one worker thread, at most KP_AUTH_MAX_PENDING at a time (past that
 * a request is answered "busy" at once), and recent verdicts are
 * remembered, so a scraper pays for bcrypt once, not at every scrape. */
#ifndef KPULSE_BASIC_AUTH_H
#define KPULSE_BASIC_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "outputs/webconfig.h"

#define KP_AUTH_MAX_PENDING 16
#define KP_AUTH_CACHE 64

struct kp_auth;

enum kp_auth_verdict {
	KP_AUTH_OK,
	KP_AUTH_DENIED,		/* no, wrong or unknown credentials */
	KP_AUTH_PENDING,	/* being checked: @done will be called */
	KP_AUTH_BUSY,		/* too many checks waiting */
};

struct kp_auth *kp_auth__new(void);
/* Stops the worker; pending checks are dropped without their callbacks. */
void kp_auth__free(struct kp_auth *a);

/* The users (copied); none: every request passes. Remembered verdicts
 * are forgotten. 0 or -ENOMEM. */
int kp_auth__set_users(struct kp_auth *a, const struct kp_webcfg_user *users, unsigned int n);
bool kp_auth__enabled(const struct kp_auth *a);

/* Check @user / @pass (NULL: the request had no credentials). On
 * KP_AUTH_PENDING, @done(@cls) runs from kp_auth__poll once the verdict
 * is known: ask again then. */
enum kp_auth_verdict kp_auth__check(struct kp_auth *a, const char *user, const char *pass,
				    void (*done)(void *cls), void *cls);

/* An fd that turns readable when checks are done; then call poll. */
int kp_auth__fd(const struct kp_auth *a);
void kp_auth__poll(struct kp_auth *a);

/* Checks made with bcrypt, and refused as busy (for /metrics). */
void kp_auth__counts(const struct kp_auth *a, uint64_t *checks, uint64_t *busy);

#endif
