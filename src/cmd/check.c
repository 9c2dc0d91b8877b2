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
#include "collect/memfiles.h"
#include "cmd/cmds.h"
#include "kernel/loader.h"
#include "base/log.h"
#include "base/version.h"
#include "model/self.h"
#include "outputs/features.h"

struct feature {
	char name[48];
	bool ok;
	bool needed;		/* without it kpulse cannot run at all */
	char detail[300];	/* what we found, or what is lost */
	const char *since;	/* oldest Linux that has it (features.h) */
};

#define MAX_FEATURES 48

static int add(struct feature *f, int n, const char *name, bool ok, bool needed,
	       const char *fmt, const char *arg)
{
	if (n >= MAX_FEATURES)
		return n;
	snprintf(f[n].name, sizeof(f[n].name), "%s", name);
	f[n].ok = ok;
	f[n].needed = needed;
	snprintf(f[n].detail, sizeof(f[n].detail), fmt, arg ? arg : "");
	f[n].since = kp_feature_since(name);
	return n + 1;
}

static void check_usage(FILE *f)
{
	fprintf(f, "usage: kpulse check [--json]\n"
		   "  probes BTF, privileges, cgroup layout, PSI, bpf stats and every\n"
		   "  tracepoint program, with the oldest Linux that has each; exit 0 when\n"
		   "  kpulse can run, 69 when it cannot\n");
}

/* Is a v1 memory controller mounted beside v2 (hybrid)? From mountinfo,
 * never a fixed path. */
static bool hybrid(void)
{
	FILE *mi = fopen("/proc/self/mountinfo", "re");
	char mnt[4096], root[4096];
	bool yes;

	if (!mi)
		return false;
	yes = !kp_cgroup_find_v1(mi, "memory", mnt, sizeof(mnt), root, sizeof(root));
	fclose(mi);
	return yes;
}

/* What files and the cgroup mounts tell, without loading anything. */
static int probe_host(struct feature *f, int n, bool priv, const char *why)
{
	struct kp_features ft;
	char root[4096];
	struct stat st;
	bool tfs;

	kp_loader__features(NULL, &ft);
	n = add(f, n, "privileges", priv, true,
		priv ? "root or CAP_BPF+CAP_PERFMON" : "%s", priv ? NULL : why);
	n = add(f, n, "btf", ft.btf, false, ft.btf ? "/sys/kernel/btf/vmlinux"
		: "no kernel BTF: tp_btf programs and CO-RE unavailable%s", NULL);
	if (!kp_cgroup_v2_root(root, sizeof(root))) {
		n = add(f, n, "cgroup_v2", true, true, "mounted at %s", root);
		n = add(f, n, "cgroup_layout", true, false, hybrid()
			? "hybrid: v1 controllers beside v2; v2 ids name containers%s"
			: "pure v2%s", NULL);
	} else {
		n = add(f, n, "cgroup_v2", false, true,
			"no cgroup2 mount: containers cannot be told apart%s", NULL);
	}
	n = add(f, n, "psi", ft.psi, false, ft.psi ? "/proc/pressure" :
		"PSI off (boot with psi=1): no pressure figures%s", NULL);
	tfs = !stat("/sys/kernel/tracing/events", &st) ||
	      !stat("/sys/kernel/debug/tracing/events", &st);
	return add(f, n, "tracefs", true, false, tfs ? "mounted%s"
		   : "not mounted; kpulse mounts it only if a classic tracepoint needs it%s", NULL);
}

/* Load every program for real (and release them): the daemon's verdict. */
static int probe_programs(struct feature *f, int n)
{
	struct kp_loader_opts lo = { .force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL };
	struct kp_loader *l = NULL;
	struct kp_features ft;
	bool arg;
	int err = kp_loader__open(&l, &lo);

	kp_loader__features(l, &ft);	/* the one probe result */
	n = add(f, n, "tp_btf", ft.tp_btf, false, ft.tp_btf ? "BTF-typed tracepoints%s"
		: "using raw tracepoints: same figures, pid-keyed fallback maps%s", NULL);
	n = add(f, n, "runq_source", true, false, ft.sched_info
		? "the kernel's sched_info enqueue times: no wakeup programs needed%s"
		: "own enqueue timestamps from wakeup programs (no CONFIG_SCHED_INFO)%s", NULL);
	arg = ft.switch_state && !strcmp(ft.switch_state, "argument");
	n = add(f, n, "switch_state", true, false, arg
		? "sched_switch's prev_state argument%s"
		: "sched_switch without prev_state: the task's own field, task_struct.%s",
		arg ? NULL : ft.switch_state ? ft.switch_state : "unknown");
	n = add(f, n, "bpf_stats", ft.bpf_stats, false, ft.bpf_stats
		? "BPF_ENABLE_STATS: per-program cost exported (the daemon samples one interval in 30)%s"
		: "no BPF_ENABLE_STATS: kpulse_bpf_program_* metrics stay 0%s", NULL);
	n = add(f, n, "request_timing", ft.data_ready, false, ft.data_ready
		? "received bytes timed on arrival (sk_data_ready)%s"
		: "received bytes timed when read (no sk_data_ready): inbound misses time unread, outbound adds the client's read delay%s",
		NULL);
	for (unsigned int i = 0; l && i < kp_loader__prog_count(l); i++) {
		const struct kp_prog_info *p = kp_loader__prog(l, i);
		char d[300];

		snprintf(d, sizeof(d), p->attached ? "%s" : "%s: %s", p->attach, p->reason);
		n = add(f, n, p->tracepoint, p->attached, false, "%s", d);
	}
	if (err && !(l && kp_loader__attached(l)))
		n = add(f, n, "programs", false, true, "no BPF program could run%s", NULL);
	kp_loader__close(l);
	return n;
}

static void print_json(const struct feature *f, int n, bool all_needed)
{
	json_t *arr = json_array(), *doc;

	for (int i = 0; i < n; i++) {
		json_t *o = json_pack("{s:s, s:b, s:b, s:s}", "feature", f[i].name,
				      "ok", f[i].ok, "needed", f[i].needed, "detail", f[i].detail);

		if (f[i].since)	/* the oldest Linux that has it */
			json_object_set_new(o, "since", json_string(f[i].since));
		json_array_append_new(arr, o);
	}
	doc = json_pack("{s:s, s:b, s:o}", "version", KPULSE_VERSION, "ok", all_needed,
			"features", arr);
	json_dumpf(doc, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(doc);
}

int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct feature f[MAX_FEATURES];
	bool json = false, priv, all_needed = true;
	char why[256];
	int c, n;

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
	n = probe_host(f, 0, priv, why);
	if (priv)
		n = probe_programs(f, n);
	for (int i = 0; i < n; i++)
		if (f[i].needed && !f[i].ok)
			all_needed = false;
	if (json) {
		print_json(f, n, all_needed);
	} else {
		for (int i = 0; i < n; i++)
			printf("%-30s %-7s %-5s %s\n", f[i].name, f[i].ok ? "ok" : "missing",
			       f[i].since ? f[i].since : "", f[i].detail);
		printf("%s\n", all_needed ? "kpulse can run here" : "kpulse cannot run here");
	}
	return all_needed ? 0 : KP_EXIT_UNAVAILABLE;
}
