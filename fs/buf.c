/** @file
 * buf: a growable byte buffer. Every other module builds URLs, bodies and
 * file contents with it, so it never leaves data un-terminated and never
 * loses the bytes it already holds when an allocation fails.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"

/* Makes room for `extra` more bytes plus the terminating NUL. */
static int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	int rc = buf_reserve(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *buf_steal(struct buf *b)
{
	char *p = b->data;

	if (!p)
		p = strdup("");
	/* What is stolen is kept, often long (an operation's document in
	 * the tracker): it costs its length, not the doubling's slack. */
	else if (b->cap - b->len > b->len / 4 + 64) {
		char *tight = realloc(p, b->len + 1);
		if (tight)
			p = tight;
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

size_t buf_drop_head_lines(struct buf *b, size_t n)
{
	if (n == 0)
		return 0;
	if (n >= b->len) {
		n = b->len;
	} else {
		const char *nl = memchr(b->data + n - 1, '\n', b->len - n + 1);
		n = nl ? (size_t)(nl - b->data) + 1 : b->len;
	}
	memmove(b->data, b->data + n, b->len - n + 1); /* and the NUL */
	b->len -= n;
	return n;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
