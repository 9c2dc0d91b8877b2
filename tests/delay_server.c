/* delay_server.c - HTTP/1.1 keep-alive test server that answers every
 * request after a known delay, and counts what it did so tests can check
 * kpulse's figures against it.
 *
 *   delay_server [-a ADDR] [-p PORT] [-d DELAY_MS] [-b BODY_BYTES] [-l]
 *
 * -l (read late): the delay is spent before reading each request instead
 * of before answering it, so the request waits DELAY_MS unread in the
 * socket and is answered as soon as it is read.
 *
 * Prints "listening PORT" once bound (port 0 picks a free one). On SIGTERM
 * or SIGINT prints one line of totals and exits 0:
 *   requests N connections N rx_bytes N tx_bytes N
 * rx_bytes and tx_bytes count what read() returned and write() accepted,
 * which is exactly what the socket layer saw. One thread per connection:
 * the delay is a plain sleep between reading a request and answering it.
 * Pipelined requests are answered in order, each after its own delay.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 16384

static long delay_ms = 20;
static bool read_late;
static size_t body_len = 64;
static char *response;
static size_t response_len;

static atomic_ullong n_requests, n_conns, rx_bytes, tx_bytes;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		tx_bytes += (unsigned long long)w;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Length of the complete request at the start of buf (headers and a
 * Content-Length body), 0 when more bytes are needed, -1 when malformed.
 * Sets *close_after when the client asked for Connection: close. */
static long request_len(const char *buf, size_t n, bool *close_after)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	const char *line, *next;
	long body = 0;

	if (!end)
		return n >= BUF_SIZE ? -1 : 0;
	for (line = buf; line < end; line = next + 2) {
		next = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		if (!next)
			break;
		if (!strncasecmp(line, "Content-Length:", 15))
			body = strtol(line + 15, NULL, 10);
		else if (!strncasecmp(line, "Connection:", 11) &&
			 memmem(line, (size_t)(next - line), "close", 5))
			*close_after = true;
	}
	if (body < 0 || body > BUF_SIZE)
		return -1;
	if ((size_t)(end + 4 - buf) + (size_t)body > n)
		return 0;
	return (long)(end + 4 - buf) + body;
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	char *buf = malloc(2 * BUF_SIZE);
	size_t have = 0;
	bool close_after = false;

	while (buf && !close_after) {
		long len = request_len(buf, have, &close_after);
		ssize_t r;

		if (len < 0)
			break;
		if (len > 0) {
			if (!read_late)
				sleep_ms(delay_ms);
			if (!write_all(fd, response, response_len))
				break;
			n_requests++;
			memmove(buf, buf + len, have - (size_t)len);
			have -= (size_t)len;
			continue;
		}
		if (read_late && !have)
			sleep_ms(delay_ms);	/* the next request waits unread */
		r = read(fd, buf + have, 2 * BUF_SIZE - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		rx_bytes += (unsigned long long)r;
		have += (size_t)r;
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int lfd = (int)(long)arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			perror("delay_server: accept");
			exit(1);
		}
		n_conns++;
		if (pthread_create(&t, &attr, serve, (void *)(long)fd)) {
			close(fd);
			continue;
		}
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: delay_server [-a ADDR] [-p PORT] [-d DELAY_MS] [-b BODY_BYTES] [-l]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	const char *addr = "127.0.0.1";
	int port = 0, opt, lfd, one = 1, sig;
	sigset_t set;
	pthread_t t;
	int hlen;

	while ((opt = getopt(argc, argv, "a:p:d:b:l")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'd': delay_ms = atol(optarg); break;
		case 'b': body_len = strtoul(optarg, NULL, 10); break;
		case 'l': read_late = true; break;
		default: usage();
		}
	}
	if (port < 0 || port > 65535 || delay_ms < 0 || body_len > (1u << 20) ||
	    inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		usage();

	hlen = snprintf(NULL, 0, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			"Content-Length: %zu\r\n\r\n", body_len);
	response_len = (size_t)hlen + body_len;
	response = malloc(response_len + 1);
	if (!response)
		return 1;
	snprintf(response, (size_t)hlen + 1, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		 "Content-Length: %zu\r\n\r\n", body_len);
	memset(response + hlen, 'x', body_len);

	/* every thread inherits the mask; only main takes the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	sa.sin_port = htons((unsigned short)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1024) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen)) {
		perror("delay_server: listen");
		return 1;
	}
	printf("listening %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	if (pthread_create(&t, NULL, accept_loop, (void *)(long)lfd))
		return 1;
	sigwait(&set, &sig);
	printf("requests %llu connections %llu rx_bytes %llu tx_bytes %llu\n",
	       (unsigned long long)n_requests, (unsigned long long)n_conns,
	       (unsigned long long)rx_bytes, (unsigned long long)tx_bytes);
	fflush(stdout);
	_exit(0);
}
