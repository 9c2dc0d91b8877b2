/* churn.c - short-lived cgroups, as a batch host or a CI runner makes them:
 *
 *   churn DIR COUNT WORKERS TASK_US [PORT]
 *
 * makes COUNT cgroups DIR/c<i>, each with one task that burns TASK_US
 * microseconds of CPU (and, with PORT, connects to 127.0.0.1:PORT and sends
 * a byte every tenth task, so the cgroup has a TCP socket), then exits; the
 * cgroup is removed as soon as the task is reaped. WORKERS processes share
 * the work. The task starts in its cgroup (clone3 CLONE_INTO_CGROUP), so
 * its whole life is charged there. Prints "id N" with each cgroup's id (its
 * directory's inode number) and at the end "churned N in S s"; exits 1
 * when a cgroup could not be made or removed (what was made is removed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void burn(long us)
{
	double end = now() + us / 1e6;

	while (now() < end)
		;
}

static void poke(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)))
		(void)!write(fd, "x", 1);
	if (fd >= 0)
		close(fd);
}

/* One cgroup's life; 0, or -1 with a message. */
static int one(const char *dir, long i, long task_us, int port)
{
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	char path[4096], line[32];
	struct stat st;
	long pid;
	int fd, ws, n;

	snprintf(path, sizeof(path), "%s/c%ld", dir, i);
	if (mkdir(path, 0755)) {
		fprintf(stderr, "churn: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "churn: open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		rmdir(path);
		return -1;
	}
	/* one write per line: workers' lines never mix */
	n = snprintf(line, sizeof(line), "id %llu\n", (unsigned long long)st.st_ino);
	(void)!write(STDOUT_FILENO, line, (size_t)n);
	ca.cgroup = (uint64_t)fd;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		burn(task_us);
		if (port && i % 10 == 0)
			poke(port);
		_exit(0);
	}
	close(fd);
	if (pid < 0) {
		fprintf(stderr, "churn: clone3: %s\n", strerror(errno));
		rmdir(path);
		return -1;
	}
	waitpid((pid_t)pid, &ws, 0);
	for (int tries = 0; rmdir(path); tries++) {
		if (errno != EBUSY || tries > 1000) {
			fprintf(stderr, "churn: rmdir %s: %s\n", path, strerror(errno));
			return -1;
		}
		usleep(100);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long count, workers, task_us;
	int port = 0, rc = 0, st;
	double t0 = now();

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: churn DIR COUNT WORKERS TASK_US [PORT]\n");
		return 2;
	}
	count = atol(argv[2]);
	workers = atol(argv[3]);
	task_us = atol(argv[4]);
	if (argc == 6)
		port = atoi(argv[5]);
	if (count < 0 || workers < 1 || task_us < 0) {
		fprintf(stderr, "churn: bad numbers\n");
		return 2;
	}
	for (long w = 0; w < workers; w++) {
		pid_t p = fork();

		if (p < 0) {
			perror("churn: fork");
			rc = 1;
			break;
		}
		if (p == 0) {
			for (long i = w; i < count; i += workers)
				if (one(argv[1], i, task_us, port))
					_exit(1);
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	printf("churned %ld in %.2f s\n", count, now() - t0);
	fflush(stdout);
	return rc;
}
