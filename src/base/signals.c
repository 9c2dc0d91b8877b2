/* signals.c - see signals.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include "base/clock.h"
#include "base/signals.h"

static int sigfd = -1;

int kp_signals_fd(bool hup)
{
	sigset_t mask;

	if (sigfd >= 0)
		return sigfd;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (hup)
		sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (hup)	/* the daemon: a client gone mid-answer is not fatal */
		signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	return sigfd;
}

int kp_signals_read(int fd)
{
	struct signalfd_siginfo si;

	return read(fd, &si, sizeof(si)) == sizeof(si) ? (int)si.ssi_signo : 0;
}

int kp_signals_wait(uint64_t ns, int quit_key)
{
	uint64_t end = kp_now_mono_ns() + ns;
	struct pollfd pf[2] = {
		{ .fd = kp_signals_fd(false), .events = POLLIN },
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
		if ((pf[0].revents & POLLIN) && kp_signals_read(pf[0].fd))
			return 1;
		if (pf[1].revents & POLLIN) {
			char c;

			if (read(0, &c, 1) == 1 && (c == quit_key || c == 3))
				return 1;
		}
	}
}
