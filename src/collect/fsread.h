/* fsread.h - a whole file of another program (a container runtime's
 * JSON) into a malloc'ed buffer; small kernel files go through
 * readfile.h. Errors are negative errno and are not logged here (the
 * caller knows whether a missing file is news). */
#ifndef KPULSE_FSREAD_H
#define KPULSE_FSREAD_H

#include <stddef.h>

/* The whole file into a malloc'ed, NUL-terminated *@buf of *@len bytes;
 * -E2BIG past @max bytes (nothing is returned then). */
int kp_read_all(const char *path, size_t max, char **buf, size_t *len);

#endif
