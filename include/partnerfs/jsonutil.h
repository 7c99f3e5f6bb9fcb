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
