/** @file
 * ident: the gate every name passes before it becomes part of a URL.
 *
 * A FUSE lookup of `..`, `%2e%2e` or `a/b` must never turn into a request
 * for a different API path, so names are checked here first and then always
 * percent-encoded as a single path segment. Bytes >= 0x80 (UTF-8) are
 * allowed in names; they are percent-encoded like any other reserved byte.
 */
#include <string.h>

#include "partnerfs/ident.h"

bool ident_is_valid(const char *name)
{
	size_t len;
	const unsigned char *p;

	if (!name)
		return false;
	len = strnlen(name, IDENT_MAX + 1);
	if (len == 0 || len > IDENT_MAX)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == ' ')
			return false;
		if (*p == '/' || *p == '%' || *p == '\\')
			return false;
	}
	return true;
}

static bool ident_is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int ident_append_encoded(struct buf *out, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)name;
	const unsigned char *run;
	char esc[3];
	int rc;

	while (*p) {
		/* Copy runs of safe bytes in one append. */
		run = p;
		while (*p && ident_is_unreserved(*p))
			p++;
		if (p > run) {
			rc = buf_append(out, run, (size_t)(p - run));
			if (rc)
				return rc;
		}
		if (!*p)
			break;
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 0xf];
		rc = buf_append(out, esc, sizeof(esc));
		if (rc)
			return rc;
		p++;
	}
	/* An empty name still leaves out a valid (empty) string. */
	return buf_append(out, "", 0);
}

bool ident_is_word(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!*p)
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

bool ident_is_version(const char *v)
{
	if (!*v || strlen(v) > 64)
		return false;
	for (; *v; v++)
		if (!(*v >= '0' && *v <= '9') && !(*v >= 'a' && *v <= 'z') &&
		    !(*v >= 'A' && *v <= 'Z') && *v != '-' && *v != '.')
			return false;
	return true;
}
