/* SPDX-License-Identifier: GPL-2.0 */
/* core_fixes.bpf.h - kernel differences kpulse's programs absorb, in the
 * manner of libbpf-tools' core_fixes.bpf.h: each fix is a pair of CO-RE
 * flavours (resolved by libbpf against the running kernel's BTF at load)
 * or a rodata flag the loader sets from that BTF before loading, so one
 * object runs on every kernel from the floor README states.
 *
 * sched_switch's prev_state: since 5.18 the tracepoint passes the state
 * __schedule() acted on as a fourth argument; before, the only source is
 * the task's own state field, read at the tracepoint (a remote wakeup may
 * have moved it to TASK_WAKING by then: still not TASK_RUNNING, so the
 * voluntary/involuntary split holds). That field is `__state` (unsigned
 * int) since 5.14 and `state` (volatile long) before. Included after
 * vmlinux.h. */
#ifndef KP_CORE_FIXES_BPF_H
#define KP_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* commit 2f064a59a11f ("sched: Change task_struct::state"), 5.14 */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

struct task_struct___x {
	unsigned int __state;
} __attribute__((preserve_access_index));

static __always_inline __u32 kp_task_state(void *task)
{
	struct task_struct___x *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return (__u32)BPF_CORE_READ((struct task_struct___o *)task, state);
}

#ifdef KP_FIX_SWITCH
/* commit fa2c3254d7cf ("sched/tracing: Don't re-read p->state when
 * emitting sched_switch event"), 5.18: the argument is there. The loader
 * sets it from btf_trace_sched_switch's arity; the verifier then drops
 * the branch not taken, so a kernel without the argument never sees the
 * read of ctx[3] (which it would refuse, tp_btf at load, raw_tp at
 * attach). */
const volatile bool switch_state_arg = true;

static __always_inline __u32 kp_switch_prev_state(unsigned long long *ctx, void *prev)
{
	if (switch_state_arg)
		return (__u32)ctx[3];
	return kp_task_state(prev);
}
#endif /* KP_FIX_SWITCH */

#ifdef KP_FIX_VICTIM
/* oom:mark_victim passes (task, uid) since 6.8, (pid) before. With the
 * pid, the task is found by it (bpf_task_from_pid, a kfunc BTF-typed
 * programs may call since 6.2) and its uid read from its credentials; the
 * loader sets the flag from btf_trace_mark_victim's arity and the verifier
 * drops the branch not taken (ctx[1] does not exist in the pid form).
 * Before 6.2 the pid form has no fallback: the program is refused, as the
 * loader reports. */
const volatile bool victim_pid_arg = false;

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
#endif /* KP_FIX_VICTIM */

#endif
