/** @file
 * jsonutil: parsing untrusted JSON and showing it (see jsonutil.h).
 *
 * Every document comes from a server (or a fuzzer), so parsing bounds
 * nesting depth and rejects trailing garbage, and accessors check types.
 * Integers stay json-c int64, so that ids such as 636576975611768314
 * (> 2^53) survive a re-render digit for digit.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/jsonutil.h"

/* Documents nest a handful of levels; 64 leaves room while keeping
 * json-c's recursive render and free far from the stack limit. */
#define JSONUTIL_MAX_DEPTH 64

/* 0 and the value in *out (NULL for a JSON null), or -EINVAL. */
static int parse_depth(const char *json, size_t len, int depth,
		       json_object **out)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error err;

	*out = NULL;
	if (!json || len == 0 || len > (size_t)INT32_MAX)
		return -EINVAL;
	/* json-c would stop at an embedded NUL and accept the prefix. */
	if (memchr(json, '\0', len))
		return -EINVAL;
	tok = json_tokener_new_ex(depth);
	if (!tok)
		return -EINVAL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, json, (int)len);
	err = json_tokener_get_error(tok);
	/* A bare number or literal only ends at end of input: say so. */
	if (!obj && err == json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (err != json_tokener_success) {
		json_object_put(obj);
		return -EINVAL;
	}
	*out = obj;
	return 0;
}

json_object *jsonutil_parse(const char *json, size_t len)
{
	json_object *obj;
	parse_depth(json, len, JSONUTIL_MAX_DEPTH, &obj);
	return obj;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the value that starts at p: the first ',' or ']' outside
 * strings and brackets, or NULL. Only boundaries are found here; what is
 * between them is json-c's to judge. */
static const char *item_end(const char *p, const char *end)
{
	int depth = 0;
	for (; p < end; p++) {
		switch (*p) {
		case '"':
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return *p == ']' ? p : NULL;
			depth--;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		}
	}
	return NULL;
}

int jsonutil_array_each(const char *json, size_t len,
			int (*fn)(void *ctx, size_t i, json_object *item),
			void *ctx)
{
	if (!json || len > (size_t)INT32_MAX || memchr(json, '\0', len))
		return -EINVAL;
	const char *end = json + len;
	const char *p = skip_blanks(json, end);
	if (p == end || *p != '[')
		return -EINVAL;
	p = skip_blanks(p + 1, end);
	if (p < end && *p == ']')
		return skip_blanks(p + 1, end) == end ? 0 : -EINVAL;
	for (size_t i = 0;; i++) {
		const char *stop = item_end(p, end);
		if (!stop)
			return -EINVAL;
		/* One item nests one level less deep than the array. */
		json_object *item;
		if (parse_depth(p, (size_t)(stop - p), JSONUTIL_MAX_DEPTH - 1,
				&item))
			return -EINVAL;
		int rc = fn(ctx, i, item);
		json_object_put(item);
		if (rc)
			return rc;
		if (*stop == ']')
			return skip_blanks(stop + 1, end) == end ? 0 : -EINVAL;
		p = stop + 1;
	}
}

const char *jsonutil_get_string(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* One line for the control file and the log: AAD descriptions carry CR LF
 * separated trace ids. */
static char *jsonutil_one_line(const char *s)
{
	char *r = malloc(strlen(s) + 1);
	char *w = r;
	bool blank = false;

	if (!r)
		return NULL;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ' ') {
			blank = w != r;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = false;
		*w++ = *s;
	}
	*w = '\0';
	if (!*r) {
		free(r);
		return NULL;
	}
	return r;
}

char *jsonutil_error_message(const char *json, size_t len)
{
	json_object *doc = jsonutil_parse(json, len);
	json_object *err = NULL;
	const char *msg = NULL;
	char *r = NULL;

	if (!json_object_is_type(doc, json_type_object))
		goto out;
	/* API shape: {"error":{"code":..,"message":..}}. */
	if (json_object_object_get_ex(doc, "error", &err) &&
	    json_object_is_type(err, json_type_object)) {
		msg = jsonutil_get_string(err, "message");
		if (!msg)
			msg = jsonutil_get_string(err, "code");
	}
	/* AAD shape: {"error":"invalid_client","error_description":..}. */
	if (!msg)
		msg = jsonutil_get_string(doc, "error_description");
	if (!msg)
		msg = jsonutil_get_string(doc, "message");
	if (!msg)
		msg = jsonutil_get_string(doc, "error");
	if (msg)
		r = jsonutil_one_line(msg);
out:
	json_object_put(doc);
	return r;
}

int jsonutil_render_pretty(json_object *obj, struct buf *out)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			     JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = s ? buf_puts(out, s) : -ENOMEM;

	return rc ? rc : buf_puts(out, "\n");
}

char *jsonutil_render_plain(json_object *obj)
{
	const char *s = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? strdup(s) : NULL;
}

int jsonutil_pretty(const char *json, size_t len, struct buf *out)
{
	json_object *doc = jsonutil_parse(json, len);
	int rc;

	if (!doc)
		return -EINVAL;
	rc = jsonutil_render_pretty(doc, out);
	json_object_put(doc);
	return rc;
}

int jsonutil_is_object(const char *data, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(JSONUTIL_MAX_DEPTH);
	json_object *obj = NULL;
	int complete;

	if (!tok || len > (size_t)INT32_MAX || memchr(data, '\0', len)) {
		if (tok)
			json_tokener_free(tok);
		return 0;
	}
	obj = json_tokener_parse_ex(tok, data, (int)len);
	complete = obj && json_tokener_get_error(tok) == json_tokener_success &&
		   json_object_is_type(obj, json_type_object);
	/* Trailing bytes after the document are as bad as a broken one. */
	for (size_t i = complete ? json_tokener_get_parse_end(tok) : len;
	     i < len; i++)
		if (!strchr(" \t\r\n", data[i]))
			complete = 0;
	json_object_put(obj);
	json_tokener_free(tok);
	return complete;
}
