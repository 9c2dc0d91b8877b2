/* main.c - the kpulse binary: a table of subcommands, each an
 * int do_x(int argc, char **argv) returning an exit code. */
#include <stdio.h>
#include <string.h>
#include "cmd/cmds.h"
#include "app/daemon.h"
#include "base/log.h"
#include "base/version.h"

static int do_help(int argc, char **argv);
static int do_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kpulse %s\n", KPULSE_VERSION);
	return KP_EXIT_OK;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "daemon", do_daemon, "collect and serve /metrics, /health, /api/v1 over HTTP" },
	{ "snapshot", do_snapshot, "measure for a while, print every container once" },
	{ "top", do_top, "live per-container table, worst health first" },
	{ "latency", do_latency, "bcc-style latency histograms, merged or per container" },
	{ "slow", do_slow, "stream events over a threshold: run-queue, request, reclaim" },
	{ "check", do_check, "probe this kernel and say what will and will not work" },
	{ "help", do_help, "show help for a command" },
	{ "version", do_version, "print the version" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kpulse COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nrun 'kpulse help COMMAND' for a command's options\n");
}

static int do_help(int argc, char **argv)
{
	char *sub[] = { NULL, "--help", NULL };

	if (argc < 2) {
		usage(stdout);
		return KP_EXIT_OK;
	}
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]) && c->fn != do_help) {
			sub[0] = argv[1];
			return c->fn(2, sub);
		}
	kp_err("help: unknown command '%s'", argv[1]);
	return KP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return do_version(argc, argv);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return do_help(1, argv);
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	kp_err("unknown command '%s'; run 'kpulse help'", argv[1]);
	return KP_EXIT_USAGE;
}
