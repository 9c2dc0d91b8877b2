/* workload.c - test workloads with known shapes, run inside test cgroups.
 *   workload spin THREADS SECONDS            busy loops (contention when
 *                                            THREADS > cores)
 *   workload sleepy SECONDS PERIOD_US WORK_US  wake every PERIOD_US, burn
 *                                            WORK_US of CPU, sleep again
 *   workload filescan FILE SECONDS           read FILE through the page cache
 *                                            again and again, one thread (in
 *                                            a memory cgroup smaller than
 *                                            FILE: steady reclaim, no OOM)
 *   workload alloc MIB SECONDS               touch MIB MiB of anonymous
 *                                            memory, then hold it SECONDS
 *                                            (over a limit: the OOM killer)
 * Exits 0 after SECONDS; prints nothing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

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
	if (argc == 4 && !strcmp(argv[1], "filescan")) {
		double end = now() + atof(argv[3]);
		static char buf[1 << 20];
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		off_t off = 0;

		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		while (now() < end) {
			ssize_t n = pread(fd, buf, sizeof(buf), off);

			if (n < 0) {
				perror("pread");
				return 1;
			}
			off = n == 0 ? 0 : off + n;
		}
		close(fd);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "alloc")) {
		long mib = atol(argv[2]);
		struct timespec ts = { 0, 100000000 };
		double end;
		long page = sysconf(_SC_PAGESIZE);

		if (mib < 1 || mib > 1 << 20)
			return 64;
		for (long i = 0; i < mib; i++) {
			char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED) {
				perror("mmap");
				return 1;
			}
			for (long o = 0; o < 1 << 20; o += page)
				p[o] = 1;
		}
		end = now() + atof(argv[3]);
		while (now() < end)
			nanosleep(&ts, NULL);
		return 0;
	}
	fprintf(stderr, "usage: workload spin THREADS SECONDS | "
			"workload sleepy SECONDS PERIOD_US WORK_US |\n"
			"       workload filescan FILE SECONDS | workload alloc MIB SECONDS\n");
	return 64;
}
