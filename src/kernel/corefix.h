/* corefix.h - the userspace half of bpf/core_fixes.bpf.h: which form of a
 * kernel interface this kernel has, read from its BTF (never its version),
 * for the loader to set the programs' rodata and for `kpulse check` and
 * /health to say which flavour runs. */
#ifndef KPULSE_COREFIX_H
#define KPULSE_COREFIX_H

struct btf;

/* Where sched_switch's prev_state comes from. */
enum kp_switch_state {
	KP_SWITCH_STATE_ARG,		/* the tracepoint's argument (5.18+) */
	KP_SWITCH_STATE_FIELD,		/* task_struct.__state (5.14-5.17) */
	KP_SWITCH_STATE_OLD_FIELD,	/* task_struct.state (before 5.14) */
	KP_SWITCH_STATE_UNKNOWN,	/* no BTF: the programs cannot load */
};

/* Arguments of tracepoint @tp as BTF-typed programs see them (its
 * btf_trace_<tp> prototype, less the leading __data), or -ENOENT. */
int kp_btf_tp_nargs(const struct btf *btf, const char *tp);

enum kp_switch_state kp_switch_state_source(const struct btf *btf);

/* "argument", "__state", "state" or "unknown" */
const char *kp_switch_state_name(enum kp_switch_state s);

#endif
