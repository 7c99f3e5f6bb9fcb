/* buf: a growable byte buffer, always NUL-terminated for convenience. */
#ifndef PARTNERFS_BUF_H
#define PARTNERFS_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* All return 0 or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (never NULL: "" for an empty buffer). */
char *buf_steal(struct buf *b);
void buf_reset(struct buf *b);
/* Drops whole lines from the front: the first n bytes and the rest of the
 * line they end in. Returns how many bytes went. */
size_t buf_drop_head_lines(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
