/* floor.c - loader for floor.bpf.c (tools/bench/sched.sh's baseline).
 * Loads and attaches the program, prints "floor: attached", then sleeps
 * until SIGINT or SIGTERM and detaches. Exit 0 on a clean stop, 1 on error.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct floor_bpf *skel;
	sigset_t block, old;
	int err;

	libbpf_set_print(quiet);
	/* block the signals until we sleep, so one arriving while we load is
	 * not lost between the check and sigsuspend() */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: load failed: %s\n", strerror(errno));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: attach failed: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	printf("floor: attached\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	floor_bpf__destroy(skel);
	return 0;
}
