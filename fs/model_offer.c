/* model_offer.c: the offer status word of a status document. Untrusted
 * input: every type is checked, and the document is parsed as strictly as
 * the rest of model.c (depth bound, no embedded NUL, no trailing bytes). */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "partnerfs/model.h"

#define MODEL_OFFER_MAX_DEPTH 64

static const char *string_member(json_object *obj, const char *key)
{
	json_object *v;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The live service reported sign-off as top-level "running" with the
 * publisher-signoff step (matched by id or stepName) waiting. */
static int signoff_is_waiting(json_object *doc)
{
	json_object *steps;
	if (!json_object_object_get_ex(doc, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		json_object *step = json_object_array_get_idx(steps, i);
		const char *id = string_member(step, "id");
		const char *name = string_member(step, "stepName");
		const char *st = string_member(step, "status");
		int is_signoff = (id && strcmp(id, "publisher-signoff") == 0) ||
				 (name && strcmp(name, "publisher-signoff") == 0);
		if (is_signoff && st &&
		    strcasecmp(st, "waitingForPublisherReview") == 0)
			return 1;
	}
	return 0;
}

static json_object *parse_strict(const char *json, size_t len)
{
	if (!json || len == 0 || len > (size_t)INT32_MAX ||
	    memchr(json, '\0', len))
		return NULL;
	json_tokener *tok = json_tokener_new_ex(MODEL_OFFER_MAX_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *doc = json_tokener_parse_ex(tok, json, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

/* `status` holds one word and a newline: a server-chosen value with
 * blanks or control bytes would break scripts that read it. */
static int word_is_printable(const char *w)
{
	if (!*w)
		return 0;
	for (const unsigned char *p = (const unsigned char *)w; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

int model_parse_offer_status(const char *json, size_t len, char *out,
			     size_t size)
{
	json_object *doc = parse_strict(json, len);
	if (json_object_is_type(doc, json_type_array) &&
	    json_object_array_length(doc) == 1) {
		json_object *inner = json_object_get(
			json_object_array_get_idx(doc, 0));
		json_object_put(doc);
		doc = inner;
	}
	const char *word = string_member(doc, "status");
	int err = 0;
	if (!word || !word_is_printable(word) || strlen(word) >= size)
		err = -EINVAL;
	else if (strcasecmp(word, "running") == 0 && signoff_is_waiting(doc))
		snprintf(out, size, "waitingForPublisherReview");
	else
		snprintf(out, size, "%s", word);
	json_object_put(doc);
	return err;
}
