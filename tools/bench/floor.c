/* floor.c - loader for floor.bpf.c (the baselines of tools/bench).
 *   floor [TRACEPOINT...]   (default: sched_switch)
 * Loads the programs, attaches those for the named tracepoints, prints
 * "floor: attached", then sleeps until SIGINT or SIGTERM and detaches.
 * Exit 0 on a clean stop, 1 on error, 64 for an unknown tracepoint.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
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

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct floor_bpf *skel;
	struct bpf_program *prog;
	sigset_t block, old;
	int err, named = 0;

	libbpf_set_print(quiet);
	/* block the signals until we sleep, so one arriving while we load is
	 * not lost between the check and sigsuspend() */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: open failed: %s\n", strerror(errno));
		return 1;
	}
	/* attach only what was asked for: the section names the tracepoint */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *tp = strchr(bpf_program__section_name(prog), '/') + 1;
		bool want = argc < 2 && !strcmp(tp, "sched_switch");

		for (int i = 1; i < argc; i++)
			want |= !strcmp(tp, argv[i]);
		named += want;
		bpf_program__set_autoload(prog, want);
	}
	if (named != (argc < 2 ? 1 : argc - 1)) {
		fprintf(stderr, "floor: unknown tracepoint among the arguments\n");
		floor_bpf__destroy(skel);
		return 64;
	}
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: load failed: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
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
