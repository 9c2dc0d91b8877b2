/* clock.h - the one clock of kpulse. CLOCK_MONOTONIC is what BPF's
 * bpf_ktime_get_ns() reads, so kernel stamps and daemon times compare
 * directly; wall time is only for output. */
#ifndef KPULSE_CLOCK_H
#define KPULSE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t kp_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t kp_now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return kp_ts_ns(&ts);
}

/* CLOCK_REALTIME in ns (unix time). */
static inline uint64_t kp_now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return kp_ts_ns(&ts);
}

#endif
