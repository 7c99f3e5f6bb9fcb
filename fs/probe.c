/* probe.c: the prober and the set of paths being probed (see probe.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "partnerfs/clock.h"
#include "partnerfs/log.h"
#include "probe.h"

/* Probes in flight. The prober gives no answer: a probe is taken as done
 * PROBE_MS after it was sent (its lookups take milliseconds; if it was
 * late, the path is offered again after another idle period). */
#define PROBES_MAX 1024
#define PROBE_MS 10000

struct probe {
	char *path;
	long sent_ms;
};

static struct {
	pthread_mutex_t lock;
	struct probe probes[PROBES_MAX];
	size_t count;
	unsigned long sent;
	struct child prober;
} pr = {.lock = PTHREAD_MUTEX_INITIALIZER, .prober = CHILD_INIT};

/* In the prober: the cwd and root of every process it can read (those of
 * the mount's owner, who alone may use the mount unless allow_other),
 * NUL-separated. A batch of probes is one scan of /proc, not one per
 * path: the scan is kept for half a second. */
static const struct buf *process_dirs(void)
{
	static const char *const links[] = {"cwd", "root"};
	static struct buf dirs = BUF_INIT;
	static double read_at = -1;
	double now = clock_mono_s();
	if (read_at >= 0 && now - read_at < 0.5)
		return &dirs;
	read_at = now;
	dirs.len = 0;
	DIR *proc = opendir("/proc");
	struct dirent *d;
	while (proc && (d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		for (size_t i = 0; i < 2; i++) {
			char link[300], target[PATH_MAX];
			snprintf(link, sizeof(link), "/proc/%s/%s", d->d_name,
				 links[i]);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			buf_append(&dirs, target, (size_t)n + 1);
		}
	}
	if (proc)
		closedir(proc);
	return &dirs;
}

/* In the prober. Whether some process works in dir or below it. */
static int in_use_by_a_process(const char *dir)
{
	const struct buf *dirs = process_dirs();
	size_t len = strlen(dir);
	for (size_t off = 0; off < dirs->len;
	     off += strlen(dirs->data + off) + 1) {
		const char *t = dirs->data + off;
		if (strncmp(t, dir, len) == 0 &&
		    (t[len] == '\0' || t[len] == '/'))
			return 1;
	}
	return 0;
}

/* In the prober: one probe. lstat walks to path; its last name has
 * expired in the kernel, which asks again and is told it is gone. */
static void prober_probe(const char *path)
{
	struct stat st;
	if (!in_use_by_a_process(path))
		lstat(path, &st);
}

int probe_init(const char *mountpoint, int fuse_fd)
{
	int err = child_start(&pr.prober, mountpoint, fuse_fd, prober_probe);
	if (err)
		log_warn("cannot start the prober: %s; the kernel's names of "
			 "operations are kept until memory is short",
			 strerror(-err));
	return err;
}

void probe_stop(void)
{
	child_stop(&pr.prober, "prober");
	pthread_mutex_lock(&pr.lock);
	for (size_t i = 0; i < pr.count; i++)
		free(pr.probes[i].path);
	pr.count = 0;
	pthread_mutex_unlock(&pr.lock);
}

static bool probing_locked(const char *path)
{
	for (size_t i = 0; i < pr.count; i++)
		if (strcmp(pr.probes[i].path, path) == 0)
			return true;
	return false;
}

static void remove_locked(size_t i)
{
	free(pr.probes[i].path);
	pr.probes[i] = pr.probes[--pr.count];
}

void probe_paths(const struct buf *paths)
{
	long now = clock_mono_ms();
	pthread_mutex_lock(&pr.lock);
	for (size_t i = pr.count; i-- > 0;)
		if (now - pr.probes[i].sent_ms > PROBE_MS)
			remove_locked(i);
	for (size_t off = 0; paths->data && off < paths->len;
	     off += strlen(paths->data + off) + 1) {
		const char *path = paths->data + off;
		if (pr.count == PROBES_MAX)
			break;
		if (probing_locked(path))
			continue;
		char *copy = strdup(path);
		if (!copy)
			break;
		/* In the set before the prober can look it up. */
		pr.probes[pr.count++] = (struct probe){copy, now};
		if (child_send(&pr.prober, path, true) != 0) {
			remove_locked(pr.count - 1);
			break; /* behind, or gone: offered again later */
		}
		pr.sent++;
	}
	pthread_mutex_unlock(&pr.lock);
}

bool probe_hides(pid_t tid, const char *path)
{
	if (!child_is(&pr.prober, tid))
		return false;
	pthread_mutex_lock(&pr.lock);
	bool hidden = probing_locked(path);
	pthread_mutex_unlock(&pr.lock);
	return hidden;
}

void probe_render_stats(struct buf *out)
{
	pthread_mutex_lock(&pr.lock);
	buf_printf(out, "forget_probes %lu\n", pr.sent);
	pthread_mutex_unlock(&pr.lock);
}
