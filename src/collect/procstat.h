/* procstat.h - the daemon's own process figures (Prometheus process_*). */
#ifndef KPULSE_PROCSTAT_H
#define KPULSE_PROCSTAT_H

struct kp_procstat {
	double cpu_seconds;
	double rss_bytes;
	double vsize_bytes;
	double open_fds;
	double max_fds;
	double start_time_seconds;	/* since the epoch */
};

int kp_procstat_read(struct kp_procstat *ps);

#endif
