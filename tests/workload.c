/* workload.c - test workloads with known shapes, run inside test cgroups.
 *   workload spin THREADS SECONDS            busy loops (contention when
 *                                            THREADS > cores)
 *   workload sleepy SECONDS PERIOD_US WORK_US  wake every PERIOD_US, burn
 *                                            WORK_US of CPU, sleep again
 * Exits 0 after SECONDS; prints nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double secs;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spin(void *arg)
{
	double end = now() + secs;
	volatile unsigned long x = 0;

	(void)arg;
	while (now() < end)
		for (int i = 0; i < 10000; i++)
			x++;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "spin")) {
		int n = atoi(argv[2]);
		pthread_t t[256];

		secs = atof(argv[3]);
		if (n < 1 || n > 256)
			return 64;
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, spin, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "sleepy")) {
		double end = now() + atof(argv[2]);
		long period = atol(argv[3]), work = atol(argv[4]);
		struct timespec ts = { period / 1000000, (period % 1000000) * 1000 };

		while (now() < end) {
			double stop = now() + work / 1e6;

			while (now() < stop)
				;
			nanosleep(&ts, NULL);
		}
		return 0;
	}
	fprintf(stderr, "usage: workload spin THREADS SECONDS | "
			"workload sleepy SECONDS PERIOD_US WORK_US\n");
	return 64;
}
