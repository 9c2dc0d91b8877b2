/* container.c - cgroup v2 path -> container identity.
 *
 * Owns the naming rules that turn a cgroup path into the container,
 * container_id, runtime and pod_uid labels. Only the last components of the
 * path matter, so the same rules work for nested containers, kind nodes and
 * the unified tree of hybrid hosts. No I/O, no allocation: callers may run
 * this on every new cgroup id seen in a BPF map.
 *
 * Runtime scopes ("docker-<id>.scope", "cri-containerd-<id>.scope", ...) are
 * tried first and need exactly 64 lowercase hex chars; anything else falls
 * through to the systemd unit and plain cgroup rules.
 */
#include <string.h>

#include "collect/container.h"
#include "model/text.h"

#define HEX_ID_LEN 64
#define SHORT_ID_LEN 12

struct comp {
	const char *s;
	size_t len;
};

/* "<prefix><64hex><suffix>" components owned by a container runtime. */
static const struct scope_rule {
	const char *prefix;
	const char *suffix;
	enum kp_runtime rt;
	const char *name_prefix;
} scope_rules[] = {
	{ "docker-",		".scope", KP_RT_DOCKER,	    "" },
	{ "cri-containerd-",	".scope", KP_RT_CONTAINERD, "" },
	{ "crio-conmon-",	".scope", KP_RT_CRIO,	    "conmon-" },
	{ "crio-",		".scope", KP_RT_CRIO,	    "" },
	{ "libpod-conmon-",	".scope", KP_RT_PODMAN,	    "conmon-" },
	{ "libpod-",		".scope", KP_RT_PODMAN,	    "" },
	/* podman's cgroupfs manager: /libpod_parent/libpod-<id> */
	{ "libpod-",		"",	  KP_RT_PODMAN,	    "" },
};

static int is_lhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != HEX_ID_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_lhex(s[i]))
			return 0;
	return 1;
}

static int comp_is(struct comp c, const char *str)
{
	return c.len == strlen(str) && !memcmp(c.s, str, c.len);
}

static int comp_ends(struct comp c, const char *suffix)
{
	size_t k = strlen(suffix);

	return c.len >= k && !memcmp(c.s + c.len - k, suffix, k);
}

static int comp_has(struct comp c, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= c.len; i++)
		if (!memcmp(c.s + i, needle, k))
			return 1;
	return 0;
}

/* The component ending at or before @end; len 0 when there is none. */
static struct comp comp_before(const char *path, size_t end)
{
	struct comp c = { .len = 0 };

	while (end && path[end - 1] == '/')
		end--;
	while (c.len < end && path[end - c.len - 1] != '/')
		c.len++;
	c.s = path + end - c.len;
	return c;
}

/* Returns the 64 hex chars inside @c when it matches @r, else NULL. */
static const char *match_scope(struct comp c, const struct scope_rule *r)
{
	size_t pl = strlen(r->prefix), sl = strlen(r->suffix);

	if (c.len != pl + HEX_ID_LEN + sl || memcmp(c.s, r->prefix, pl) ||
	    memcmp(c.s + pl + HEX_ID_LEN, r->suffix, sl))
		return NULL;
	return is_hex_id(c.s + pl, HEX_ID_LEN) ? c.s + pl : NULL;
}

static const struct scope_rule *find_scope(struct comp c, const char **hex)
{
	size_t i;

	for (i = 0; i < sizeof(scope_rules) / sizeof(scope_rules[0]); i++)
		if ((*hex = match_scope(c, &scope_rules[i])))
			return &scope_rules[i];
	return NULL;
}

/* Pod uids are uuids (36 chars; systemd slices use '_' for '-') or, for
 * static pods, a bare 32-hex config hash. Writes the dashed form. */
static int parse_uid(const char *s, size_t len, char *out)
{
	size_t i;

	if (len != 36 && len != 32)
		return 0;
	for (i = 0; i < len; i++) {
		int sep = len == 36 && (i == 8 || i == 13 || i == 18 || i == 23);

		if (sep ? s[i] != '-' && s[i] != '_' : !is_lhex(s[i]))
			return 0;
		out[i] = sep ? '-' : s[i];
	}
	out[len] = '\0';
	return 1;
}

/* Is there a component starting with "kubepods" before @stop? */
static int under_kubepods(const char *path, const char *stop)
{
	const char *p;

	for (p = path; p < stop; p++)
		if ((p == path || p[-1] == '/') && !strncmp(p, "kubepods", 8))
			return 1;
	return 0;
}

/* "pod<uid>" under kubepods (cgroupfs driver) or
 * "[kubelet-]kubepods[-<qos>]-pod<uid>.slice" (systemd driver). */
static int parse_pod(const char *path, struct comp c, char *uid)
{
	char buf[KP_POD_UID_MAX];
	size_t n, ul;

	if (c.len > 3 && !memcmp(c.s, "pod", 3) && under_kubepods(path, c.s)) {
		if (!parse_uid(c.s + 3, c.len - 3, buf))
			return 0;
	} else if (comp_ends(c, ".slice") && comp_has(c, "kubepods")) {
		n = c.len - strlen(".slice");
		for (ul = 36; ul >= 32; ul -= 4)
			if (n >= ul + 4 && !memcmp(c.s + n - ul - 4, "-pod", 4) &&
			    parse_uid(c.s + n - ul, ul, buf))
				break;
		if (ul < 32)
			return 0;
	} else {
		return 0;
	}
	memcpy(uid, buf, strlen(buf) + 1);
	return 1;
}

static void set_container(struct kp_identity *out, enum kp_runtime rt,
			  const char *hex, const char *name_prefix)
{
	size_t pl = strlen(name_prefix);

	out->runtime = rt;
	kp_copy_utf8(out->id, sizeof(out->id), hex, HEX_ID_LEN);
	kp_copy_utf8(out->name, sizeof(out->name), name_prefix, pl);
	kp_copy_utf8(out->name + pl, sizeof(out->name) - pl, hex, SHORT_ID_LEN);
}

/* Plain cgroup: the path itself, with a leading '/', without trailing ones. */
static void set_path_name(struct kp_identity *out, const char *path, size_t n)
{
	size_t off = path[0] != '/';

	out->runtime = KP_RT_CGROUP;
	out->name[0] = '/';
	kp_copy_utf8(out->name + off, sizeof(out->name) - off, path, n);
}

void kp_identity_from_path(const char *path, struct kp_identity *out)
{
	const struct scope_rule *r;
	struct comp leaf, parent;
	const char *hex;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!path)
		path = "";
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (!n) {
		set_path_name(out, "/", 1);
		return;
	}

	leaf = comp_before(path, n);
	parent = comp_before(path, (size_t)(leaf.s - path));

	/* crun with the systemd driver moves the payload into a "container"
	 * child of the runtime's scope (podman, cri-o): name it by the scope. */
	if (comp_is(leaf, "container") && find_scope(parent, &hex)) {
		leaf = parent;
		parent = comp_before(path, (size_t)(leaf.s - path));
	}

	if (parse_pod(path, leaf, out->pod_uid)) {
		set_path_name(out, path, n);
		return;
	}
	parse_pod(path, parent, out->pod_uid);

	if ((r = find_scope(leaf, &hex))) {
		set_container(out, r->rt, hex, r->name_prefix);
		return;
	}
	if (is_hex_id(leaf.s, leaf.len)) {
		/* cgroupfs driver: /docker/<id>, or .../pod<uid>/<id> where
		 * the runtime cannot be told from the path; containerd is
		 * what most clusters run. */
		if (comp_is(parent, "docker")) {
			set_container(out, KP_RT_DOCKER, leaf.s, "");
			return;
		}
		if (out->pod_uid[0]) {
			set_container(out, KP_RT_CONTAINERD, leaf.s, "");
			return;
		}
	}
	if (comp_ends(leaf, ".service") || comp_ends(leaf, ".scope")) {
		out->runtime = KP_RT_SYSTEMD;
		kp_copy_utf8(out->name, sizeof(out->name), leaf.s, leaf.len);
		return;
	}
	set_path_name(out, path, n);
}
