/* privileges.h - the daemon gives up what it no longer needs once its
 * programs are loaded and attached: it may switch to a configured user,
 * keeps only the capabilities a setting still needs (none by default;
 * CAP_SYS_ADMIN only for `bpf_stats: sampled`, whose windows open
 * BPF_ENABLE_STATS again and again), clears the bounding and ambient sets,
 * sets no_new_privs and installs a seccomp filter allowing only the system
 * calls the running daemon makes. Done before any thread starts, so every
 * thread runs under the same rules. */
#ifndef KPULSE_PRIVILEGES_H
#define KPULSE_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

struct kp_priv_opts {
	const char *user;	/* switch to this user (and its group); NULL: stay */
	bool keep_sys_admin;	/* bpf_stats: sampled needs it after start-up */
	bool keep_dac_read;	/* as another user: root-only runtime metadata */
	bool deaths_unannounced; /* keep it for open_by_handle_at (gone cgroups) */
	bool seccomp;		/* install the filter (default on) */
	bool seccomp_kill;	/* a call outside the filter kills the process
				 * (tests: a missing call shows at once); else EPERM */
};

/* What the daemon holds after kp_privileges_drop, for /health. */
struct kp_priv_state {
	bool dropped;
	uid_t uid;
	gid_t gid;
	char caps[128];		/* effective capabilities, "bpf,perfmon"; "" none */
	char kept_why[512];	/* why each kept one is kept */
	bool no_new_privs;
	bool seccomp;
	unsigned int seccomp_calls;	/* system calls the filter allows */
};

/* 0, or a negative errno with one line in @why (the daemon then stops:
 * running with more than it said it would is not an option). */
int kp_privileges_drop(const struct kp_priv_opts *o, struct kp_priv_state *st,
		       char *why, size_t whylen);

/* The state as /health shows it. */
json_t *kp_privileges_json(const struct kp_priv_state *st);

#endif
