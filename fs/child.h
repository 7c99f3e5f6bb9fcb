/* child: the daemon's helper processes (the toucher, notify.c; the
 * prober, probe.c). Each does I/O through the mountpoint for the daemon,
 * which no daemon thread may do: a thread blocked in a request on its own
 * mount cannot be ended by SIGKILL (the kernel waits for an answer only
 * the dying daemon could give), a separate process is ended when the
 * connection goes. A child is forked before the daemon has threads, keeps
 * none of its open files but its socket (above all not /dev/fuse, which
 * would keep a killed daemon's connection and mount alive), dies with the
 * daemon, and is handed one path (below the mountpoint) per message.
 * Private to fs/. */
#ifndef PARTNERFS_CHILD_H
#define PARTNERFS_CHILD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

struct child {
	atomic_int pid; /* 0 when none */
	int sock;	/* the daemon's end; -1 when none */
};

#define CHILD_INIT                                                             \
	{                                                                      \
		0, -1                                                          \
	}

/* Forks a child that calls on_path(mountpoint + path) for each path it
 * is sent, until its socket closes. on_path runs in the child. 0 or
 * -errno. */
int child_start(struct child *c, const char *mountpoint, int fuse_fd,
		void (*on_path)(const char *path));
/* Sends path (at most PATH_MAX long) to c. 0, -EAGAIN when nonblock and
 * the child is behind, or another -errno (the child is gone). */
int child_send(struct child *c, const char *path, bool nonblock);
/* Ends c: closing its socket ends it when idle; SIGKILL when it is in a
 * request on the mount, which the kernel ends for a request not yet read
 * by a worker (no worker reads any more). */
void child_stop(struct child *c, const char *what);
/* True when thread tid is c's (its requests carry that pid). */
bool child_is(struct child *c, pid_t tid);

#endif
