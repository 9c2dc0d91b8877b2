/* fsread.c - whole-file reads of other programs' files (see fsread.h).
 * A file may grow while it is read; what was read up to EOF is returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "collect/fsread.h"

int kp_read_all(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t cap = 0, n = 0;
	char *b = NULL, *nb;
	ssize_t got;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (n + 1 >= cap) {	/* room for one more byte and the NUL */
			if (cap > max) {
				err = -E2BIG;
				break;
			}
			cap = cap ? 2 * cap : 16384;
			if (cap > max + 2)
				cap = max + 2;
			if (!(nb = realloc(b, cap))) {
				err = -ENOMEM;
				break;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : 0;
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	if (!err && n > max)
		err = -E2BIG;
	if (err) {
		free(b);
		return err;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
