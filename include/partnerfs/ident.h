/* ident: API identifiers (publisher, offer, operation ids, slot names) as
 * they appear in paths and URLs. */
#ifndef PARTNERFS_IDENT_H
#define PARTNERFS_IDENT_H

#include "partnerfs/buf.h"
#include <stdbool.h>

#define IDENT_MAX 255

/* True when name may be sent to the API as one path segment: 1..255 bytes,
 * not "." or "..", no '/', '%', '\\', control bytes (< 0x20, 0x7f) or
 * spaces. Checked before any request is made for a name. ('$' is allowed:
 * legacy operation ids contain it.) */
bool ident_is_valid(const char *name);

/* True when s is one printable word: not empty, no blanks, control bytes
 * or DEL. What a bearer token or a status word must be to go into a header
 * or a one-line file. */
bool ident_is_word(const char *s);

/* True when v can be an API version in every query string: a date like
 * 2017-10-31, perhaps with a suffix (2022-03-01-preview2); 1..64 bytes of
 * letters, digits, '-' and '.'. */
bool ident_is_version(const char *v);

/* Appends name percent-encoded as one URL path segment (RFC 3986:
 * unreserved bytes kept, everything else %XX). 0 or -ENOMEM. */
int ident_append_encoded(struct buf *out, const char *name);

#endif
