/* test_corefix.c - which sched_switch prev_state flavour each kernel form
 * gets (kernel/corefix.c), on BTF built in memory as 6.x, 5.14-5.17 and
 * pre-5.14 kernels describe sched_switch and task_struct, and on this
 * machine's own BTF when it has one. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include "kernel/corefix.h"

/* btf_trace_sched_switch with @nargs arguments after __data, and a
 * task_struct whose state field is @state_field */
static struct btf *kernel_form(int nargs, const char *state_field)
{
	struct btf *b = btf__new_empty();
	int uint, lng, vptr, task, tptr, proto, fptr;

	assert_non_null(b);
	uint = btf__add_int(b, "unsigned int", 4, 0);
	lng = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	vptr = btf__add_ptr(b, 0);
	task = btf__add_struct(b, "task_struct", 16);
	assert_int_equal(btf__add_field(b, "pid", uint, 0, 0), 0);
	assert_int_equal(btf__add_field(b, state_field,
					strcmp(state_field, "state") ? uint : lng, 64, 0), 0);
	tptr = btf__add_ptr(b, task);
	proto = btf__add_func_proto(b, 0);
	assert_int_equal(btf__add_func_param(b, "__data", vptr), 0);
	for (int i = 0; i < nargs; i++)
		assert_int_equal(btf__add_func_param(b, i == 0 ? "preempt" : i < 3 ? "p" : "prev_state",
						     i == 0 || i == 3 ? uint : tptr), 0);
	fptr = btf__add_ptr(b, proto);
	assert_true(btf__add_typedef(b, "btf_trace_sched_switch", fptr) > 0);
	return b;
}

static void test_argument_on_5_18_and_later(void **state)
{
	struct btf *b = kernel_form(4, "__state");

	(void)state;
	assert_int_equal(kp_btf_tp_nargs(b, "sched_switch"), 4);
	assert_int_equal(kp_switch_state_source(b), KP_SWITCH_STATE_ARG);
	assert_string_equal(kp_switch_state_name(KP_SWITCH_STATE_ARG), "argument");
	btf__free(b);
}

static void test_state_field_before(void **state)
{
	struct btf *b = kernel_form(3, "__state");

	(void)state;
	assert_int_equal(kp_btf_tp_nargs(b, "sched_switch"), 3);
	assert_int_equal(kp_switch_state_source(b), KP_SWITCH_STATE_FIELD);
	btf__free(b);
	b = kernel_form(3, "state");
	assert_int_equal(kp_switch_state_source(b), KP_SWITCH_STATE_OLD_FIELD);
	assert_string_equal(kp_switch_state_name(KP_SWITCH_STATE_OLD_FIELD), "state");
	btf__free(b);
}

static void test_missing(void **state)
{
	struct btf *b = btf__new_empty();

	(void)state;
	assert_int_equal(kp_btf_tp_nargs(b, "sched_switch"), -ENOENT);
	assert_int_equal(kp_switch_state_source(b), KP_SWITCH_STATE_UNKNOWN);
	assert_int_equal(kp_switch_state_source(NULL), KP_SWITCH_STATE_UNKNOWN);
	assert_string_equal(kp_switch_state_name(KP_SWITCH_STATE_UNKNOWN), "unknown");
	btf__free(b);
}

/* this kernel (6.18 here): sched_switch with four arguments, mark_victim
 * with two */
static void test_this_kernel(void **state)
{
	struct btf *b = btf__load_vmlinux_btf();

	(void)state;
	if (!b)
		skip();
	assert_int_equal(kp_btf_tp_nargs(b, "sched_switch"), 4);
	assert_int_equal(kp_switch_state_source(b), KP_SWITCH_STATE_ARG);
	assert_true(kp_btf_tp_nargs(b, "sched_wakeup") == 1);
	/* mark_victim(task, uid): the loader keeps its pid form off */
	assert_int_equal(kp_btf_tp_nargs(b, "mark_victim"), 2);
	btf__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argument_on_5_18_and_later),
		cmocka_unit_test(test_state_field_before),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_this_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
