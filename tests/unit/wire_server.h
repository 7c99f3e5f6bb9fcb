/* wire_server: a scripted HTTP/1.1 server on 127.0.0.1 for the wire tests.
 * Each accepted request is recorded verbatim and answered with the next
 * scripted reply, then the connection is closed. Not a libcurl mock: the
 * real transport talks to a real socket. */
#ifndef PARTNERFS_TEST_WIRE_SERVER_H
#define PARTNERFS_TEST_WIRE_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WIRE_MAX 16
#define WIRE_REQ_MAX 16384

enum wire_mode { WIRE_REPLY, WIRE_HANG, WIRE_DROP };

struct wire_reply {
	enum wire_mode mode;
	char text[8192];
};

static struct {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct wire_reply script[WIRE_MAX];
	int nscript;
	int served;
	char reqs[WIRE_MAX][WIRE_REQ_MAX];
} wire = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Reads one request (headers + Content-Length body) into out. */
static int wire_read_request(int c, char *out, size_t size)
{
	size_t len = 0, want = 0;
	const char *end, *cl;
	ssize_t n;

	for (;;) {
		n = read(c, out + len, size - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		out[len] = '\0';
		end = strstr(out, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(out, "\r\ncontent-length:");
		want = (size_t)(end + 4 - out) +
		       (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		if (len >= want || len == size - 1)
			return 0;
	}
}

static void *wire_main(void *arg)
{
	char req[WIRE_REQ_MAX];
	struct wire_reply r;
	struct pollfd p;
	int c, i;

	(void)arg;
	while ((c = accept(wire.fd, NULL, NULL)) >= 0) {
		if (wire_read_request(c, req, sizeof(req)) < 0) {
			close(c);
			continue;
		}
		pthread_mutex_lock(&wire.lock);
		i = wire.served++;
		if (i < WIRE_MAX)
			memcpy(wire.reqs[i], req, sizeof(req));
		if (i < wire.nscript)
			r = wire.script[i];
		else
			snprintf(r.text, sizeof(r.text),
				 "HTTP/1.1 500 Unscripted\r\n"
				 "Content-Length: 0\r\n\r\n");
		if (i >= wire.nscript)
			r.mode = WIRE_REPLY;
		pthread_mutex_unlock(&wire.lock);
		if (r.mode == WIRE_REPLY) {
			if (write(c, r.text, strlen(r.text)) < 0)
				perror("wire write");
		} else if (r.mode == WIRE_HANG) {
			/* Until the client gives up. */
			p.fd = c;
			p.events = POLLIN;
			poll(&p, 1, 10000);
		}
		close(c);
	}
	return NULL;
}

static int wire_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	wire.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (wire.fd < 0 || bind(wire.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(wire.fd, 16) ||
	    getsockname(wire.fd, (struct sockaddr *)&a, &alen))
		return -1;
	wire.port = ntohs(a.sin_port);
	return pthread_create(&wire.thread, NULL, wire_main, NULL) ? -1 : 0;
}

static void wire_stop(void)
{
	shutdown(wire.fd, SHUT_RDWR);
	close(wire.fd);
	pthread_join(wire.thread, NULL);
}

/* Starts a new script: replies are added with wire_add. */
static void wire_reset(void)
{
	pthread_mutex_lock(&wire.lock);
	wire.nscript = 0;
	wire.served = 0;
	memset(wire.reqs, 0, sizeof(wire.reqs));
	pthread_mutex_unlock(&wire.lock);
}

static void wire_add(enum wire_mode mode, int status, const char *headers,
		     const char *body)
{
	struct wire_reply *r;

	pthread_mutex_lock(&wire.lock);
	r = &wire.script[wire.nscript++];
	r->mode = mode;
	snprintf(r->text, sizeof(r->text),
		 "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 status, headers ? headers : "", body ? strlen(body) : 0,
		 body ? body : "");
	pthread_mutex_unlock(&wire.lock);
}

static int wire_served(void)
{
	int n;

	pthread_mutex_lock(&wire.lock);
	n = wire.served;
	pthread_mutex_unlock(&wire.lock);
	return n;
}

/* The body of recorded request i. */
static const char *wire_body(int i)
{
	const char *e = strstr(wire.reqs[i], "\r\n\r\n");

	return e ? e + 4 : "";
}

#endif
