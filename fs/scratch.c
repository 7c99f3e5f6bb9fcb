/* scratch.c: the store of scratch files and of marks, as two short lists
 * under one mutex. At most SCRATCH_FILES_MAX ordinary files and
 * SCRATCH_KEPT_MAX kept copies are alive, and a mark
 * lives SCRATCH_MARK_TTL seconds, so a walk of either list is cheap. A
 * file that loses its name (unlink, a rename onto a document) stays alive
 * while a handle holds it, as an unlinked local file does, and still
 * counts: unlinking open files must not get round the cap. The list holds
 * every live file, so that scratch_cleanup frees those of handles the
 * kernel never released. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/scratch.h"

struct scratch {
	char *path; /* NULL once no longer named */
	unsigned refs;
	char *data;
	size_t len, cap;
	struct scratch_attr attr;
	int dirty;
	struct scratch *next; /* files */
};

struct mark {
	struct timespec at; /* CLOCK_MONOTONIC */
	struct mark *next;
	char path[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *files;
static size_t nfiles; /* of which kept copies: */
static size_t nkept;
static struct mark *marks;

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static void scratch_free(struct scratch *s)
{
	free(s->path);
	free(s->data);
	free(s);
}

static struct scratch **find(const char *path)
{
	struct scratch **p = &files;
	while (*p && (!(*p)->path || strcmp((*p)->path, path) != 0))
		p = &(*p)->next;
	return p;
}

/* Drops a reference; the last one takes s off the list. Under lock. */
static void drop(struct scratch *s)
{
	if (--s->refs)
		return;
	struct scratch **p = &files;
	while (*p != s)
		p = &(*p)->next;
	*p = s->next;
	nfiles--;
	if (s->attr.kept)
		nkept--;
	scratch_free(s);
}

/* s loses its name and the reference the name held. Under lock. */
static void unname(struct scratch *s)
{
	free(s->path);
	s->path = NULL;
	drop(s);
}

/* Grows s to hold len bytes, the new ones zero. Under lock. */
static int reserve(struct scratch *s, size_t len)
{
	if (len > SCRATCH_SIZE_MAX)
		return -ENOSPC;
	if (len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < len)
			cap *= 2;
		if (cap > SCRATCH_SIZE_MAX)
			cap = SCRATCH_SIZE_MAX;
		char *d = realloc(s->data, cap);
		if (!d)
			return -ENOMEM;
		s->data = d;
		s->cap = cap;
	}
	if (len > s->len)
		memset(s->data + s->len, 0, len - s->len);
	return 0;
}

static void touch(struct scratch *s)
{
	now(&s->attr.mtime);
	s->attr.ctime = s->attr.mtime;
	s->dirty = 1;
}

int scratch_create(const char *path, mode_t mode, uid_t uid, gid_t gid,
		   const char *data, size_t len, int replaces,
		   struct scratch **out)
{
	struct scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	int err = s->path ? reserve(s, len) : -ENOMEM;
	if (err) {
		scratch_free(s);
		return err;
	}
	if (len)
		memcpy(s->data, data, len);
	s->len = len;
	s->refs = 2; /* the list's and the caller's */
	s->attr.mode = mode & 07777;
	s->attr.uid = uid;
	s->attr.gid = gid;
	s->attr.replaces = replaces;
	now(&s->attr.mtime);
	s->attr.atime = s->attr.ctime = s->attr.mtime;
	pthread_mutex_lock(&lock);
	if (*find(path))
		err = -EEXIST;
	else if (nfiles - nkept >= SCRATCH_FILES_MAX)
		err = -ENOSPC;
	if (!err) {
		s->next = files;
		files = s;
		nfiles++;
	}
	pthread_mutex_unlock(&lock);
	if (err) {
		scratch_free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* The bytes, mode and owner of kept copy s become those given. Under
 * lock. */
static int refill(struct scratch *s, mode_t mode, uid_t uid, gid_t gid,
		  const char *data, size_t len)
{
	int err = reserve(s, len); /* refused: s is left as it was */
	if (err)
		return err;
	if (len)
		memcpy(s->data, data, len);
	s->len = len;
	s->attr.mode = mode & 07777;
	s->attr.uid = uid;
	s->attr.gid = gid;
	touch(s);
	return 0;
}

int scratch_keep(const char *path, mode_t mode, uid_t uid, gid_t gid,
		 const char *data, size_t len)
{
	struct scratch *s = NULL;
	int err;

	pthread_mutex_lock(&lock);
	struct scratch *old = *find(path);
	if (old && (old->attr.uid != uid || old->attr.replaces)) {
		err = -EEXIST;
	} else if (old) {
		/* The writer's own file there: the copy kept before, or what
		 * an editor saved of it by rename (an ordinary file now). */
		err = !old->attr.kept && nkept >= SCRATCH_KEPT_MAX
			      ? -ENOSPC
			      : refill(old, mode, uid, gid, data, len);
		if (!err && !old->attr.kept) {
			old->attr.kept = 1;
			nkept++;
		}
	} else if (nkept >= SCRATCH_KEPT_MAX) {
		err = -ENOSPC;
	} else if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		err = -ENOMEM;
	} else {
		s->attr.kept = 1;
		s->refs = 1; /* the name's */
		err = refill(s, mode, uid, gid, data, len);
		if (!err) {
			s->attr.ctime = s->attr.atime = s->attr.mtime;
			s->next = files;
			files = s;
			nfiles++;
			nkept++;
			s = NULL;
		}
	}
	pthread_mutex_unlock(&lock);
	if (s)
		scratch_free(s);
	return err;
}

int scratch_keep_file(struct scratch *s, const char *from, const char *path,
		      mode_t mode)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int err = 0;
	pthread_mutex_lock(&lock);
	struct scratch *old = *find(path);
	/* A kept copy there that nobody holds goes with its name: its
	 * place in the budget is free. */
	int frees = old && old->attr.kept && old->refs == 1;
	if (!s->path || strcmp(s->path, from) != 0 || !s->attr.replaces)
		err = -ENOENT;
	else if (old && (old->attr.uid != s->attr.uid || old->attr.replaces))
		err = -EEXIST;
	else if (nkept - (size_t)frees >= SCRATCH_KEPT_MAX)
		err = -ENOSPC;
	if (!err) {
		if (old)
			unname(old);
		free(s->path);
		s->path = copy;
		copy = NULL;
		s->attr.replaces = 0;
		s->attr.mode = mode & 07777;
		if (!s->attr.kept) {
			s->attr.kept = 1;
			nkept++;
		}
		now(&s->attr.ctime);
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	return err;
}

struct scratch *scratch_get(const char *path)
{
	pthread_mutex_lock(&lock);
	struct scratch *s = *find(path);
	if (s)
		s->refs++;
	pthread_mutex_unlock(&lock);
	return s;
}

void scratch_ref(struct scratch *s)
{
	pthread_mutex_lock(&lock);
	s->refs++;
	pthread_mutex_unlock(&lock);
}

void scratch_put(struct scratch *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&lock);
	drop(s);
	pthread_mutex_unlock(&lock);
}

int scratch_remove(const char *path)
{
	pthread_mutex_lock(&lock);
	struct scratch *s = *find(path);
	int err = s ? 0 : -ENOENT;
	if (s)
		unname(s);
	pthread_mutex_unlock(&lock);
	return err;
}

int scratch_move(const char *from, const char *to)
{
	char *copy = strdup(to);
	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	int err = 0;
	if (!*find(from)) {
		err = -ENOENT;
	} else if (strcmp(from, to) != 0) {
		struct scratch *t = *find(to);
		if (t)
			unname(t);
		struct scratch *s = *find(from);
		free(s->path);
		s->path = copy;
		copy = NULL;
		/* Under another name it replaces nothing any more. */
		s->attr.replaces = 0;
		now(&s->attr.ctime);
	}
	pthread_mutex_unlock(&lock);
	free(copy);
	return err;
}

int scratch_path(struct scratch *s, char *buf, size_t size)
{
	pthread_mutex_lock(&lock);
	int err = -ENOENT;
	if (s->path) {
		size_t len = strlen(s->path);
		err = len < size ? 0 : -ENAMETOOLONG;
		if (!err)
			memcpy(buf, s->path, len + 1);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

void scratch_unname(struct scratch *s)
{
	pthread_mutex_lock(&lock);
	if (s->path)
		unname(s);
	pthread_mutex_unlock(&lock);
}

size_t scratch_read_at(struct scratch *s, char *buf, size_t size, off_t off)
{
	size_t n = 0;
	pthread_mutex_lock(&lock);
	if (off >= 0 && (size_t)off < s->len) {
		n = s->len - (size_t)off;
		if (n > size)
			n = size;
		memcpy(buf, s->data + off, n);
	}
	now(&s->attr.atime);
	pthread_mutex_unlock(&lock);
	return n;
}

int scratch_write_at(struct scratch *s, const char *data, size_t size,
		     off_t off)
{
	if (off < 0 || (size_t)off > SCRATCH_SIZE_MAX ||
	    size > SCRATCH_SIZE_MAX - (size_t)off)
		return -ENOSPC;
	size_t end = (size_t)off + size;
	pthread_mutex_lock(&lock);
	int err = reserve(s, end);
	if (!err) {
		memcpy(s->data + off, data, size);
		if (end > s->len)
			s->len = end;
		touch(s);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int scratch_truncate(struct scratch *s, off_t size)
{
	if (size < 0)
		return -EINVAL;
	if ((unsigned long long)size > SCRATCH_SIZE_MAX)
		return -ENOSPC;
	pthread_mutex_lock(&lock);
	int err = reserve(s, (size_t)size);
	if (!err) {
		s->len = (size_t)size;
		touch(s);
	}
	pthread_mutex_unlock(&lock);
	return err;
}

int scratch_copy(struct scratch *s, char **data, size_t *len)
{
	pthread_mutex_lock(&lock);
	char *d = malloc(s->len + 1);
	if (d) {
		if (s->len)
			memcpy(d, s->data, s->len);
		d[s->len] = '\0';
		*len = s->len;
	}
	pthread_mutex_unlock(&lock);
	*data = d;
	return d ? 0 : -ENOMEM;
}

int scratch_take_dirty(struct scratch *s)
{
	pthread_mutex_lock(&lock);
	int dirty = s->dirty;
	s->dirty = 0;
	pthread_mutex_unlock(&lock);
	return dirty;
}

void scratch_stat(struct scratch *s, struct scratch_attr *out)
{
	pthread_mutex_lock(&lock);
	*out = s->attr;
	out->size = s->len;
	out->named = s->path != NULL;
	pthread_mutex_unlock(&lock);
}

void scratch_set_mode(struct scratch *s, mode_t mode)
{
	pthread_mutex_lock(&lock);
	s->attr.mode = mode & 07777;
	now(&s->attr.ctime);
	pthread_mutex_unlock(&lock);
}

void scratch_set_owner(struct scratch *s, uid_t uid, gid_t gid)
{
	pthread_mutex_lock(&lock);
	s->attr.uid = uid;
	s->attr.gid = gid;
	now(&s->attr.ctime);
	pthread_mutex_unlock(&lock);
}

void scratch_set_times(struct scratch *s, const struct timespec *atime,
		       const struct timespec *mtime)
{
	pthread_mutex_lock(&lock);
	if (atime)
		s->attr.atime = *atime;
	if (mtime)
		s->attr.mtime = *mtime;
	now(&s->attr.ctime);
	pthread_mutex_unlock(&lock);
}

/* The last component of path when path is directly in dir, else NULL. */
static const char *name_in(const char *path, const char *dir)
{
	size_t dlen = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
	if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/')
		return NULL;
	const char *name = path + dlen + 1;
	return *name && !strchr(name, '/') ? name : NULL;
}

int scratch_list(const char *dir, int (*fill)(void *ctx, const char *name),
		 void *ctx)
{
	/* fill() runs outside the lock: copy the names first. */
	char *names[SCRATCH_FILES_MAX + SCRATCH_KEPT_MAX];
	size_t n = 0;
	int err = 0;
	pthread_mutex_lock(&lock);
	for (struct scratch *s = files; s && n < sizeof(names) / sizeof(*names);
	     s = s->next) {
		const char *name = s->path ? name_in(s->path, dir) : NULL;
		if (!name || s->attr.replaces)
			continue;
		if (!(names[n] = strdup(name))) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = fill(ctx, names[i]);
		free(names[i]);
	}
	return err;
}

static int expired(const struct mark *m, const struct timespec *t)
{
	return t->tv_sec - m->at.tv_sec > SCRATCH_MARK_TTL ||
	       (t->tv_sec - m->at.tv_sec == SCRATCH_MARK_TTL &&
		t->tv_nsec >= m->at.tv_nsec);
}

/* Drops the expired marks; the mark of path (if any) when unmark_path, or
 * those directly in dir. Returns whether path was marked. Under lock. */
static int sweep(const char *path, int unmark_path, const char *dir)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	int found = 0;
	for (struct mark **p = &marks; *p;) {
		struct mark *m = *p;
		int hit = path && strcmp(m->path, path) == 0 && !expired(m, &t);
		if (hit)
			found = 1;
		if (expired(m, &t) || (hit && unmark_path) ||
		    (dir && name_in(m->path, dir))) {
			*p = m->next;
			free(m);
		} else {
			p = &m->next;
		}
	}
	return found;
}

void scratch_mark(const char *path)
{
	size_t len = strlen(path);
	struct mark *m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return; /* the document just stays visible */
	clock_gettime(CLOCK_MONOTONIC, &m->at);
	memcpy(m->path, path, len + 1);
	pthread_mutex_lock(&lock);
	sweep(path, 1, NULL);
	m->next = marks;
	marks = m;
	pthread_mutex_unlock(&lock);
}

int scratch_marked(const char *path)
{
	pthread_mutex_lock(&lock);
	int found = sweep(path, 0, NULL);
	pthread_mutex_unlock(&lock);
	return found;
}

int scratch_unmark(const char *path)
{
	pthread_mutex_lock(&lock);
	int found = sweep(path, 1, NULL);
	pthread_mutex_unlock(&lock);
	return found;
}

void scratch_unmark_dir(const char *dir)
{
	pthread_mutex_lock(&lock);
	sweep(NULL, 0, dir);
	pthread_mutex_unlock(&lock);
}

void scratch_cleanup(void)
{
	pthread_mutex_lock(&lock);
	while (files) {
		struct scratch *s = files;
		files = s->next;
		scratch_free(s);
	}
	nfiles = nkept = 0;
	while (marks) {
		struct mark *m = marks;
		marks = m->next;
		free(m);
	}
	pthread_mutex_unlock(&lock);
}

size_t scratch_count(void)
{
	pthread_mutex_lock(&lock);
	size_t n = nfiles;
	pthread_mutex_unlock(&lock);
	return n;
}
