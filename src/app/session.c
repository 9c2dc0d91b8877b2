/* session.c - see session.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include "analysis/analysis.h"
#include "collect/cgroup.h"
#include "collect/collector.h"
#include "app/log.h"
#include "app/session.h"

static int sigfd = -1;

int kp_session_open(struct kp_session *s, const struct kp_loader_opts *lo,
		    uint64_t window_ns, uint64_t interval_ns)
{
	struct kp_analysis_opts ao;
	char root[4096], why[256];
	sigset_t mask;
	int err;

	memset(s, 0, sizeof(*s));
	if (kp_check_privileges(why, sizeof(why))) {
		kp_err("%s", why);
		return KP_EXIT_NOPERM;
	}
	if (kp_cgroup_v2_root(root, sizeof(root))) {
		kp_err("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
		return KP_EXIT_UNAVAILABLE;
	}
	/* SIGINT/SIGTERM become fd events so that cleanup always runs */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (sigfd < 0)
		sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	err = kp_loader__open(&s->loader, lo);
	if (err == -EPERM) {
		kp_session_close(s);
		return KP_EXIT_NOPERM;
	}
	if (err) {
		kp_err("no BPF program could be loaded and attached on this kernel "
		       "(run 'kpulse check' to see why)");
		kp_session_close(s);
		return KP_EXIT_UNAVAILABLE;
	}
	kp_analysis_opts_default(&ao, interval_ns);
	memset(ao.windows_ns, 0, sizeof(ao.windows_ns));
	ao.windows_ns[0] = window_ns;
	ao.history_ns = interval_ns;
	s->cg = kp_cgroups__new(root);
	s->an = kp_analysis__new(&ao, kp_now_mono_ns());
	if (!s->cg || !s->an || kp_collector__new(&s->col, s->loader, s->cg)) {
		kp_err("out of memory");
		kp_session_close(s);
		return KP_EXIT_OTHER;
	}
	kp_session_tick(s);
	return 0;
}

void kp_session_tick(struct kp_session *s)
{
	uint64_t now = kp_now_mono_ns();

	kp_collector__collect(s->col, now);
	kp_analysis__update(s->an, s->col, now);
}

void kp_session_close(struct kp_session *s)
{
	kp_analysis__free(s->an);
	kp_collector__free(s->col);
	kp_cgroups__free(s->cg);
	kp_loader__close(s->loader);
	memset(s, 0, sizeof(*s));
}

int kp_session_wait(uint64_t ns, int quit_key)
{
	uint64_t end = kp_now_mono_ns() + ns;
	struct pollfd pf[2] = {
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = quit_key && isatty(0) ? 0 : -1, .events = POLLIN },
	};

	for (;;) {
		uint64_t now = kp_now_mono_ns();
		int n;

		if (now >= end)
			return 0;
		n = poll(pf, 2, (int)((end - now) / 1000000ull) + 1);
		if (n < 0 && errno != EINTR)
			return 0;
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) > 0)
				return 1;
		}
		if (pf[1].revents & POLLIN) {
			char c;

			if (read(0, &c, 1) == 1 && (c == quit_key || c == 3))
				return 1;
		}
	}
}
