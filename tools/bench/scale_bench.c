/* scale_bench.c - what N containers cost the daemon's userspace once its
 * history is full, on the real model, analysis and outputs, with no BPF and
 * no waiting: N containers that each run a little every second (a few
 * run-queue events, some CPU, a memory figure that moves now and then) go
 * through HISTORY / INTERVAL + 1 analysis ticks of simulated time (15
 * minutes at 2 s), then /metrics and /api/v1/containers are rendered.
 * Prints heap in use (mallinfo2) after the model is made and after the
 * ticks, CPU per tick, per /metrics and per /api/v1/containers, and the
 * bodies' sizes, as key=value. It uses only the model's, the analysis' and
 * the outputs' public calls, so the same file builds against an older tree
 * (tools/bench/scale_mem.py builds it against main for the ratio).
 *
 * usage: scale_bench N [TICKS [RENDERS]]   (1000 451 5)
 * SCALE_BENCH_DUMP=PREFIX writes the last /metrics and containers JSON to
 * PREFIX.metrics and PREFIX.json, and every history series of the first
 * container and of the node to PREFIX.history (to compare two builds).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "analysis/analysis.h"
#include "model/hist.h"
#include "model/model.h"
#include "outputs/api.h"
#include "outputs/metrics.h"

#define INTERVAL_NS 2000000000ull

static void dump(const char *suffix, const char *body, size_t len)
{
	const char *prefix = getenv("SCALE_BENCH_DUMP");
	char path[512];
	FILE *f;

	if (!prefix)
		return;
	snprintf(path, sizeof(path), "%s.%s", prefix, suffix);
	f = fopen(path, "w");
	if (f) {
		fwrite(body, 1, len, f);
		fclose(f);
	}
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* One tick's worth of a container's life: it wakes twice a second, runs
 * ~20 µs, waits a few µs to tens of µs for a CPU. */
static void live(struct kp_container *k, unsigned int tick, unsigned int i)
{
	unsigned int r = tick * 2654435761u ^ i * 40503u;

	k->t.cpu_ns += 40000 + r % 5000;
	k->t.nvcsw += 2;
	for (int e = 0; e < 2; e++) {
		uint64_t lat = 2000 + (r >> (e * 8)) % 60000;

		k->t.runq_hist[kp_hist_bucket(lat)]++;
		k->t.runq_sum_ns += lat;
	}
	k->mem.files.has_usage = true;
	if (tick % 15 == 0)
		k->mem.files.usage_bytes = 300 * 1024 + (r % 64) * 4096;
}

int main(int argc, char **argv)
{
	unsigned int n = argc > 1 ? (unsigned int)atoi(argv[1]) : 1000;
	unsigned int ticks = argc > 2 ? (unsigned int)atoi(argv[2]) : 451;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	struct kp_analysis_opts o;
	struct kp_model *m = kp_model__new(16);
	struct kp_metrics *mx = kp_metrics__new();
	struct kp_analysis *a;
	struct kp_container *k, *tmp;
	size_t h0 = heap(), h1, h2, len = 0;
	double c0, c_ticks, c_metrics, c_api;
	uint64_t now = INTERVAL_NS;
	char *buf = NULL;
	FILE *f;

	kp_analysis_opts_default(&o, INTERVAL_NS);
	a = kp_analysis__new(&o, now);
	for (unsigned int i = 0; i < n; i++) {
		struct kp_identity id = { .runtime = KP_RT_CGROUP };
		char path[64];

		snprintf(path, sizeof(path), "/kpulse-bench/c%05u", i);
		snprintf(id.name, sizeof(id.name), "%s", path);
		k = kp_model__get(m, 100000 + i);
		kp_model__resolve(m, k, path, &id);
	}
	h1 = heap();
	c0 = cpu_s();
	for (unsigned int t = 0; t < ticks; t++) {
		unsigned int i = 0;

		KP_MODEL_FOR_EACH(m, k, tmp)
			live(k, t, i++);
		now += INTERVAL_NS;
		kp_analysis__update(a, m, now);
	}
	c_ticks = (cpu_s() - c0) / ticks;
	h2 = heap();
	c0 = cpu_s();
	for (int r = 0; r < reps; r++) {
		free(buf);
		buf = NULL;
		f = open_memstream(&buf, &len);
		kp_metrics__render(mx, f, m);
		fclose(f);
	}
	c_metrics = (cpu_s() - c0) / reps;
	printf("metrics_bytes=%zu\n", len);
	dump("metrics", buf, len);
	free(buf);
	c0 = cpu_s();
	for (int r = 0; r < reps; r++) {
		json_t *j = kp_api_containers(m, a, now, NULL);
		char *s = json_dumps(j, JSON_COMPACT);

		len = s ? strlen(s) : 0;
		if (r == reps - 1)
			dump("json", s, len);
		free(s);
		json_decref(j);
	}
	c_api = (cpu_s() - c0) / reps;
	if (getenv("SCALE_BENCH_DUMP")) {
		json_t *all = json_array();
		char *s;

		for (int i = 0; i < KP_S_MAX; i++)
			for (int c = 0; c < 2; c++) {
				const char *err = NULL;
				json_t *j = kp_api_history(m, a, now, kp_series_names[i],
							   c ? "/kpulse-bench/c00000" : NULL, NULL, &err);

				json_array_append_new(all, j ? j : json_string(err));
			}
		s = json_dumps(all, JSON_COMPACT);
		dump("history", s, s ? strlen(s) : 0);
		free(s);
		json_decref(all);
	}
	printf("n=%u\nticks=%u\nheap_model=%zu\nheap_full=%zu\n", n, ticks, h1 - h0, h2 - h0);
	printf("tick_ms=%.3f\nmetrics_ms=%.3f\napi_ms=%.3f\napi_bytes=%zu\n",
	       c_ticks * 1e3, c_metrics * 1e3, c_api * 1e3, len);
	kp_analysis__free(a);
	kp_metrics__free(mx);
	kp_model__free(m);
	return 0;
}
