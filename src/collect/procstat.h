/* procstat.h - the daemon's own process figures (Prometheus process_*). */
#ifndef KPULSE_PROCSTAT_H
#define KPULSE_PROCSTAT_H

#include "model/self.h"

int kp_procstat_read(struct kp_procstat *ps);

#endif
