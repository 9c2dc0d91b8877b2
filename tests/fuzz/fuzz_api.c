/* fuzz_api.c - what a client puts in the URL of the JSON API: the path
 * after /api/v1/containers/ (an id, a name or a URL-decoded cgroup path),
 * /api/v1/history's metric, container and window, and the ack path. Run
 * against a small model built here, with a hostile name in it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/analysis.h"
#include "model/model.h"
#include "outputs/api.h"

static struct kp_model *m;
static struct kp_analysis *an;

static void setup(void)
{
	static const char *const paths[] = { "/system.slice/nginx.service",
		"/kubepods/pod1/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"/x\\xffy\"<b>" };
	struct kp_analysis_opts o;

	m = kp_model__new(16);
	kp_analysis_opts_default(&o, 1000000000ull);
	an = kp_analysis__new(&o, 1);
	for (unsigned int i = 0; i < 3; i++) {
		struct kp_container *k = kp_model__get(m, 100 + i);
		struct kp_identity id = { .runtime = KP_RT_CGROUP };

		snprintf(id.name, sizeof(id.name), "%s", paths[i]);
		kp_model__resolve(m, k, paths[i], &id);
		k->t.cpu_ns = 1000000000ull * i;
		k->t.runq_hist[40 + i] = 5;
	}
	kp_analysis__update(an, m, 1000000000ull);
	kp_analysis__update(an, m, 2000000000ull);
}

/* The input's NUL-separated pieces, up to three. */
static int split(const uint8_t *data, size_t size, char *out[3])
{
	char *buf = malloc(size + 1);
	int n = 0;

	if (!buf)
		return -1;
	memcpy(buf, data, size);
	buf[size] = 0;
	out[0] = out[1] = out[2] = buf + size;	/* "" */
	for (char *p = buf; n < 3; n++) {
		out[n] = p;
		p += strlen(p);
		if (p >= buf + size)
			break;
		p++;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err = NULL;
	char *s[3], id[64];
	json_t *j;

	if (!m)
		setup();
	if (split(data, size, s))
		return 0;
	json_decref(kp_api_container(m, an, 3000000000ull, s[0]));
	j = kp_api_history(m, an, 3000000000ull, s[0], s[1], s[2], &err);
	if (!j && !err)
		__builtin_trap();	/* a refusal always says why */
	json_decref(j);
	j = kp_api_containers(m, an, 3000000000ull, s[1]);
	json_decref(j);
	kp_api_ack_id(s[0], id, sizeof(id));
	free(s[0]);	/* the buffer split() made */
	return 0;
}
