/* log.c - the verbosity switch shared by every module (-v). */
#include "log.h"

int kp_verbose;
