/* scratch: the in-memory files a mount keeps beside its writable
 * documents, so that tools which save by "write a new file, rename it over
 * the old one" (sed -i, perl -pi, editors, rsync, mv across file systems)
 * can work. A scratch file is never sent anywhere by itself; only the
 * FUSE layer, on a rename onto a document or the close of a replacement,
 * hands its bytes to the document. Also the names of documents that were
 * unlinked and are about to be created again ("marks").
 * Knows nothing of FUSE or of the node table. Thread-safe: every call
 * takes the store's one lock. */
#ifndef PARTNERFS_SCRATCH_H
#define PARTNERFS_SCRATCH_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* Per file: the largest document a read can show (a response over 64 MiB
 * is refused), so any document fits in a scratch copy. */
#define SCRATCH_SIZE_MAX (64u * 1024 * 1024)
/* Per mount: what a few editors and scripts need at once, and a bound on
 * the memory a runaway script can pin (count * size). */
#define SCRATCH_FILES_MAX 32
/* Per mount, apart: the copies kept of refused saves (scratch_keep), so
 * that failures never use up the files editors need. At most (32 + 32) *
 * 64 MiB are pinned. */
#define SCRATCH_KEPT_MAX 32
/* Seconds an unlinked document stays hidden waiting for its replacement
 * (GNU mv creates it microseconds after the unlink). */
#define SCRATCH_MARK_TTL 2

struct scratch; /* one file's bytes and attributes; counted references */

struct scratch_attr {
	mode_t mode; /* permission bits only */
	uid_t uid;
	gid_t gid;
	size_t size;
	struct timespec atime, mtime, ctime;
	int replaces; /* made for an unlinked document: stores to it */
	int named;    /* still has its name (not unlinked, not renamed onto
		       * a document) */
	int kept;     /* made by scratch_keep */
};

/* Makes an ordinary scratch file at path with data (copied) and a
 * reference for the caller. -EEXIST when path has one, -ENOSPC past
 * SCRATCH_FILES_MAX ordinary files alive (named, or unlinked and still open) or
 * SCRATCH_SIZE_MAX, -ENOMEM. */
int scratch_create(const char *path, mode_t mode, uid_t uid, gid_t gid,
		   const char *data, size_t len, int replaces,
		   struct scratch **out);
/* Keeps data (copied) at path as a scratch file of its own: what a
 * document refused, so that the writer's text is not lost. A file of
 * uid's there (the copy kept before, or an editor's save of it) gets the
 * new bytes and mode, and is a kept copy from then on; one that fails is
 * left as it was. -EEXIST when another uid's file or a replacement has
 * the name, -ENOSPC past SCRATCH_KEPT_MAX kept copies or SCRATCH_SIZE_MAX,
 * -ENOMEM. A kept copy stays one under another name. */
int scratch_keep(const char *path, mode_t mode, uid_t uid, gid_t gid,
		 const char *data, size_t len);
/* The same for a file of its own: s, the replacement at from that the
 * document refused, becomes the kept copy at path, mode mode, so that
 * what its writer writes next lands there too. Same errors, and -ENOENT
 * when s is no longer the replacement at from (unlinked or renamed
 * meanwhile); s is left as it was on one. */
int scratch_keep_file(struct scratch *s, const char *from, const char *path,
		      mode_t mode);
/* The scratch file at path with a new reference, or NULL. */
struct scratch *scratch_get(const char *path);
void scratch_ref(struct scratch *s);
/* Drops a reference; the last one of a file no longer named frees it. */
void scratch_put(struct scratch *s);

/* Removes the name (the file lives on while referenced). -ENOENT. */
int scratch_remove(const char *path);
/* Renames from to to, replacing a scratch file at to; a replacement moved
 * away replaces nothing any more. -ENOENT, -ENOMEM. */
int scratch_move(const char *from, const char *to);
/* Copies s's path into buf. 0, -ENOENT when s has no name any more,
 * -ENAMETOOLONG. */
int scratch_path(struct scratch *s, char *buf, size_t size);
/* Removes s's name if it is still named (used by a replacement's last
 * close: the document it replaced is shown again). */
void scratch_unname(struct scratch *s);

/* Bytes at off (0 past the end): how many were copied. */
size_t scratch_read_at(struct scratch *s, char *buf, size_t size, off_t off);
/* 0, -ENOSPC past SCRATCH_SIZE_MAX, -ENOMEM. Marks s dirty. */
int scratch_write_at(struct scratch *s, const char *data, size_t size,
		     off_t off);
int scratch_truncate(struct scratch *s, off_t size);
/* A copy of the whole content (NUL-terminated), for a store. -ENOMEM. */
int scratch_copy(struct scratch *s, char **data, size_t *len);
/* Whether s was written or truncated since the last call; clears it. */
int scratch_take_dirty(struct scratch *s);

void scratch_stat(struct scratch *s, struct scratch_attr *out);
void scratch_set_mode(struct scratch *s, mode_t mode);
void scratch_set_owner(struct scratch *s, uid_t uid, gid_t gid);
/* NULL leaves a time as it is. */
void scratch_set_times(struct scratch *s, const struct timespec *atime,
		       const struct timespec *mtime);

/* Calls fill for the name of each scratch file directly in dir ("/a/b")
 * that is not a replacement (the document's own row lists that name). */
int scratch_list(const char *dir, int (*fill)(void *ctx, const char *name),
		 void *ctx);

/* Hides the document at path for SCRATCH_MARK_TTL seconds. */
void scratch_mark(const char *path);
/* 1 while path is marked. */
int scratch_marked(const char *path);
/* Ends the mark of path: 1 if it was marked. */
int scratch_unmark(const char *path);
/* Ends the marks of the names directly in dir (a listing shows them). */
void scratch_unmark_dir(const char *dir);

/* Frees every file and mark (the session is over). */
void scratch_cleanup(void);
/* How many scratch files are alive, named or held open (for tests). */
size_t scratch_count(void);

#endif
