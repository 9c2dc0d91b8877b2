/* loader.c - BPF object lifecycle.
 *
 * Every tracepoint program exists as tp_btf and raw_tp twins; we probe the
 * kernel (never its version) and keep one. A program the verifier rejects is
 * named, its log tail kept, and the object is reopened without it (falling
 * back to its raw_tp twin when there is one), so one bad program costs one
 * metric, not the daemon. libbpf's own chatter is captured, not printed,
 * unless -v is given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kpulse_abi.h"
#include "kernel/loader.h"
#include "kernel/corefix.h"
#include "base/clock.h"
#include "base/log.h"
#include "model/self.h"
#include "sched.skel.h"
#include "mem.skel.h"
#include "tcp.skel.h"
#include "cgroup.skel.h"

#define MAX_PROGS 32
#define LOG_CAP (256 * 1024)
#define LOG_TAIL 4096
/* slow_events under `kpulse slow`: ~13000 events between two reads */
#define SLOW_RING_BYTES (1u << 20)


/* One skeleton, wrapped so the loader can treat all of them alike. */
struct unit_ops {
	const char *name;
	void *(*open)(void);
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	struct bpf_object *(*object)(void *skel);
};

#define UNIT(n)                                                               \
	static void *n##_open(void) { return n##_bpf__open(); }              \
	static int n##_load(void *s) { return n##_bpf__load(s); }            \
	static void n##_destroy(void *s) { n##_bpf__destroy(s); }           \
	static struct bpf_object *n##_obj(void *s)                           \
	{                                                                     \
		return ((struct n##_bpf *)s)->obj;                            \
	}
UNIT(sched)
UNIT(mem)
UNIT(tcp)
UNIT(cgroup)

static const struct unit_ops units[] = {
	{ "sched", sched_open, sched_load, sched_destroy, sched_obj },
	{ "mem", mem_open, mem_load, mem_destroy, mem_obj },
	{ "tcp", tcp_open, tcp_load, tcp_destroy, tcp_obj },
	{ "cgroup", cgroup_open, cgroup_load, cgroup_destroy, cgroup_obj },
};

/* Maps every unit declares but that must exist once: the first unit to
 * load creates them, later ones reuse its fd. */
static const char *const shared_maps[] = { "drops", "slow_events", "cg_dead" };
#define NUNITS (sizeof(units) / sizeof(units[0]))

struct prog_slot {
	struct kp_prog_info info;
	struct bpf_program *prog;
	struct bpf_link *link;
};

struct kp_loader {
	struct kp_loader_opts opts;
	void *skel[NUNITS];
	struct prog_slot progs[MAX_PROGS];
	unsigned int nprogs;
	bool tp_btf_ok;
	bool sched_info_ok;	/* run-queue waits from the kernel's sched_info */
	enum kp_switch_state switch_state; /* sched_switch prev_state flavour */
	bool mounted_tracefs;
	int stats_fd;		/* BPF_ENABLE_STATS: stats on while open */
	bool stats_ok;		/* it could be opened */
	/* sampled stats: the open window's start, per-program counts then,
	 * and the estimates from the windows closed so far */
	uint64_t started_ns, win_open_ns, win_close_ns, on_ns;
	unsigned int ticks;
	bool windows_closed;
	uint64_t win_run_ns[MAX_PROGS], win_runs[MAX_PROGS];
	double est_run_ns[MAX_PROGS], est_runs[MAX_PROGS];
	/* names of programs we gave up on in earlier load attempts */
	char disabled[MAX_PROGS][32];
	char disabled_why[MAX_PROGS][256];
	char *disabled_log[MAX_PROGS];
	unsigned int ndisabled;
};


/* libbpf's messages go here while loading; printed only with -v. */
static char *cap_buf;
static size_t cap_len;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	if (kp_verbose) {
		va_copy(copy, ap);
		if (level != LIBBPF_DEBUG || kp_verbose > 1)
			vfprintf(stderr, fmt, copy);
		va_end(copy);
	}
	if (level == LIBBPF_DEBUG || !cap_buf || cap_len >= LOG_CAP - 1)
		return 0;
	n = vsnprintf(cap_buf + cap_len, LOG_CAP - cap_len, fmt, ap);
	if (n > 0)
		cap_len += (size_t)n < LOG_CAP - cap_len ? (size_t)n : LOG_CAP - cap_len - 1;
	return 0;
}

/* vmlinux BTF, parsed once for all look-ups while loading (it is several
 * MiB: parsing it per program would make the daemon's heap peak high). */
static struct btf *vmlinux_btf;

int kp_check_privileges(char *why, size_t len)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long eff = 0;
	char line[256];

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "CapEff: %llx", &eff) == 1)
				break;
		fclose(f);
	}
	/* CAP_SYS_ADMIN (21), or CAP_BPF (39) + CAP_PERFMON (38) */
	if ((eff & (1ull << 21)) || ((eff & (1ull << 39)) && (eff & (1ull << 38))))
		return 0;
	snprintf(why, len, "loading BPF programs needs root (or CAP_BPF and "
		 "CAP_PERFMON); run kpulse with sudo");
	return -EPERM;
}

/* Does the kernel keep sched_info.last_queued (CONFIG_SCHED_INFO)? Then
 * run-queue waits come from the kernel's own bookkeeping.
 * KPULSE_NO_SCHED_INFO=1 forces the task-storage fallback. */
static bool has_member(const char *st, const char *member)
{
	const struct btf_type *t;
	int id = btf__find_by_name_kind(vmlinux_btf, st, BTF_KIND_STRUCT);

	if (id <= 0 || !(t = btf__type_by_id(vmlinux_btf, id)))
		return false;
	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(vmlinux_btf, btf_members(t)[i].name_off), member))
			return true;
	return false;
}

static bool probe_sched_info(void)
{
	if (!vmlinux_btf || getenv("KPULSE_NO_SCHED_INFO"))
		return false;
	/* CONFIG_SCHED_INFO, and the rq reachable from a task's cfs_rq
	 * (CONFIG_FAIR_GROUP_SCHED) for its clock */
	return has_member("sched_info", "last_queued") && has_member("cfs_rq", "rq");
}

/* Can this kernel attach a BTF-typed tracepoint program? Load a two
 * instruction tp_btf program for sched_switch and see. */
static bool probe_tp_btf(void)
{
	struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	int id, fd;

	if (!vmlinux_btf)
		return false;
	id = btf__find_by_name_kind(vmlinux_btf, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	o.expected_attach_type = BPF_TRACE_RAW_TP;
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &o);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int ensure_tracefs(struct kp_loader *l)
{
	struct stat st;

	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		kp_err("loader: tracefs is not mounted and mounting it failed: %s",
		       strerror(errno));
		return -errno;
	}
	l->mounted_tracefs = true;
	return 0;
}

/* "tp_btf/sched_switch" -> kind "tp_btf", tracepoint "sched_switch". */
static void split_section(const char *sec, char *kind, size_t klen, char *tp,
			  size_t tlen)
{
	const char *slash = strchr(sec, '/');
	const char *name = slash ? slash + 1 : sec;

	snprintf(kind, klen, "%.*s", slash ? (int)(slash - sec) : 0, sec);
	if (!strcmp(kind, "tracepoint") && strchr(name, '/'))
		name = strchr(name, '/') + 1;
	snprintf(tp, tlen, "%s", name);
}

static int disabled_idx(const struct kp_loader *l, const char *name)
{
	for (unsigned int i = 0; i < l->ndisabled; i++)
		if (!strcmp(l->disabled[i], name))
			return (int)i;
	return -1;
}

/* Test hook (KPULSE_TEST_HIDE_TP=<tp>[,<tp>...]): act as if the kernel
 * lacked these tracepoints, e.g. sock_send_length before Linux 6.3. */
static bool hidden_for_test(const char *tp)
{
	const char *p = getenv("KPULSE_TEST_HIDE_TP");
	size_t n = strlen(tp);

	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, tp, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static bool tracepoint_exists(const char *kind, const char *sec, const char *tp)
{
	char p[512];
	struct stat st;

	if (hidden_for_test(tp))
		return false;
	if (strcmp(kind, "tracepoint")) {
		if (!vmlinux_btf)
			return false;
		snprintf(p, sizeof(p), "btf_trace_%s", tp);
		return btf__find_by_name_kind(vmlinux_btf, p, BTF_KIND_TYPEDEF) > 0;
	}
	snprintf(p, sizeof(p), "/sys/kernel/tracing/events/%s", strchr(sec, '/') + 1);
	return stat(p, &st) == 0;
}

/* The twin of @prog in the same object: same tracepoint, other kind. */
static struct bpf_program *twin_of(struct bpf_object *obj, struct bpf_program *prog)
{
	char k1[16], t1[48], k2[16], t2[48];
	struct bpf_program *p;

	split_section(bpf_program__section_name(prog), k1, sizeof(k1), t1, sizeof(t1));
	bpf_object__for_each_program(p, obj) {
		if (p == prog)
			continue;
		split_section(bpf_program__section_name(p), k2, sizeof(k2), t2, sizeof(t2));
		if (!strcmp(t1, t2))
			return p;
	}
	return NULL;
}

/* Test hook (KPULSE_TEST_BREAK_PROG=<tracepoint>): make the verifier reject
 * a program for real by turning one of its first instructions into `exit`
 * (the rest becomes unreachable, before r0 is even set). It picks one that no
 * CO-RE relocation can point at (a helper call or a register-to-register
 * ALU op), so libbpf still relocates the rest; same length, so line info
 * stays valid. */
static void break_program(struct bpf_program *p)
{
	size_t n = bpf_program__insn_cnt(p), at = 0;
	struct bpf_insn *copy = malloc(n * sizeof(*copy));

	if (!copy)
		return;
	memcpy(copy, bpf_program__insns(p), n * sizeof(*copy));
	for (size_t i = 0; i < n && i < 64; i++) {
		__u8 cls = copy[i].code & 0x07, src = copy[i].code & 0x08;

		if ((copy[i].code == (BPF_JMP | BPF_CALL) && copy[i].src_reg == 0) ||
		    ((cls == BPF_ALU || cls == BPF_ALU64) && src == BPF_X)) {
			at = i;
			break;
		}
	}
	memset(&copy[at], 0, sizeof(copy[at]));
	copy[at].code = BPF_JMP | BPF_EXIT;
	bpf_program__set_insns(p, copy, n);
	free(copy);
}

/* Decide which programs of @obj load; returns how many will. */
static int choose_programs(struct kp_loader *l, struct bpf_object *obj)
{
	const char *breakme = getenv("KPULSE_TEST_BREAK_PROG");
	struct bpf_program *p, *twin;
	char kind[16], tp[48];
	int n = 0;

	bpf_object__for_each_program(p, obj) {
		bool want;

		split_section(bpf_program__section_name(p), kind, sizeof(kind), tp, sizeof(tp));
		twin = twin_of(obj, p);
		if (!strcmp(kind, "tp_btf"))
			want = l->tp_btf_ok && !l->opts.force_raw_tp;
		else if (twin) /* raw_tp twin: only where tp_btf is out */
			want = !(l->tp_btf_ok && !l->opts.force_raw_tp) ||
			       disabled_idx(l, bpf_program__name(twin)) >= 0;
		else
			want = true;
		if (disabled_idx(l, bpf_program__name(p)) >= 0)
			want = false;
		/* enqueue times come from sched_info: nothing to do at wakeup */
		if (l->sched_info_ok && !strncmp(tp, "sched_wakeup", 12))
			want = false;
		if (want && !tracepoint_exists(kind, bpf_program__section_name(p), tp))
			want = false;
		bpf_program__set_autoload(p, want);
		if (!want)
			continue;
		n++;
		if (!strcmp(kind, "tracepoint"))
			ensure_tracefs(l);
		if (breakme && !strcmp(breakme, tp))
			break_program(p);
	}
	return n;
}

/* From captured libbpf output, the name of the program whose load failed. */
static bool find_culprit(const char *log, char *name, size_t len, char *why,
			 size_t wlen)
{
	const char *p = log, *hit = NULL, *end;

	while ((p = strstr(p, "prog '"))) {
		end = strchr(p + 6, '\'');
		if (end && (!strncmp(end, "': failed to load", 17) ||
			    !strncmp(end, "': BPF program load failed", 26)))
			hit = p;
		p += 6;
	}
	if (!hit)
		return false;
	end = strchr(hit + 6, '\'');
	snprintf(name, len, "%.*s", (int)(end - hit - 6), hit + 6);
	/* the verifier's last words are the line before END PROG LOAD LOG */
	p = strstr(hit, "-- END PROG LOAD LOG --");
	if (!p)
		p = strstr(log, "-- END PROG LOAD LOG --");
	if (p) {
		const char *e = p, *b;

		/* skip the statistics lines the verifier ends with */
		for (;;) {
			while (e > log && e[-1] == '\n')
				e--;
			b = e;
			while (b > log && b[-1] != '\n')
				b--;
			if (b == log || (strncmp(b, "processed ", 10) &&
					 strncmp(b, "verification time", 17) &&
					 strncmp(b, "stack depth", 11)))
				break;
			e = b;
		}
		snprintf(why, wlen, "rejected by the verifier: %.*s", (int)(e - b), b);
	} else {
		const char *b = strstr(hit, "': ");
		const char *e = strchr(b, '\n');

		snprintf(why, wlen, "%.*s", e ? (int)(e - b - 3) : 200, b + 3);
	}
	return true;
}

static void record_disabled(struct kp_loader *l, const char *name,
			    const char *why, const char *log)
{
	size_t n = strlen(log);

	if (l->ndisabled >= MAX_PROGS)
		return;
	snprintf(l->disabled[l->ndisabled], sizeof(l->disabled[0]), "%s", name);
	snprintf(l->disabled_why[l->ndisabled], sizeof(l->disabled_why[0]), "%s", why);
	l->disabled_log[l->ndisabled] = strdup(n > LOG_TAIL ? log + n - LOG_TAIL : log);
	l->ndisabled++;
}

/* Hot slots (kpulse_abi.h): a power of two, KP_HOT_MAX_SLOTS unless that
 * would take more than HOT_BUDGET bytes over all CPUs, never under 16.
 * Test hook: KPULSE_TEST_HOT_SLOTS=<power of two> sets it (1 makes most
 * keys take the hash maps). */
#define HOT_BUDGET (16u << 20)

static unsigned int hot_slots(void)
{
	int ncpus = libbpf_num_possible_cpus();
	size_t per = (sizeof(struct kp_req_stats) + 7) & ~7ul;
	unsigned int n = KP_HOT_MAX_SLOTS;
	const char *t = getenv("KPULSE_TEST_HOT_SLOTS");

	if (t) {
		unsigned long v = strtoul(t, NULL, 10);

		if (v && v <= KP_HOT_MAX_SLOTS && !(v & (v - 1)))
			return (unsigned int)v;
	}
	if (ncpus < 1)
		ncpus = 1;
	while (n > 16 && (size_t)n * per * ncpus > HOT_BUDGET)
		n /= 2;
	return n;
}

/* Per-cgroup maps follow --max-cgroups; the slow ring buffer is large
 * only for `kpulse slow`. */
static void size_maps(struct kp_loader *l, struct bpf_object *obj)
{
	static const char *const per_cgroup[] = { "cg_stats", "mem_stats", "tcp_stats",
						     "tcp_hist", "cg_dead" };
	struct bpf_map *m;

	for (size_t i = 0; i < sizeof(per_cgroup) / sizeof(per_cgroup[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, per_cgroup[i]);

		if (m && l->opts.max_cgroups)
			bpf_map__set_max_entries(m, l->opts.max_cgroups);
	}
	/* (cgroup, direction, port) keys: most containers use a port or two */
	m = bpf_object__find_map_by_name(obj, "req_stats");
	if (m && l->opts.max_cgroups)
		bpf_map__set_max_entries(m, 2 * l->opts.max_cgroups);
	m = bpf_object__find_map_by_name(obj, "hot_owner");
	if (m)
		bpf_map__set_max_entries(m, hot_slots());
	m = bpf_object__find_map_by_name(obj, "hot_vals");
	if (m)
		bpf_map__set_max_entries(m, hot_slots());
	m = bpf_object__find_map_by_name(obj, "slow_events");
	if (m && (l->opts.slow_runq_ns || l->opts.slow_reclaim_ns || l->opts.slow_request_ns))
		bpf_map__set_max_entries(m, SLOW_RING_BYTES);
}

static void share_maps(struct kp_loader *l, struct bpf_object *obj)
{
	for (size_t i = 0; i < sizeof(shared_maps) / sizeof(shared_maps[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared_maps[i]);
		int fd = kp_loader__map_fd(l, shared_maps[i]);

		if (m && fd >= 0 && bpf_map__reuse_fd(m, fd))
			kp_debug("loader: cannot share map %s: %s", shared_maps[i],
				 strerror(errno));
	}
}

static struct prog_slot *add_prog(struct kp_loader *l, struct bpf_program *p,
				  const char *why, const char *log);

/* A unit that will not run still gets one row per tracepoint, saying why:
 * the twin it would have run first, then the others. */
static void unit_rows_failed(struct kp_loader *l, struct bpf_object *obj,
			     const char *why)
{
	struct bpf_program *p;
	char kind[16], tp[48];

	for (int chosen = 1; chosen >= 0; chosen--) {
		bpf_object__for_each_program(p, obj) {
			int d = disabled_idx(l, bpf_program__name(p));
			struct prog_slot *s;

			if (bpf_program__autoload(p) != chosen)
				continue;
			split_section(bpf_program__section_name(p), kind, sizeof(kind), tp, sizeof(tp));
			if (d >= 0)
				s = add_prog(l, p, l->disabled_why[d], l->disabled_log[d]);
			else if (!tracepoint_exists(kind, bpf_program__section_name(p), tp))
				s = add_prog(l, p, "tracepoint not found on this kernel", NULL);
			else
				s = add_prog(l, p, why, NULL);
			if (s) {
				s->prog = NULL;	/* the object is about to go */
				s->info.loaded = false;
			}
		}
	}
}

static int load_unit(struct kp_loader *l, unsigned int u)
{
	const struct unit_ops *ops = &units[u];
	char culprit[64], why[256];
	int err = -EINVAL;

	for (int attempt = 0; attempt < MAX_PROGS; attempt++) {
		void *skel = ops->open();
		struct bpf_object *obj;

		if (!skel)
			return -errno;
		obj = ops->object(skel);
		size_maps(l, obj);
		share_maps(l, obj);
		if (ops->open == sched_open)
			((struct sched_bpf *)skel)->rodata->use_sched_info = l->sched_info_ok;
		if (ops->open == sched_open)
			((struct sched_bpf *)skel)->rodata->slow_runq_ns = l->opts.slow_runq_ns;
		if (ops->open == sched_open)	/* core_fixes.bpf.h */
			((struct sched_bpf *)skel)->rodata->switch_state_arg =
				l->switch_state == KP_SWITCH_STATE_ARG;
		if (ops->open == cgroup_open)
			((struct cgroup_bpf *)skel)->rodata->death_wake =
				KP_DEATH_WAKE(l->opts.max_cgroups ? l->opts.max_cgroups : KP_MAX_CGROUPS);
		if (ops->open == mem_open)
			((struct mem_bpf *)skel)->rodata->slow_reclaim_ns = l->opts.slow_reclaim_ns;
		if (ops->open == mem_open)	/* core_fixes.bpf.h */
			((struct mem_bpf *)skel)->rodata->victim_pid_arg =
				kp_btf_tp_nargs(vmlinux_btf, "mark_victim") == 1;
		if (ops->open == tcp_open) {
			((struct tcp_bpf *)skel)->rodata->slow_request_ns = l->opts.slow_request_ns;
			((struct tcp_bpf *)skel)->rodata->hot_mask = hot_slots() - 1;
			((struct tcp_bpf *)skel)->rodata->rtt_sample_shift =
				l->opts.rtt_sample > 1 ? (__u32)__builtin_ctz(l->opts.rtt_sample) : 0;
		}
		if (choose_programs(l, obj) == 0) {
			unit_rows_failed(l, obj, "no usable program for this tracepoint");
			ops->destroy(skel);
			return -ENOENT;
		}
		cap_len = 0;
		cap_buf[0] = 0;
		err = ops->load(skel);
		if (!err) {
			l->skel[u] = skel;
			return 0;
		}
		if (!find_culprit(cap_buf, culprit, sizeof(culprit), why, sizeof(why)) ||
		    disabled_idx(l, culprit) >= 0) {
			snprintf(why, sizeof(why), "BPF object '%s' failed to load: %s",
				 ops->name, strerror(-err));
			unit_rows_failed(l, obj, why);
			ops->destroy(skel);
			break;
		}
		ops->destroy(skel);
		record_disabled(l, culprit, why, cap_buf);
	}
	kp_err("loader: BPF object '%s' failed to load: %s", ops->name, strerror(-err));
	return err;
}

/* The row for @p's tracepoint (one row per tracepoint, whichever twin runs).
 * A twin that loads replaces a row left by one that did not. */
static struct prog_slot *add_prog(struct kp_loader *l, struct bpf_program *p,
				  const char *why, const char *log)
{
	struct prog_slot *s = NULL;
	char kind[16], tp[48];

	split_section(bpf_program__section_name(p), kind, sizeof(kind), tp, sizeof(tp));
	for (unsigned int i = 0; i < l->nprogs; i++)
		if (!strcmp(l->progs[i].info.tracepoint, tp))
			s = &l->progs[i];
	if (s && (s->info.loaded || !bpf_program__autoload(p)))
		return NULL;
	if (!s) {
		if (l->nprogs >= MAX_PROGS)
			return NULL;
		s = &l->progs[l->nprogs++];
	}
	free(s->info.verifier_log);
	memset(&s->info, 0, sizeof(s->info));
	snprintf(s->info.tracepoint, sizeof(s->info.tracepoint), "%s", tp);
	snprintf(s->info.attach, sizeof(s->info.attach), "%s", kind);
	snprintf(s->info.bpf_name, sizeof(s->info.bpf_name), "%s", bpf_program__name(p));
	s->prog = p;
	s->info.loaded = bpf_program__autoload(p) && bpf_program__fd(p) >= 0;
	if (why)
		snprintf(s->info.reason, sizeof(s->info.reason), "%s", why);
	if (log)
		s->info.verifier_log = strdup(log);
	return s;
}

static void attach_unit(struct kp_loader *l, unsigned int u)
{
	struct bpf_object *obj = units[u].object(l->skel[u]);
	struct bpf_program *p;
	char kind[16], tp[48];

	/* rows for programs that will not run, then the running ones */
	bpf_object__for_each_program(p, obj) {
		int d = disabled_idx(l, bpf_program__name(p));

		if (bpf_program__autoload(p))
			continue;
		split_section(bpf_program__section_name(p), kind, sizeof(kind), tp, sizeof(tp));
		if (d >= 0)
			add_prog(l, p, l->disabled_why[d], l->disabled_log[d]);
		else if (!tracepoint_exists(kind, bpf_program__section_name(p), tp))
			add_prog(l, p, "tracepoint not found on this kernel", NULL);
	}
	bpf_object__for_each_program(p, obj) {
		struct prog_slot *s;

		if (!bpf_program__autoload(p) || !(s = add_prog(l, p, NULL, NULL)))
			continue;
		s->link = bpf_program__attach(p);
		if (!s->link) {
			snprintf(s->info.reason, sizeof(s->info.reason),
				 "attach failed: %s", strerror(errno));
			continue;
		}
		s->info.attached = true;
	}
}

int kp_loader__open(struct kp_loader **out, const struct kp_loader_opts *opts)
{
	struct kp_loader *l;
	char why[256];
	int err = 0;

	*out = NULL;
	if (kp_check_privileges(why, sizeof(why)))
		return -EPERM;
	l = calloc(1, sizeof(*l));
	cap_buf = malloc(LOG_CAP);
	if (!l || !cap_buf) {
		free(l);
		return -ENOMEM;
	}
	l->stats_fd = -1;
	if (opts)
		l->opts = *opts;
	libbpf_set_print(print_fn);

	/* 1. probe */
	vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf)
		kp_info("loader: no kernel BTF (/sys/kernel/btf/vmlinux); tp_btf and CO-RE unavailable");
	l->tp_btf_ok = probe_tp_btf();
	l->sched_info_ok = probe_sched_info();
	l->switch_state = kp_switch_state_source(vmlinux_btf);
	/* test hook: run the pre-5.18 flavour (the task's own state) here */
	if (getenv("KPULSE_TEST_SWITCH_STATE_FIELD") && l->switch_state == KP_SWITCH_STATE_ARG)
		l->switch_state = KP_SWITCH_STATE_FIELD;
	kp_debug("loader: sched_switch prev_state from %s",
		 kp_switch_state_name(l->switch_state));
	if (!l->tp_btf_ok)
		kp_info("loader: tp_btf not supported here, using raw tracepoints");
	/* 2-4. open, size maps, choose programs, load */
	for (unsigned int u = 0; u < NUNITS; u++) {
		int e = load_unit(l, u);

		if (e && !err)
			err = e;
	}
	/* 5. attach, one program at a time */
	for (unsigned int u = 0; u < NUNITS; u++)
		if (l->skel[u])
			attach_unit(l, u);
	for (unsigned int i = 0; i < l->nprogs; i++)
		if (!l->progs[i].info.attached)
			kp_err("loader: program %s (%s) not running: %s; continuing degraded",
			       l->progs[i].info.tracepoint, l->progs[i].info.attach,
			       l->progs[i].info.reason);
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	free(cap_buf);
	cap_buf = NULL;
	malloc_trim(0);	/* hand the loading peak back to the system */
	/* 6. run-time stats: on while this fd is open, restored when closed;
	 * sampled, the first window starts now */
	l->started_ns = l->win_open_ns = l->win_close_ns = kp_now_mono_ns();
	if (l->opts.stats != KP_BPF_STATS_OFF) {
		l->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (l->stats_fd < 0)
			kp_debug("loader: cannot enable bpf stats: %s", strerror(errno));
		l->stats_ok = l->stats_fd >= 0;
	}

	*out = l;
	if (!kp_loader__attached(l))
		return err ? err : -ENOENT;
	return 0;
}

void kp_loader__close(struct kp_loader *l)
{
	if (!l)
		return;
	for (unsigned int i = 0; i < l->nprogs; i++) {
		bpf_link__destroy(l->progs[i].link);
		free(l->progs[i].info.verifier_log);
	}
	for (unsigned int u = 0; u < NUNITS; u++)
		if (l->skel[u])
			units[u].destroy(l->skel[u]);
	for (unsigned int i = 0; i < l->ndisabled; i++)
		free(l->disabled_log[i]);
	if (l->stats_fd >= 0)
		close(l->stats_fd);
	if (l->mounted_tracefs)
		umount2("/sys/kernel/tracing", MNT_DETACH);
	free(l);
}

int kp_loader__map_fd(const struct kp_loader *l, const char *name)
{
	for (unsigned int u = 0; u < NUNITS; u++) {
		struct bpf_map *m;

		if (!l->skel[u])
			continue;
		m = bpf_object__find_map_by_name(units[u].object(l->skel[u]), name);
		if (m)
			return bpf_map__fd(m);
	}
	return -ENOENT;
}

unsigned int kp_loader__prog_count(const struct kp_loader *l)
{
	return l->nprogs;
}

const struct kp_prog_info *kp_loader__prog(const struct kp_loader *l, unsigned int i)
{
	return i < l->nprogs ? &l->progs[i].info : NULL;
}

static int raw_prog_stats(const struct kp_loader *l, unsigned int i, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);
	int fd;

	if (i >= l->nprogs || !l->progs[i].info.loaded)
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	fd = bpf_program__fd(l->progs[i].prog);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, info, &len))
		return -errno;
	return 0;
}

int kp_loader__prog_stats(const struct kp_loader *l, unsigned int i,
			  uint64_t *run_ns, uint64_t *runs, uint64_t *misses)
{
	struct bpf_prog_info info;
	int err = raw_prog_stats(l, i, &info);

	if (err)
		return err;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	*misses = info.recursion_misses;
	/* until the first window closes stats have been on all along */
	if (l->opts.stats == KP_BPF_STATS_SAMPLED && l->windows_closed) {
		*run_ns = (uint64_t)l->est_run_ns[i];
		*runs = (uint64_t)l->est_runs[i];
	}
	return 0;
}

/* Stats on: note where every program's counts stand. */
static void stats_window_open(struct kp_loader *l, uint64_t now)
{
	struct bpf_prog_info info;

	l->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (l->stats_fd < 0)
		return;
	l->win_open_ns = now;
	for (unsigned int i = 0; i < l->nprogs; i++) {
		if (raw_prog_stats(l, i, &info))
			continue;
		l->win_run_ns[i] = info.run_time_ns;
		l->win_runs[i] = info.run_cnt;
	}
}

/* Stats off: what ran in the window stands for everything since the last
 * window closed, scaled by the time. */
static void stats_window_close(struct kp_loader *l, uint64_t now)
{
	double scale = now > l->win_open_ns
		? (double)(now - l->win_close_ns) / (double)(now - l->win_open_ns) : 1;
	struct bpf_prog_info info;

	for (unsigned int i = 0; i < l->nprogs; i++) {
		if (raw_prog_stats(l, i, &info))
			continue;
		if (info.run_time_ns >= l->win_run_ns[i] && info.run_cnt >= l->win_runs[i]) {
			l->est_run_ns[i] += (double)(info.run_time_ns - l->win_run_ns[i]) * scale;
			l->est_runs[i] += (double)(info.run_cnt - l->win_runs[i]) * scale;
		}
	}
	close(l->stats_fd);
	l->stats_fd = -1;
	l->on_ns += now - l->win_open_ns;
	l->win_close_ns = now;
	l->windows_closed = true;
}

void kp_loader__stats_tick(struct kp_loader *l, uint64_t now)
{
	if (!l || l->opts.stats != KP_BPF_STATS_SAMPLED || !l->stats_ok)
		return;
	l->ticks++;
	if (l->stats_fd >= 0)
		stats_window_close(l, now);
	else if (l->ticks % KP_STATS_SAMPLE_EVERY == 0)
		stats_window_open(l, now);
}

double kp_loader__stats_duty(const struct kp_loader *l)
{
	if (!l->stats_ok)
		return 0;
	if (l->opts.stats == KP_BPF_STATS_ALWAYS || !l->windows_closed ||
	    l->win_close_ns <= l->started_ns)
		return 1;
	/* the windows folded in so far over the time they stand for */
	return (double)l->on_ns / (double)(l->win_close_ns - l->started_ns);
}

const char *kp_loader__stats_mode(const struct kp_loader *l)
{
	if (!l->stats_ok)
		return "off";
	return l->opts.stats == KP_BPF_STATS_ALWAYS ? "always" : "sampled";
}

unsigned int kp_loader__attached(const struct kp_loader *l)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < l->nprogs; i++)
		n += l->progs[i].info.attached;
	return n;
}

bool kp_loader__degraded(const struct kp_loader *l)
{
	return kp_loader__attached(l) < l->nprogs;
}

bool kp_loader__running(const struct kp_loader *l, const char *tracepoint)
{
	for (unsigned int i = 0; i < l->nprogs; i++)
		if (!strcmp(l->progs[i].info.tracepoint, tracepoint))
			return l->progs[i].info.attached;
	return false;
}

bool kp_loader__tp_btf(const struct kp_loader *l)
{
	return l->tp_btf_ok && !l->opts.force_raw_tp;
}

bool kp_loader__sched_info(const struct kp_loader *l)
{
	return l->sched_info_ok;
}

bool kp_loader__stats_enabled(const struct kp_loader *l)
{
	return l->stats_ok;
}

void kp_loader__features(const struct kp_loader *l, struct kp_features *f)
{
	memset(f, 0, sizeof(*f));
	f->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	f->psi = access("/proc/pressure/cpu", R_OK) == 0;
	if (!l)
		return;
	f->tp_btf = kp_loader__tp_btf(l);
	f->sched_info = kp_loader__sched_info(l);
	f->switch_state = kp_switch_state_name(l->switch_state);
	f->bpf_stats = kp_loader__stats_enabled(l);
	f->sock_len = kp_loader__running(l, "sock_send_length") &&
		      kp_loader__running(l, "sock_recv_length");
	f->data_ready = kp_loader__running(l, "sk_data_ready");
}
