/* events.c: the events log (see events.h). It lives in an unlinked file
 * under $TMPDIR: its megabytes are page cache, which the kernel may take
 * back, rather than heap that grows with every change a mount has seen
 * until the bound. Without a file (no writable $TMPDIR, or a write that
 * failed: a full disk) it is kept in memory, with the same bound. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "partnerfs/buf.h"
#include "partnerfs/events.h"
#include "partnerfs/log.h"

/* Past this the older half goes at once (the file shrinks once, which
 * `tail -F` notices and follows). 4 MiB is some 30,000 changes. */
#define EVENTS_MAX ((size_t)4 << 20)

static struct {
	pthread_mutex_t lock;
	int fd;		/* the file; -1 before the first change, -2: none */
	size_t len;	/* of the log, in the file or in mem */
	struct buf mem; /* the log when there is no file */
	time_t mtime;
} ev = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* Under the lock, at the first change. */
static void open_file_locked(void)
{
	const char *dir = getenv("TMPDIR");
	ev.fd = open(dir && *dir ? dir : "/tmp",
		     O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (ev.fd < 0) {
		log_warn("no file for the events log (%s): it is kept in "
			 "memory",
			 strerror(errno));
		ev.fd = -2;
	}
}

/* Under the lock: a copy of the whole log, NUL-terminated, ev.len
 * bytes. NULL when out of memory or the file cannot be read. */
static char *read_locked(void)
{
	char *data = malloc(ev.len + 1);
	if (!data)
		return NULL;
	if (ev.fd < 0 && ev.len)
		memcpy(data, ev.mem.data, ev.len);
	for (size_t off = 0; ev.fd >= 0 && off < ev.len;) {
		ssize_t n = pread(ev.fd, data + off, ev.len - off, (off_t)off);
		if (n <= 0) {
			free(data);
			return NULL;
		}
		off += (size_t)n;
	}
	data[ev.len] = '\0';
	return data;
}

static int write_all_locked(const char *data, size_t len, size_t off)
{
	while (len) {
		ssize_t n = pwrite(ev.fd, data, len, (off_t)off);
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
		off += (size_t)n;
	}
	return 0;
}

/* Under the lock: the file failed. From now on the log is in memory,
 * starting from log (its text, taken over; NULL: what the file holds). */
static void to_memory_locked(char *log, size_t len)
{
	log_warn("the events log's file failed (%s): it is kept in memory",
		 strerror(errno));
	if (!log) {
		log = read_locked();
		len = log ? ev.len : 0;
	}
	close(ev.fd);
	ev.fd = -2;
	buf_free(&ev.mem);
	ev.mem = log ? (struct buf){log, len, len + 1} : (struct buf)BUF_INIT;
	ev.len = ev.mem.len;
}

/* Under the lock: the log without its older half, as one rewrite. */
static void drop_older_half_locked(void)
{
	if (ev.fd < 0) {
		buf_drop_head_lines(&ev.mem, ev.mem.len / 2);
		ev.len = ev.mem.len;
		return;
	}
	struct buf all = {read_locked(), ev.len, ev.len + 1};
	if (!all.data)
		return; /* out of memory: the next change tries again */
	buf_drop_head_lines(&all, all.len / 2);
	if (write_all_locked(all.data, all.len, 0) != 0) {
		/* The file's head is half rewritten: the copy is intact. */
		to_memory_locked(all.data, all.len);
		return;
	}
	ev.len = all.len; /* what lies past it is never read */
	if (ftruncate(ev.fd, (off_t)all.len) != 0)
		log_debug("events: ftruncate: %s", strerror(errno));
	buf_free(&all);
}

void events_append(const char *line)
{
	char stamp[32];
	struct timespec now;
	struct tm tm;
	struct buf text = BUF_INIT;
	/* The time is read under the lock: pollers on several threads append
	 * here, and the log's stamps must not go back. */
	pthread_mutex_lock(&ev.lock);
	if (ev.fd == -1)
		open_file_locked();
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(&text, "%s.%03ldZ %s\n", stamp, now.tv_nsec / 1000000, line);
	if (ev.fd >= 0 && write_all_locked(text.data, text.len, ev.len) != 0)
		to_memory_locked(NULL, 0);
	if (ev.fd >= 0) {
		ev.len += text.len;
	} else {
		buf_append(&ev.mem, text.data, text.len);
		ev.len = ev.mem.len;
	}
	if (ev.len > EVENTS_MAX)
		drop_older_half_locked();
	ev.mtime = now.tv_sec;
	pthread_mutex_unlock(&ev.lock);
	buf_free(&text);
}

int events_show(struct content *out)
{
	pthread_mutex_lock(&ev.lock);
	out->data = read_locked();
	out->len = ev.len;
	out->mtime = ev.mtime ? ev.mtime : node_mount_time;
	pthread_mutex_unlock(&ev.lock);
	return out->data ? 0 : -ENOMEM;
}

void events_cleanup(void)
{
	pthread_mutex_lock(&ev.lock);
	if (ev.fd >= 0)
		close(ev.fd);
	ev.fd = -1;
	ev.len = 0;
	buf_free(&ev.mem);
	pthread_mutex_unlock(&ev.lock);
}
