/* inodes: the low-level FUSE layer's table of node ids. The kernel names
 * files by node id; the tree names them by path. Each path the kernel has
 * been handed (a LOOKUP reply, a readdirplus entry) gets an id of its own,
 * counted as the kernel counts it, and is dropped when the kernel forgets
 * it. Ids are never reused. An id means the path it was given for until a
 * rename or an unlink the kernel was told succeeded (scratch files, and
 * the documents they replace): then it follows the file as the kernel's
 * dentry does. Thread-safe. */
#ifndef PARTNERFS_INODES_H
#define PARTNERFS_INODES_H

#include <stddef.h>
#include <stdint.h>

#include "partnerfs/buf.h"

/* The root, "/": always known, never forgotten (FUSE_ROOT_ID). */
#define INODES_ROOT 1

/* 0, or -ENOMEM. The root is known from then on. */
int inodes_init(void);
/* Drops every id (the kernel has gone: the session is over). */
void inodes_cleanup(void);

/* Copies id's path into buf. 0, -ESTALE for an id not (or no longer)
 * known, -ENAMETOOLONG. */
int inodes_path(uint64_t id, char *buf, size_t size);
/* The path of name inside directory parent: as inodes_path, and
 * -ENAMETOOLONG when it does not fit. */
int inodes_child_path(uint64_t parent, const char *name, char *buf,
		      size_t size);

/* inodes_ref flags. */
enum {
	/* The path names something that comes and goes for good (an
	 * operation's directory): inodes_take_idle offers it once the
	 * kernel has not looked it up for a while. */
	INODES_TRANSIENT = 1,
};

/* The id of path, made when the path has none; its count of references
 * the kernel holds goes up by one. 0 when out of memory. */
uint64_t inodes_ref(const char *path, unsigned flags);
/* Appends to paths (each NUL-terminated) up to max of the INODES_TRANSIENT
 * paths the kernel still holds but has not looked up since
 * unused_since_ms (clock_mono_ms), least recently used first; each counts
 * as used now, so it is offered again only after another such while. The
 * number appended. */
size_t inodes_take_idle(long unused_since_ms, size_t max, struct buf *paths);
/* The kernel forgot n references to id; at none, id is dropped. */
void inodes_forget(uint64_t id, uint64_t n);

/* After a rename from -> to the kernel has moved its dentry: from's id
 * now names to (its count kept), and an id that named to stays known by
 * id, still meaning to, but a lookup of to no longer finds it. 0,
 * -ENOENT when from has no id, -ENOMEM. */
int inodes_rename(const char *from, const char *to);
/* After an unlink of path: its id (if any) stays known by id, and a file
 * made at path later gets an id of its own. */
void inodes_detach(const char *path);

/* How many ids are known, the root included (for tests). */
size_t inodes_count(void);

#endif
