/** @file
 * model: API JSON -> what partnerfs shows.
 *
 * Everything here reads documents a server (or a fuzzer) chose, so each
 * accessor checks the JSON type before use and every parse goes through
 * jsonutil_parse, which bounds nesting depth and rejects trailing garbage.
 * Integers are kept as json-c int64 so submission versions such as
 * 636576975611768314 (> 2^53) survive a re-render digit for digit.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

#define MODEL_EMAIL_MAX 254

void id_list_free(struct id_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->count; i++)
		free(l->ids[i]);
	free(l->ids);
	l->ids = NULL;
	l->count = 0;
}

/* Room for one more item in an array of *count items of size sz. */
static int grow_for_one(void **items, size_t count, size_t *cap, size_t sz)
{
	if (count < *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 16;
	void *p = realloc(*items, n * sz);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = n;
	return 0;
}

/* Gives back the room grow_for_one left over: a listing is kept. */
static void shrink_to_count(void **items, size_t count, size_t sz)
{
	void *p = count ? realloc(*items, count * sz) : NULL;
	if (p)
		*items = p;
}

/* The "id" of a listing's item i, or NULL (logged: the item is skipped)
 * when it has none that can name a directory. */
static const char *usable_id(json_object *item, const char *listing, size_t i)
{
	const char *id = jsonutil_get_string(item, "id");
	if (id && ident_is_valid(id))
		return id;
	log_info("%s: skipping entry %zu without a usable id", listing, i);
	return NULL;
}

struct id_list_ctx {
	struct id_list *out;
	size_t cap;
};

static int id_list_add(void *arg, size_t i, json_object *item)
{
	struct id_list_ctx *c = arg;
	const char *id = usable_id(item, "listing", i);
	if (!id)
		return 0;
	char *copy = strdup(id);
	if (!copy || grow_for_one((void **)&c->out->ids, c->out->count, &c->cap,
				  sizeof(char *))) {
		free(copy);
		return -ENOMEM;
	}
	c->out->ids[c->out->count++] = copy;
	return 0;
}

int model_parse_id_list(const char *json, size_t len, struct id_list *out)
{
	struct id_list_ctx c = {out, 0};
	out->ids = NULL;
	out->count = 0;
	int rc = jsonutil_array_each(json, len, id_list_add, &c);
	if (rc)
		id_list_free(out);
	else
		shrink_to_count((void **)&out->ids, out->count, sizeof(char *));
	return rc;
}

struct model_status_alias {
	const char *word;
	const char *normal;
};

/* doc/cpp-api.md §8.3: the pages, the examples and the live service each used
 * different words for the same states. */
static const struct model_status_alias model_status_aliases[] = {
	{"notStarted", "notStarted"},
	{"not started", "notStarted"},
	{"running", "running"},
	{"inProgress", "running"},
	{"completed", "completed"},
	{"complete", "completed"},
	{"succeeded", "completed"},
	{"failed", "failed"},
	{"canceled", "canceled"},
	{"cancelled", "canceled"},
	{"waitingForPublisherReview", "waitingForPublisherReview"},
};

const char *model_normalize_status(const char *word)
{
	size_t i;

	if (!word)
		return NULL;
	for (i = 0;
	     i < sizeof(model_status_aliases) / sizeof(model_status_aliases[0]);
	     i++)
		if (strcasecmp(word, model_status_aliases[i].word) == 0)
			return model_status_aliases[i].normal;
	return word;
}

int model_status_is_terminal(const char *normalised)
{
	const char *w = model_normalize_status(normalised);

	if (!w)
		return 0;
	return strcmp(w, "completed") == 0 || strcmp(w, "failed") == 0 ||
	       strcmp(w, "canceled") == 0;
}

static bool model_step_is_signoff(json_object *step)
{
	const char *id = jsonutil_get_string(step, "id");
	const char *name = jsonutil_get_string(step, "stepName");

	/* The documented example has the value in "id", clients looked it up
	 * by "stepName" (doc/cpp-api.md §6.4): accept either. */
	return (id && strcasecmp(id, "publisher-signoff") == 0) ||
	       (name && strcasecmp(name, "publisher-signoff") == 0);
}

static bool model_signoff_waiting(json_object *doc)
{
	json_object *steps, *step;
	const char *st;
	size_t i, n;

	if (!json_object_object_get_ex(doc, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return false;
	n = json_object_array_length(steps);
	for (i = 0; i < n; i++) {
		step = json_object_array_get_idx(steps, i);
		if (!model_step_is_signoff(step))
			continue;
		st = jsonutil_get_string(step, "status");
		if (st && strcmp(model_normalize_status(st),
				 "waitingForPublisherReview") == 0)
			return true;
	}
	return false;
}

/* The status word of a status or operation document; normalised per
 * doc/cpp-api.md §8.3 when asked, else as the API spells it (offer status). */
static int model_status_word_of(json_object *doc, bool normalise, char *out,
				size_t size)
{
	json_object *top = doc;
	const char *word;

	/* The operations page wraps the object in a one-element array. */
	if (json_object_is_type(top, json_type_array) &&
	    json_object_array_length(top) == 1)
		top = json_object_array_get_idx(top, 0);
	word = jsonutil_get_string(top, "status");
	if (normalise)
		word = model_normalize_status(word);
	/* A status file holds one word and a newline; a server-chosen word
	 * with blanks or control bytes would break that. */
	if (!word || !ident_is_word(word))
		return -EINVAL;
	if (strcasecmp(word, "running") == 0 && model_signoff_waiting(top))
		word = "waitingForPublisherReview";
	if (strlen(word) >= size)
		return -EINVAL;
	strcpy(out, word);
	return 0;
}

static int model_status_word(const char *json, size_t len, bool normalise,
			     char *out, size_t size)
{
	json_object *doc = jsonutil_parse(json, len);
	int rc = model_status_word_of(doc, normalise, out, size);

	json_object_put(doc);
	return rc;
}

int model_parse_status_word(const char *json, size_t len, char *out,
			    size_t size)
{
	return model_status_word(json, len, true, out, size);
}

int model_parse_offer_status(const char *json, size_t len, char *out,
			     size_t size)
{
	return model_status_word(json, len, false, out, size);
}

int model_offer_status_of(json_object *doc, char *out, size_t size)
{
	return model_status_word_of(doc, false, out, size);
}

/* The operations page wraps the object in a one-element array. */
static json_object *model_unwrap(json_object *doc)
{
	if (json_object_is_type(doc, json_type_array) &&
	    json_object_array_length(doc) == 1)
		return json_object_array_get_idx(doc, 0);
	return doc;
}

int model_operation_shown(const char *json, size_t len, char *state,
			  size_t size, struct buf *shown)
{
	json_object *doc = jsonutil_parse(json, len);
	json_object *top = model_unwrap(doc);
	const char *word = jsonutil_get_string(top, "status");
	const char *normal = model_normalize_status(word);
	int rc = model_status_word_of(doc, true, state, size);

	/* The document says what status says (a server of the observed
	 * dialect writes "complete"). */
	if (!rc && normal && strcmp(normal, word) != 0)
		json_object_object_add(top, "status",
				       json_object_new_string(normal));
	if (!rc)
		rc = jsonutil_render_pretty(doc, shown);
	json_object_put(doc);
	return rc;
}

long long model_offer_version_of(json_object *doc)
{
	json_object *v;

	if (json_object_is_type(doc, json_type_object) &&
	    json_object_object_get_ex(doc, "version", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return 0;
}

void submission_list_free(struct submission_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free(l->items[i].id);
		free(l->items[i].state);
		free(l->items[i].type);
	}
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int model_fill_submission(json_object *item, const char *id,
				 struct submission *s)
{
	const char *state = jsonutil_get_string(item, "submissionState");
	const char *type = jsonutil_get_string(item, "submissionType");

	/* The property table names the field "status" (doc/cpp-api.md §6.8). */
	if (!state)
		state = jsonutil_get_string(item, "status");
	state = model_normalize_status(state);
	if (!state || !ident_is_word(state))
		state = "unknown";
	if (!type || !ident_is_word(type))
		type = "";
	s->id = strdup(id);
	s->state = strdup(state);
	s->type = strdup(type);
	if (!s->id || !s->state || !s->type) {
		free(s->id);
		free(s->state);
		free(s->type);
		return -ENOMEM;
	}
	return 0;
}

struct submissions_ctx {
	struct submission_list *out;
	size_t cap;
};

static int submission_add(void *arg, size_t i, json_object *item)
{
	struct submissions_ctx *c = arg;
	const char *id = usable_id(item, "submissions", i);
	if (!id)
		return 0;
	struct submission_list *l = c->out;
	int rc = grow_for_one((void **)&l->items, l->count, &c->cap,
			      sizeof(*l->items));
	if (!rc)
		rc = model_fill_submission(item, id, &l->items[l->count]);
	if (!rc)
		l->count++;
	return rc;
}

int model_parse_submissions(const char *json, size_t len,
			    struct submission_list *out)
{
	struct submissions_ctx c = {out, 0};
	out->items = NULL;
	out->count = 0;
	int rc = jsonutil_array_each(json, len, submission_add, &c);
	if (rc)
		submission_list_free(out);
	else
		shrink_to_count((void **)&out->items, out->count,
				sizeof(*out->items));
	return rc;
}

static bool model_email_local_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') ||
	       (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool model_email_domain_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static bool model_email_is_valid(const char *a, size_t len)
{
	const char *at = memchr(a, '@', len);
	const char *p, *end = a + len;
	bool dot = false;
	size_t label = 0;

	if (!at || at == a || len > MODEL_EMAIL_MAX)
		return false;
	for (p = a; p < at; p++)
		if (!model_email_local_char((unsigned char)*p))
			return false;
	/* Domain: labels of [A-Za-z0-9-] joined by single dots, at least two
	 * labels. A second '@' fails here too. */
	for (p = at + 1; p < end; p++) {
		if (*p == '.') {
			if (!label)
				return false;
			dot = true;
			label = 0;
		} else if (model_email_domain_char((unsigned char)*p)) {
			label++;
		} else {
			return false;
		}
	}
	return dot && label;
}

static bool model_email_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int model_parse_emails(const char *text, size_t len, struct buf *out, char *why,
		       size_t why_size)
{
	size_t i = 0, start;
	int rc;

	buf_reset(out);
	if (why_size)
		why[0] = '\0';
	while (i < len) {
		while (i < len && model_email_is_sep(text[i]))
			i++;
		start = i;
		while (i < len && !model_email_is_sep(text[i]))
			i++;
		if (i == start)
			break;
		if (!model_email_is_valid(text + start, i - start)) {
			if (why_size)
				snprintf(why, why_size,
					 "invalid e-mail address '%.*s'",
					 (int)(i - start > 80 ? 80 : i - start),
					 text + start);
			buf_reset(out);
			return -EINVAL;
		}
		rc = out->len ? buf_puts(out, ",") : 0;
		if (!rc)
			rc = buf_append(out, text + start, i - start);
		if (rc) {
			buf_reset(out);
			return rc;
		}
	}
	return buf_append(out, "", 0);
}

static int model_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int model_operation_id_from_url(const char *url, char *out, size_t size)
{
	const char *path, *end, *seg, *p;
	size_t n = 0;
	int hi, lo;

	if (!url || !size)
		return -EINVAL;
	path = url;
	/* Skip scheme://authority so that a URL without a path does not
	 * yield the host name as an id. */
	p = strstr(url, "://");
	if (p && p < url + strcspn(url, "/?#")) {
		path = strchr(p + 3, '/');
		if (!path)
			return -EINVAL;
	}
	end = path + strcspn(path, "?#");
	if (end > path && end[-1] == '/')
		end--;
	for (seg = end; seg > path && seg[-1] != '/'; seg--)
		;
	if (seg == end)
		return -EINVAL;
	for (p = seg; p < end; p++) {
		char c = *p;

		if (c == '%') {
			if (end - p < 3)
				return -EINVAL;
			hi = model_hex_value(p[1]);
			lo = model_hex_value(p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	return ident_is_valid(out) ? 0 : -EINVAL;
}
