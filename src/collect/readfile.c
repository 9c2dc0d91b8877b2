/* readfile.c - see readfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "collect/readfile.h"

int kp_read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return (int)r;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return 0;
}
