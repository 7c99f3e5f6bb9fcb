/* model: API JSON -> what partnerfs shows. Pure functions over untrusted
 * input (fuzzed): never crash, never trust sizes or shapes. */
#ifndef PARTNERFS_CPP_MODEL_H
#define PARTNERFS_CPP_MODEL_H

#include <json-c/json.h>
#include <stddef.h>

#include "partnerfs/buf.h"

/* A list of identifiers, as found in a listing. */
struct id_list {
	char **ids;
	size_t count;
};
void id_list_free(struct id_list *l);

/* From a JSON array of objects, the "id" strings that are valid
 * identifiers (others are skipped and logged). 0, or -EINVAL when the
 * document is not a JSON array. */
int model_parse_id_list(const char *json, size_t len, struct id_list *out);

/* Normalised operation/offer status word (doc/cpp-api.md §8.3): notStarted,
 * running, completed, failed, canceled, waitingForPublisherReview; other
 * words are returned as given. Returns a static string or `word`. */
const char *model_normalize_status(const char *word);
/* True for completed, failed, canceled (normalised words). */
int model_status_is_terminal(const char *normalised);

/* Status word of an offer status or operation document: top-level
 * "status" (a 1-element array is unwrapped), normalised; a running document
 * whose publisher-signoff step waits for review reports
 * waitingForPublisherReview. Writes into out (size >= 64). 0 or -EINVAL. */
int model_parse_status_word(const char *json, size_t len, char *out,
			    size_t size);

#define MODEL_WORD_MAX 64

/* The offer status word of a GET .../status document as the API spells it
 * (neverPublished, running, succeeded, ...; doc/cpp-api.md §8.1), except that a
 * running offer whose publisher-signoff step waits for review reports
 * waitingForPublisherReview (§6.4). 0 or -EINVAL. */
int model_parse_offer_status(const char *json, size_t len, char *out,
			     size_t size);

/* The same, from the parsed document. */
int model_offer_status_of(json_object *doc, char *out, size_t size);

/* An operation document (GET of its location): its normalised status
 * word into state, and the document as operation.json shows it (status
 * normalised too, pretty-printed) into shown; parsed once. 0 or -EINVAL. */
int model_operation_shown(const char *json, size_t len, char *state,
			  size_t size, struct buf *shown);

/* The offer's "version" member; 0 when it has none. */
long long model_offer_version_of(json_object *doc);

/* One submission of a listing: id + normalised state. */
struct submission {
	char *id;
	char *state;
	char *type;
};
struct submission_list {
	struct submission *items;
	size_t count;
};
void submission_list_free(struct submission_list *l);
/* Parses GET .../submissions/ (newest first, as the API lists them). */
int model_parse_submissions(const char *json, size_t len,
			    struct submission_list *out);

/* Splits control-file input (addresses separated by commas, spaces, tabs,
 * newlines) and validates each address. On success writes "a@x,b@y" to out
 * (empty when the input held none). -EINVAL names the bad address in why. */
int model_parse_emails(const char *text, size_t len, struct buf *out, char *why,
		       size_t why_size);

/* Operation id from an operation URL: the last path segment before the
 * query, percent-decoded. 0 or -EINVAL. */
int model_operation_id_from_url(const char *url, char *out, size_t size);

#endif
