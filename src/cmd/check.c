/* cmd_check.c - `kpulse check`: probe this host and say, one line per
 * feature, what works and what a missing piece costs. It loads the real
 * programs (and releases them), so its verdict is the daemon's. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "collect/cgroup.h"
#include "cmd/cmds.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/version.h"

struct feature {
	char name[48];
	bool ok;
	bool needed;		/* without it kpulse cannot run at all */
	char detail[300];	/* what we found, or what is lost */
};

#define MAX_FEATURES 48

static bool readable(const char *p)
{
	return access(p, R_OK) == 0;
}

static int add(struct feature *f, int n, const char *name, bool ok, bool needed,
	       const char *fmt, const char *arg)
{
	if (n >= MAX_FEATURES)
		return n;
	snprintf(f[n].name, sizeof(f[n].name), "%s", name);
	f[n].ok = ok;
	f[n].needed = needed;
	snprintf(f[n].detail, sizeof(f[n].detail), fmt, arg ? arg : "");
	return n + 1;
}

static void check_usage(FILE *f)
{
	fprintf(f, "usage: kpulse check [--json]\n"
		   "  probes BTF, privileges, cgroup layout, PSI, bpf stats and every\n"
		   "  tracepoint program; exit 0 when kpulse can run, 69 when it cannot\n");
}

int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	struct feature f[MAX_FEATURES];
	char why[256], root[4096], v1mem[16] = "";
	struct kp_loader *l = NULL;
	bool json = false, priv, all_needed = true;
	int c, n = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			check_usage(stdout);
			return 0;
		} else {
			check_usage(stderr);
			return KP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		kp_err("check: unexpected argument '%s'", argv[optind]);
		return KP_EXIT_USAGE;
	}
	priv = !kp_check_privileges(why, sizeof(why));
	n = add(f, n, "privileges", priv, true,
		priv ? "root or CAP_BPF+CAP_PERFMON" : "%s", priv ? NULL : why);
	n = add(f, n, "btf", readable("/sys/kernel/btf/vmlinux"), false,
		readable("/sys/kernel/btf/vmlinux") ? "/sys/kernel/btf/vmlinux"
		: "no kernel BTF: tp_btf programs and CO-RE unavailable%s", NULL);
	if (!kp_cgroup_v2_root(root, sizeof(root))) {
		struct stat st;

		if (!stat("/sys/fs/cgroup/memory", &st) && strcmp(root, "/sys/fs/cgroup"))
			snprintf(v1mem, sizeof(v1mem), " (hybrid)");
		n = add(f, n, "cgroup_v2", true, true, "mounted at %s", root);
		if (v1mem[0])
			n = add(f, n, "cgroup_layout", true, false,
				"hybrid: v1 controllers beside v2; v2 ids name containers%s", NULL);
		else
			n = add(f, n, "cgroup_layout", true, false, "pure v2%s", NULL);
	} else {
		n = add(f, n, "cgroup_v2", false, true,
			"no cgroup2 mount: containers cannot be told apart%s", NULL);
	}
	n = add(f, n, "psi", readable("/proc/pressure/cpu"), false,
		readable("/proc/pressure/cpu") ? "/proc/pressure" :
		"PSI off (boot with psi=1): no pressure figures%s", NULL);
	{
		struct stat st;
		bool tfs = !stat("/sys/kernel/tracing/events", &st) ||
			   !stat("/sys/kernel/debug/tracing/events", &st);

		n = add(f, n, "tracefs", true, false, tfs ? "mounted%s"
			: "not mounted; kpulse mounts it only if a classic tracepoint needs it%s", NULL);
	}
	if (priv) {
		int err = kp_loader__open(&l, &lo);

		n = add(f, n, "tp_btf", l && kp_loader__tp_btf(l), false,
			l && kp_loader__tp_btf(l) ? "BTF-typed tracepoints%s"
			: "using raw tracepoints: same figures, pid-keyed fallback maps%s", NULL);
		n = add(f, n, "runq_source", true, false,
			l && kp_loader__sched_info(l)
			? "the kernel's sched_info enqueue times: no wakeup programs needed%s"
			: "own enqueue timestamps from wakeup programs (no CONFIG_SCHED_INFO)%s", NULL);
		n = add(f, n, "bpf_stats", l && kp_loader__stats_enabled(l), false,
			l && kp_loader__stats_enabled(l) ? "BPF_ENABLE_STATS: per-program cost exported (the daemon samples one interval in 30)%s"
			: "no BPF_ENABLE_STATS: kpulse_bpf_program_* metrics stay 0%s", NULL);
		for (unsigned int i = 0; l && i < kp_loader__prog_count(l); i++) {
			const struct kp_prog_info *p = kp_loader__prog(l, i);
			char d[300];

			snprintf(d, sizeof(d), p->attached ? "%s" : "%s: %s", p->attach, p->reason);
			n = add(f, n, p->tracepoint, p->attached, false, "%s", d);
		}
		if (err && !(l && kp_loader__attached(l)))
			n = add(f, n, "programs", false, true, "no BPF program could run%s", NULL);
		kp_loader__close(l);
	}
	for (int i = 0; i < n; i++)
		if (f[i].needed && !f[i].ok)
			all_needed = false;
	if (json) {
		json_t *arr = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s}", "feature", f[i].name,
				"ok", f[i].ok, "needed", f[i].needed, "detail", f[i].detail));
		json_t *doc = json_pack("{s:s, s:b, s:o}", "version", KPULSE_VERSION,
					"ok", all_needed, "features", arr);

		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else {
		for (int i = 0; i < n; i++)
			printf("%-18s %-8s %s\n", f[i].name, f[i].ok ? "ok" : "missing", f[i].detail);
		printf("%s\n", all_needed ? "kpulse can run here" : "kpulse cannot run here");
	}
	return all_needed ? 0 : KP_EXIT_UNAVAILABLE;
}
