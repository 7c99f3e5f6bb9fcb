/* child.c: forking, feeding and ending the helper processes (see
 * child.h). One path per SOCK_SEQPACKET message: a message is queued
 * whole or not at all, so a sender that may not wait (nonblock) never
 * leaves half a path in the stream. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "partnerfs/log.h"

/* Reads a path per message and hands on_path the full one, until the
 * daemon closes the socket or dies. */
static void child_main(int sock, const char *mountpoint,
		       void (*on_path)(const char *path))
{
	static char full[2 * PATH_MAX + 2];
	size_t base = strlen(mountpoint);
	if (base >= PATH_MAX)
		_exit(1);
	memcpy(full, mountpoint, base);
	for (;;) {
		ssize_t n = recv(sock, full + base, PATH_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		full[base + (size_t)n] = '\0';
		on_path(full);
	}
}

int child_start(struct child *c, const char *mountpoint, int fuse_fd,
		void (*on_path)(const char *path))
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		close(fuse_fd);
		if (dup2(sv[1], 3) != 3)
			_exit(1);
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
		child_main(3, mountpoint, on_path);
	}
	close(sv[1]);
	c->sock = sv[0];
	atomic_store(&c->pid, pid);
	return 0;
}

int child_send(struct child *c, const char *path, bool nonblock)
{
	size_t len = strlen(path);
	if (len == 0 || len >= PATH_MAX)
		return -ENAMETOOLONG;
	for (;;) {
		if (c->sock < 0)
			return -EPIPE;
		ssize_t n = send(c->sock, path, len,
				 MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

void child_stop(struct child *c, const char *what)
{
	pid_t pid = atomic_exchange(&c->pid, 0);
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	log_warn("the %s (pid %d) did not end", what, (int)pid);
}

bool child_is(struct child *c, pid_t tid)
{
	pid_t pid = atomic_load(&c->pid);
	return tid != 0 && pid != 0 && tid == pid;
}
