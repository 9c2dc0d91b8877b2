/* top.c - `kpulse top`: the snapshot table refreshed in place, worst
 * health first, until q or Ctrl-C; plain repeated tables when stdout is
 * not a terminal. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <jansson.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/opts.h"
#include "base/signals.h"
#include "cmd/cmds.h"
#include "cmd/table.h"
#include "outputs/api.h"

static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: kpulse top [-i INTERVAL] [-c PATTERN] [-n COUNT]\n"
		"  -i, --interval DUR   refresh every DUR (default 1s)\n"
		"  -c, --container PAT  only matching containers\n"
		"  -n, --count N        stop after N refreshes (default: until q or Ctrl-C)\n"
		"keys: q quits. Sorted by health, worst first.\n");
}

int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "container", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long iv = 1000000000ll;
	const char *pattern = NULL;
	long count = 0;
	bool tty = isatty(1);
	struct termios saved, raw;
	bool raw_set = false;
	struct kp_pipeline p;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (kp_opt_duration("top", "-i", optarg, 100000000ll, 3600000000000ll, &iv))
				return KP_EXIT_USAGE;
			break;
		case 'c':
			pattern = optarg;
			break;
		case 'n':
			if (kp_opt_count("top", "-n", optarg, 1, 1000000000, &count))
				return KP_EXIT_USAGE;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		default:
			top_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("top: unexpected argument '%s'", argv[optind]);
		return KP_EXIT_USAGE;
	}
	ret = kp_cmd_pipeline(&p, NULL, (uint64_t)iv * 5, (uint64_t)iv);
	if (ret)
		return ret;
	if (tty && isatty(0) && !tcgetattr(0, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		raw_set = !tcsetattr(0, TCSANOW, &raw);
	}
	for (long n = 0; !count || n < count; n++) {
		struct winsize ws = { 0 };
		json_t *doc;
		char ts[32];
		time_t t = time(NULL);

		if (kp_signals_wait((uint64_t)iv, 'q'))
			break;
		kp_pipeline_tick(&p, kp_now_mono_ns());
		doc = kp_api_containers(p.model, p.an, kp_now_mono_ns(), pattern);
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
		if (tty) {
			ioctl(1, TIOCGWINSZ, &ws);
			fputs("\033[H\033[2J", stdout);
		}
		printf("kpulse top - %s - %zu containers - q quits\n", ts, json_array_size(doc));
		kp_table_print(stdout, doc, tty ? (ws.ws_col ? ws.ws_col : 80) : 0);
		if (!tty)
			putchar('\n');
		fflush(stdout);
		json_decref(doc);
	}
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	kp_pipeline_close(&p);
	return 0;
}

