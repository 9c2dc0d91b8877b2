/* opts.h - command-line value parsing shared by every subcommand: durations
 * ("500ms", "2s", "1m") and counts, with one-line errors. */
#ifndef KPULSE_OPTS_H
#define KPULSE_OPTS_H

/* "500ms", "2s", "1m", "1h", "250us", "10ns", plain "2" (seconds) -> ns;
 * -1 when malformed. */
long long kp_parse_duration(const char *s);

/* Parse @arg for option @flag of command @cmd into *@out, within
 * [@min, @max] (ns for durations). On error prints one line naming the
 * command, the flag and the accepted range, and returns -1. */
int kp_opt_duration(const char *cmd, const char *flag, const char *arg,
		    long long min, long long max, long long *out);
int kp_opt_count(const char *cmd, const char *flag, const char *arg,
		 long min, long max, long *out);

#endif
