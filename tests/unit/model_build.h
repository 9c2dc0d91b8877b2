/* model_build.h - what the model-level unit tests share: building a model
 * the way the collector would (containers made, named, given figures), and
 * an independent statement of the histogram layout of kpulse_abi.h, so the
 * tests check the code's bucket edges instead of reusing them. Header-only
 * (static functions): each test links only the modules it tests; include
 * it after cmocka.h. */
#ifndef KPULSE_TEST_MODEL_BUILD_H
#define KPULSE_TEST_MODEL_BUILD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "model/hist.h"
#include "model/model.h"

#define S 1000000000ull
#define MS 1000000ull
#define US 1000ull

/* The tests' cast: "web", a docker container, and "api", the container
 * of a Kubernetes pod (CRI containerd), as their cgroups are named. */
#define WEB_ID "4f1e2d3c4b5a69788796a5b4c3d2e1f04f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define API_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD_UID "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
#define WEB_PATH "/system.slice/docker-" WEB_ID ".scope"
#define API_PATH "/kubepods.slice/kubepods-pod" POD_UID ".slice/cri-containerd-" API_ID ".scope"
#define WEB_IMAGE "nginx:1.25"

/* @a within @eps of @b, in doubles (cmocka's assert_float_equal rounds
 * both to float, too coarse for counters). */
#define assert_near(a, b, eps)                                                        \
	do {                                                                          \
		double a_ = (double)(a), b_ = (double)(b);                            \
		if (!(a_ == b_ || fabs(a_ - b_) <= (double)(eps))) {                  \
			print_error("%s = %.17g, want %.17g (+/- %g)\n", #a, a_, b_,  \
				    (double)(eps));                                   \
			_fail(__FILE__, __LINE__);                                    \
		}                                                                     \
	} while (0)

/* A container resolved as the collector would: path and identity. @id and
 * @pod may be NULL. Fails the test when out of memory. */
static inline struct kp_container *tb_container(struct kp_model *m, uint64_t cgid,
						const char *path, const char *name,
						const char *id, enum kp_runtime rt,
						const char *pod)
{
	struct kp_container *k = kp_model__get(m, cgid);
	struct kp_identity ident;

	assert_non_null(k);
	memset(&ident, 0, sizeof(ident));
	ident.runtime = rt;
	snprintf(ident.name, sizeof(ident.name), "%s", name);
	snprintf(ident.id, sizeof(ident.id), "%s", id ? id : "");
	snprintf(ident.pod_uid, sizeof(ident.pod_uid), "%s", pod ? pod : "");
	assert_int_equal(kp_model__resolve(m, k, path, &ident), 0);
	return k;
}

/* Named by the runtimes' files, as the collector would: image, and for
 * Kubernetes pod and namespace (any may be NULL: not known). */
static inline void tb_named(struct kp_model *m, struct kp_container *k, const char *image,
			    const char *pod, const char *namespace)
{
	struct kp_identity ident = k->ident;

	snprintf(ident.image, sizeof(ident.image), "%s", image ? image : "");
	snprintf(ident.pod, sizeof(ident.pod), "%s", pod ? pod : "");
	snprintf(ident.namespace, sizeof(ident.namespace), "%s", namespace ? namespace : "");
	ident.named = true;
	kp_model__rename(m, k, &ident);
}

/* Upper edge (exclusive) of the bucket holding @v, from the layout in
 * kpulse_abi.h: values under 16 exact; above, each power of two split in
 * 16 equal buckets; the top bucket (from 2^36 - 2^31) holds the rest. */
static inline uint64_t tb_upper(uint64_t v)
{
	unsigned int msb;
	uint64_t width;

	if (v < 16)
		return v + 1;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	if (msb > 35)
		return UINT64_MAX;
	width = 1ull << (msb - 4);
	if (msb == 35 && v / width == 31)	/* the top bucket */
		return UINT64_MAX;
	return (v / width + 1) * width;
}

/* @n events of @v ns into a fine histogram (and its sum). */
static inline void tb_record(uint64_t *hist, uint64_t *sum_ns, uint64_t v, uint64_t n)
{
	hist[kp_hist_bucket(v)] += n;
	if (sum_ns)
		*sum_ns += v * n;
}

/* Dense histogram of @n events: values[i] occurs counts[i] times; the exact
 * q-quantile by rank ceil(q * total). */
static inline uint64_t tb_exact_quantile(const uint64_t *values, const uint64_t *counts,
					 unsigned int n, double q)
{
	uint64_t total = 0, rank, seen = 0;

	for (unsigned int i = 0; i < n; i++)
		total += counts[i];
	rank = (uint64_t)(q * (double)total + 0.999999999);
	for (unsigned int i = 0; i < n; i++) {
		seen += counts[i];
		if (seen >= rank)
			return values[i];
	}
	return values[n - 1];
}

#endif
