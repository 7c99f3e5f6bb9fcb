/* notify.c: the queue of changed paths, the notifier thread that drains
 * it, and the toucher process that replays each change through the
 * mountpoint (see notify.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "partnerfs/clock.h"
#include "partnerfs/events.h"
#include "partnerfs/log.h"
#include "partnerfs/notify.h"

/* Distinct paths waiting for a touch. A change touches 3-4 files, so this
 * is a thousand operations changing at once while the toucher is stuck;
 * past it a touch is dropped (counted) rather than a poller kept waiting. */
#define QUEUE_MAX 4096
#define PATH_MAX_LEN 4096
/* Forget probes in flight; a probe not answered in PROBE_MS is dropped
 * (the toucher was busy: the path is offered again later). */
#define PROBES_MAX 1024
#define PROBE_MS 10000

/* What the toucher is asked, as the first byte of its line. */
enum { TOUCH = 'T', FORGET = 'F' };

struct probe {
	char *path;
	long sent_ms;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;
	char *paths[QUEUE_MAX]; /* queued lines, kind first, oldest first */
	uint64_t hashes[QUEUE_MAX];
	size_t count;
	struct probe probes[PROBES_MAX];
	size_t probe_count;
	unsigned long touched, dropped, forgets;
	int running;
	pthread_t notifier;
	int have_notifier;
	int sock;		/* to the toucher; -1 when none */
	atomic_int toucher_pid; /* 0 when none */
	char *mountpoint;
} nt = {.lock = PTHREAD_MUTEX_INITIALIZER, .sock = -1};

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* One file, through the mount: what an editor saving it would cause. */
static void toucher_touch(const char *path)
{
	static const struct timespec both[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
	static const struct timespec mtime_only[2] = {{0, UTIME_OMIT},
						      {0, UTIME_NOW}};
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	utimensat(AT_FDCWD, path, both, 0);
	utimensat(AT_FDCWD, path, mtime_only, 0);
}

/* A forget probe: a walk to path, whose last name the kernel then asks
 * about again (its entry has expired) and is told it is not there, so it
 * drops its entry and those below it, and forgets their nodes. */
static void toucher_forget(const char *path)
{
	struct stat st;
	lstat(path, &st);
}

/* The toucher: reads "<kind><relative path>\n" lines and touches or
 * probes each below mountpoint, until the daemon closes the socket or
 * dies. Only async-signal-safe calls: it was forked from the daemon. */
static void toucher_main(int sock, const char *mountpoint)
{
	static char line[2 * PATH_MAX_LEN + 2], in[16384];
	size_t base = strlen(mountpoint), used = 0;
	if (base >= PATH_MAX_LEN)
		_exit(1);
	memcpy(line, mountpoint, base);
	for (;;) {
		ssize_t n = read(sock, in + used, sizeof(in) - used);
		if (n <= 0)
			_exit(0);
		used += (size_t)n;
		char *start = in, *nl;
		while ((nl = memchr(start, '\n',
				    used - (size_t)(start - in)))) {
			size_t len = (size_t)(nl - start);
			if (len > 1 && len < PATH_MAX_LEN) {
				memcpy(line + base, start + 1, len - 1);
				line[base + len - 1] = '\0';
				if (*start == FORGET)
					toucher_forget(line);
				else
					toucher_touch(line);
			}
			start = nl + 1;
		}
		used -= (size_t)(start - in);
		memmove(in, start, used);
		if (used == sizeof(in))
			used = 0; /* no line is that long: drop it */
	}
}

/* Forked before the daemon has threads. The child keeps nothing of the
 * daemon's open files: above all not /dev/fuse, which would keep a killed
 * daemon's connection (and its mount) alive. */
static int toucher_start(const char *mountpoint, int fuse_fd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
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
		toucher_main(3, mountpoint);
	}
	close(sv[1]);
	nt.sock = sv[0];
	atomic_store(&nt.toucher_pid, pid);
	return 0;
}

/* Sends the batch to the toucher; a touch is not worth blocking the
 * notifier forever on a toucher that is gone. */
static void notifier_send(char **paths, size_t count)
{
	struct buf lines = BUF_INIT;
	for (size_t i = 0; i < count; i++)
		buf_printf(&lines, "%s\n", paths[i]);
	size_t off = 0;
	while (nt.sock >= 0 && off < lines.len) {
		ssize_t n = send(nt.sock, lines.data + off, lines.len - off,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("the toucher is gone: watchers are no longer "
				 "told of changes");
			break;
		}
		off += (size_t)n;
	}
	buf_free(&lines);
}

static void *notifier_main(void *unused)
{
	(void)unused;
	char *batch[QUEUE_MAX];
	pthread_mutex_lock(&nt.lock);
	while (nt.running) {
		if (!nt.count) {
			pthread_cond_wait(&nt.work, &nt.lock);
			continue;
		}
		size_t count = nt.count;
		memcpy(batch, nt.paths, count * sizeof(char *));
		nt.count = 0;
		for (size_t i = 0; i < count; i++)
			nt.touched += batch[i][0] == TOUCH;
		pthread_mutex_unlock(&nt.lock);
		notifier_send(batch, count);
		for (size_t i = 0; i < count; i++)
			free(batch[i]);
		pthread_mutex_lock(&nt.lock);
	}
	pthread_mutex_unlock(&nt.lock);
	return NULL;
}

int notify_init(const char *mountpoint, int fuse_fd)
{
	nt.mountpoint = strdup(mountpoint);
	if (!nt.mountpoint)
		return -ENOMEM;
	int err = toucher_start(mountpoint, fuse_fd);
	if (err) {
		log_warn("cannot start the toucher: %s; watchers will not be "
			 "told of changes",
			 strerror(-err));
		return err;
	}
	nt.running = 1;
	err = -pthread_create(&nt.notifier, NULL, notifier_main, NULL);
	nt.have_notifier = err == 0;
	return err;
}

/* Ends the toucher: closing its socket ends it when it is idle; SIGKILL
 * when it is in a request on the mount, which the kernel ends for a
 * request not yet read by a worker (no worker reads any more). */
static void toucher_stop(void)
{
	pid_t pid = atomic_exchange(&nt.toucher_pid, 0);
	if (nt.sock >= 0)
		close(nt.sock);
	nt.sock = -1;
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		usleep(10000);
	}
	log_warn("the toucher (pid %d) did not end", (int)pid);
}

void notify_stop(void)
{
	pthread_mutex_lock(&nt.lock);
	nt.running = 0;
	pthread_cond_broadcast(&nt.work);
	pthread_mutex_unlock(&nt.lock);
	if (nt.have_notifier)
		pthread_join(nt.notifier, NULL);
	nt.have_notifier = 0;
	toucher_stop();
}

void notify_cleanup(void)
{
	pthread_mutex_lock(&nt.lock);
	for (size_t i = 0; i < nt.count; i++)
		free(nt.paths[i]);
	nt.count = 0;
	for (size_t i = 0; i < nt.probe_count; i++)
		free(nt.probes[i].path);
	nt.probe_count = 0;
	free(nt.mountpoint);
	nt.mountpoint = NULL;
	pthread_mutex_unlock(&nt.lock);
	events_cleanup();
}

bool notify_is_toucher(pid_t tid)
{
	pid_t pid = atomic_load(&nt.toucher_pid);
	return tid != 0 && pid != 0 && tid == pid;
}

static bool notify_probing_locked(const char *path)
{
	for (size_t i = 0; i < nt.probe_count; i++)
		if (strcmp(nt.probes[i].path, path) == 0)
			return true;
	return false;
}

static void probe_remove_locked(size_t i)
{
	free(nt.probes[i].path);
	nt.probes[i] = nt.probes[--nt.probe_count];
}

/* Under the lock. A touch below (or of) a path being probed ends the
 * probe first: the toucher must find the files it touches. */
static void probes_end_under_locked(const char *path)
{
	for (size_t i = nt.probe_count; i-- > 0;) {
		size_t len = strlen(nt.probes[i].path);
		if (strncmp(path, nt.probes[i].path, len) == 0 &&
		    (path[len] == '\0' || path[len] == '/'))
			probe_remove_locked(i);
	}
}

/* Under the lock. A line already waiting is not queued again. 0, or -1
 * when the queue is full. */
static int queue_line_locked(char kind, const char *path)
{
	char line[PATH_MAX_LEN + 2];
	if (snprintf(line, sizeof(line), "%c%s", kind, path) >=
	    (int)sizeof(line))
		return 0; /* no such path below a mountpoint */
	uint64_t h = hash_path(line);
	for (size_t i = 0; i < nt.count; i++)
		if (nt.hashes[i] == h && strcmp(nt.paths[i], line) == 0)
			return 0;
	char *copy = nt.count < QUEUE_MAX ? strdup(line) : NULL;
	if (!copy)
		return -1;
	nt.paths[nt.count] = copy;
	nt.hashes[nt.count++] = h;
	return 0;
}

static void queue_path_locked(const char *path)
{
	probes_end_under_locked(path);
	if (queue_line_locked(TOUCH, path) != 0)
		nt.dropped++;
}

void notify_changed(const struct buf *events, const struct buf *paths)
{
	for (size_t off = 0; events->data && off < events->len;
	     off += strlen(events->data + off) + 1) {
		log_info("%s", events->data + off);
		events_append(events->data + off);
	}
	pthread_mutex_lock(&nt.lock);
	if (nt.running) {
		for (size_t off = 0; paths->data && off < paths->len;
		     off += strlen(paths->data + off) + 1)
			queue_path_locked(paths->data + off);
		queue_path_locked("/events");
		pthread_cond_signal(&nt.work);
	}
	pthread_mutex_unlock(&nt.lock);
}

void notify_forget(const struct buf *paths)
{
	long now = clock_mono_ms();
	pthread_mutex_lock(&nt.lock);
	for (size_t i = nt.probe_count; i-- > 0;)
		if (now - nt.probes[i].sent_ms > PROBE_MS)
			probe_remove_locked(i);
	for (size_t off = 0; nt.running && paths->data && off < paths->len;
	     off += strlen(paths->data + off) + 1) {
		const char *path = paths->data + off;
		if (nt.probe_count == PROBES_MAX || notify_probing_locked(path))
			continue;
		char *copy = strdup(path);
		if (!copy || queue_line_locked(FORGET, path) != 0) {
			free(copy);
			break;
		}
		nt.probes[nt.probe_count++] = (struct probe){copy, now};
		nt.forgets++;
	}
	pthread_cond_signal(&nt.work);
	pthread_mutex_unlock(&nt.lock);
}

bool notify_hides(pid_t tid, const char *path)
{
	if (!notify_is_toucher(tid))
		return false;
	pthread_mutex_lock(&nt.lock);
	bool hidden = notify_probing_locked(path);
	pthread_mutex_unlock(&nt.lock);
	return hidden;
}

void notify_stats(unsigned long *queued, unsigned long *touched,
		  unsigned long *dropped, unsigned long *forgets)
{
	pthread_mutex_lock(&nt.lock);
	*queued = nt.count;
	*touched = nt.touched;
	*dropped = nt.dropped;
	*forgets = nt.forgets;
	pthread_mutex_unlock(&nt.lock);
}
