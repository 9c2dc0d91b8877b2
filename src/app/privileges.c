/* privileges.c - see privileges.h. Capabilities through libcap. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "app/privileges.h"
#include "app/syscalls.h"

/* Become @user, keeping the permitted capabilities across setuid (they
 * are cut down right after). */
static int switch_user(const char *user, char *why, size_t len)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(why, len, "--user '%s': no such user", user);
		return -ENOENT;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
	    setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
		snprintf(why, len, "--user '%s': cannot switch to it: %s", user, strerror(errno));
		return -errno;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

/* Only @keep (n of them) stays, in the effective and permitted sets; the
 * bounding set loses everything else (while CAP_SETPCAP is still there),
 * the ambient set everything. One of @keep the process does not hold (a
 * systemd unit or a pod that never granted it) is not asked for: raising
 * it would fail the whole cut. */
static int cut_caps(const cap_value_t *want, int nwant, char *why, size_t len)
{
	cap_value_t keep[CAP_LAST_CAP + 1];
	cap_t c = cap_get_proc();
	int err = 0, n = 0;

	for (int i = 0; c && i < nwant; i++) {
		cap_flag_value_t on = CAP_CLEAR;

		if (!cap_get_flag(c, want[i], CAP_PERMITTED, &on) && on == CAP_SET)
			keep[n++] = want[i];
	}
	cap_free(c);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		bool kept = false;

		for (int i = 0; i < n; i++)
			kept |= keep[i] == v;
		if (!kept && CAP_IS_SUPPORTED(v) && cap_drop_bound(v) && errno != EINVAL &&
		    errno != EPERM)
			err = -errno;
	}
	c = cap_init();
	if (!c)
		return -ENOMEM;
	if (n && (cap_set_flag(c, CAP_PERMITTED, n, keep, CAP_SET) ||
		  cap_set_flag(c, CAP_EFFECTIVE, n, keep, CAP_SET)))
		err = -errno;
	if (!err && cap_set_proc(c))
		err = -errno;
	cap_free(c);
	if (err)
		snprintf(why, len, "cannot drop capabilities: %s", strerror(-err));
	return err;
}

/* "bpf,perfmon": the effective set as it is now. */
static void caps_now(char *buf, size_t len)
{
	cap_t c = cap_get_proc();
	size_t n = 0;

	buf[0] = 0;
	for (cap_value_t v = 0; c && v <= CAP_LAST_CAP; v++) {
		cap_flag_value_t on = CAP_CLEAR;
		char *name;

		if (cap_get_flag(c, v, CAP_EFFECTIVE, &on) || on != CAP_SET)
			continue;
		name = cap_to_name(v);
		if (name && n < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      strncmp(name, "cap_", 4) ? name : name + 4);
		cap_free(name);
	}
	cap_free(c);
}

int kp_privileges_drop(const struct kp_priv_opts *o, struct kp_priv_state *st,
		       char *why, size_t whylen)
{
	cap_value_t keep[2];
	size_t w = 0;
	int n = 0, err;

	memset(st, 0, sizeof(*st));
	if (o->user && (err = switch_user(o->user, why, whylen)))
		return err;
	if (o->keep_sys_admin) {
		keep[n++] = CAP_SYS_ADMIN;
		w += snprintf(st->kept_why + w, sizeof(st->kept_why) - w,
			      "sys_admin: bpf_stats: sampled turns BPF_ENABLE_STATS on one interval "
			      "in 30 (bpf_stats: always or off need nothing). ");
	}
	if ((o->keep_dac_read || o->deaths_unannounced) && w < sizeof(st->kept_why)) {
		keep[n++] = CAP_DAC_READ_SEARCH;
		if (o->keep_dac_read)
			w += snprintf(st->kept_why + w, sizeof(st->kept_why) - w,
				      "dac_read_search: runtime metadata (docker's config.v2.json) "
				      "is readable by root only. ");
		if (o->deaths_unannounced && w < sizeof(st->kept_why))
			snprintf(st->kept_why + w, sizeof(st->kept_why) - w,
				 "dac_read_search: cgroup deaths are not announced (cgroup_rmdir "
				 "not running): a gone cgroup is told by opening it by id.");
	}
	if ((err = cut_caps(keep, n, why, whylen)))
		return err;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(why, whylen, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	st->no_new_privs = true;
	st->uid = getuid();
	st->gid = getgid();
	caps_now(st->caps, sizeof(st->caps));	/* capget is not in the filter */
	if (o->seccomp && (err = kp_syscalls_install(o->seccomp_kill, &st->seccomp_calls))) {
		snprintf(why, whylen, "cannot install the seccomp filter: %s", strerror(-err));
		return err;
	}
	st->seccomp = o->seccomp;
	st->dropped = true;
	return 0;
}

json_t *kp_privileges_json(const struct kp_priv_state *st)
{
	if (!st->dropped)
		return json_pack("{s:b}", "dropped", 0);
	return json_pack("{s:b, s:i, s:i, s:s, s:s, s:b, s:s, s:i}", "dropped", 1,
			 "uid", (int)st->uid, "gid", (int)st->gid, "capabilities", st->caps,
			 "kept_because", st->kept_why, "no_new_privs", st->no_new_privs,
			 "seccomp", st->seccomp ? "filter" : "off",
			 "seccomp_allowed_calls", (int)st->seccomp_calls);
}
