/* statefile.c: the state file's place and its atomic replacement (see
 * statefile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "partnerfs/hash.h"
#include "statefile.h"

/* A file name from the endpoint: its bytes that are safe in a name, the
 * rest as '_', and a hash of the whole so that two endpoints differing
 * only in unsafe bytes do not share a file. */
static int name_of(const char *endpoint, struct buf *out)
{
	unsigned long long h = hash_str(endpoint);
	int err = 0;
	const char *start = strstr(endpoint, "://");
	start = start ? start + 3 : endpoint;
	for (const char *p = start; *p && !err && p - start < 120; p++) {
		char c = *p;
		int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '.';
		err = buf_append(out, safe ? &c : "_", 1);
	}
	return err ? err : buf_printf(out, "-%016llx.jobs", h);
}

int statefile_path(const char *state_dir, const char *endpoint, struct buf *out)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int err;
	if (state_dir)
		err = buf_printf(out, "%s/", state_dir);
	else if (xdg && xdg[0] == '/')
		err = buf_printf(out, "%s/partnerfs/", xdg);
	else if (home && home[0] == '/')
		err = buf_printf(out, "%s/.local/state/partnerfs/", home);
	else
		return -ENOENT;
	return err ? err : name_of(endpoint, out);
}

int statefile_read(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char chunk[4096];
	size_t n;
	int err = 0;
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = buf_append(out, chunk, n);
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

/* mkdir -p of path's directory, each new level 0700. */
static int make_parents(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return -errno;
			*p = saved;
			if (!saved)
				return 0;
		}
	}
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_dir_of(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = slash == dir ? '/' : '\0';
	if (slash == dir)
		slash[1] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int statefile_write(const char *path, const char *data, size_t len)
{
	char tmp[4200];
	int err = make_parents(path);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, data, len);
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	else
		sync_dir_of(path);
	return err;
}
