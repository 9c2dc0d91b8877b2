/* log.c - the verbosity switch shared by every module (-v), and the one
 * function every log line goes through (text or JSON). */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <jansson.h>
#include "base/log.h"

int kp_verbose;
int kp_log_json;

void kp_log(const char *level, const char *fmt, ...)
{
	char msg[2048], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;
	json_t *j;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!kp_log_json) {
		fprintf(stderr, "kpulse: %s\n", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 now.tv_nsec / 1000000);
	j = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level, "msg", msg);
	s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (s)
		fprintf(stderr, "%s\n", s);
	else
		fprintf(stderr, "kpulse: %s\n", msg);
	free(s);
	json_decref(j);
}
