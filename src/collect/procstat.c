/* procstat.c - reads /proc/self for process_* metrics, as the Prometheus
 * client libraries define them. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include "collect/procstat.h"

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	double bt = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

int kp_procstat_read(struct kp_procstat *ps)
{
	unsigned long long utime, stime, start, vsize;
	long long rss;
	char buf[1024], *p;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *de;
	FILE *f;
	DIR *d;
	int n;

	memset(ps, 0, sizeof(*ps));
	f = fopen("/proc/self/stat", "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
			 "%*d %*d %*d %*d %*d %*d %llu %llu %lld",
			 &utime, &stime, &start, &vsize, &rss) != 5)
		return -EINVAL;
	ps->cpu_seconds = (double)(utime + stime) / tck;
	ps->start_time_seconds = boot_time() + (double)start / tck;
	ps->vsize_bytes = (double)vsize;
	ps->rss_bytes = (double)rss * page;
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				ps->open_fds++;
		closedir(d);
		ps->open_fds--;	/* the directory stream itself */
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		ps->max_fds = (double)rl.rlim_cur;
	return 0;
}
