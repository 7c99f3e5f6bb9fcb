/* jsonutil: JSON that is the same for every API: parsing untrusted
 * documents safely, showing them, and finding the error message in an
 * error answer. What a document means is its backend's model. */
#ifndef PARTNERFS_JSONUTIL_H
#define PARTNERFS_JSONUTIL_H

#include <json-c/json.h>
#include <stddef.h>

#include "partnerfs/buf.h"

/* One whole JSON text: strict, bounded nesting, no trailing garbage, no
 * embedded NUL. NULL when it is not that. Release with json_object_put. */
json_object *jsonutil_parse(const char *json, size_t len);

/* fn for each item of a JSON array, in order, each parsed on its own: a
 * listing of a hundred offers is never one tree, its cost at any moment
 * is one item. The same strictness as jsonutil_parse. -EINVAL when json
 * is not one JSON array (fn may have seen the items before the fault);
 * else fn's first non-zero, or 0. */
int jsonutil_array_each(const char *json, size_t len,
			int (*fn)(void *ctx, size_t i, json_object *item),
			void *ctx);

/* Whether data is one whole JSON object, nothing after it but blanks:
 * what a writer of a document must give. */
int jsonutil_is_object(const char *data, size_t len);

/* The string member key of obj, or NULL (obj not an object, key absent or
 * not a string). */
const char *jsonutil_get_string(json_object *obj, const char *key);

/* obj pretty-printed with a trailing newline, as files show JSON. */
int jsonutil_render_pretty(json_object *obj, struct buf *out);
/* obj on one line, as request bodies are sent; malloc'd, NULL if out of
 * memory. */
char *jsonutil_render_plain(json_object *obj);
/* Re-renders a JSON text pretty-printed. 0, or -EINVAL when not JSON. */
int jsonutil_pretty(const char *json, size_t len, struct buf *out);

/* The message of an error answer, on one line, malloc'd; NULL when the
 * body has none. Knows {"error":{"message"|"code"}} (both APIs) and
 * {"error_description"} (Azure AD). */
char *jsonutil_error_message(const char *json, size_t len);

#endif
