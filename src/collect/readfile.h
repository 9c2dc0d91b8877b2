/* readfile.h - the whole of a small kernel file (cgroup, /proc) in one
 * open, read, close, into the caller's buffer: what every file reader of
 * the collect layer needs before handing bytes to a pure parser. */
#ifndef KPULSE_READFILE_H
#define KPULSE_READFILE_H

#include <stddef.h>

/* NUL-terminated into @buf; -errno on failure. A file longer than
 * @cap - 1 is cut, which the parsers see as garbage. */
int kp_read_small(const char *path, char *buf, size_t cap, size_t *len);

#endif
