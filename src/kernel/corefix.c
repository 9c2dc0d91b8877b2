/* corefix.c - see corefix.h. Pure over a struct btf, so the unit test
 * builds the old and new forms in memory. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include "kernel/corefix.h"

int kp_btf_tp_nargs(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[96];
	int id;

	if (!btf)
		return -ENOENT;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -ENOENT;
	/* typedef -> pointer -> func_proto(void *__data, args...) */
	t = btf__type_by_id(btf, id);
	for (int hops = 0; t && !btf_is_func_proto(t) && hops < 4; hops++)
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -ENOENT;
	return btf_vlen(t) - 1;
}

static bool task_has(const struct btf *btf, const char *member)
{
	int id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, btf_members(t)[i].name_off), member))
			return true;
	return false;
}

enum kp_switch_state kp_switch_state_source(const struct btf *btf)
{
	if (!btf)
		return KP_SWITCH_STATE_UNKNOWN;
	if (kp_btf_tp_nargs(btf, "sched_switch") >= 4)
		return KP_SWITCH_STATE_ARG;
	if (task_has(btf, "__state"))
		return KP_SWITCH_STATE_FIELD;
	if (task_has(btf, "state"))
		return KP_SWITCH_STATE_OLD_FIELD;
	return KP_SWITCH_STATE_UNKNOWN;
}

const char *kp_switch_state_name(enum kp_switch_state s)
{
	switch (s) {
	case KP_SWITCH_STATE_ARG:
		return "argument";
	case KP_SWITCH_STATE_FIELD:
		return "__state";
	case KP_SWITCH_STATE_OLD_FIELD:
		return "state";
	default:
		return "unknown";
	}
}
