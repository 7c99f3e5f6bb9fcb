/** @file
 * fuzz_model_json: every JSON parser of model.h on one input, as a server
 * (or a man in the middle) could send it in a listing, a status document,
 * an operation, a submissions listing or an error body.
 *
 *   build-fuzz/tests/fuzz/fuzz_model_json tests/fuzz/corpus/model_json
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"
#include "partnerfs/log.h"
#include "model.h"
#include "partnerfs/jsonutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_item(void *ctx, size_t i, json_object *item)
{
	(void)ctx;
	(void)i;
	(void)item;
	return 0;
}

/* Whether brackets outside strings nest more than max deep. */
static int deeper_than(const char *p, size_t n, int max)
{
	int depth = 0, in_string = 0;
	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_string = 0;
		} else if (p[i] == '"') {
			in_string = 1;
		} else if (p[i] == '[' || p[i] == '{') {
			if (++depth > max)
				return 1;
		} else if (p[i] == ']' || p[i] == '}') {
			depth--;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct id_list ids;
	struct submission_list subs;
	struct buf pretty = BUF_INIT;
	char word[MODEL_WORD_MAX];
	char *msg;
	size_t i;

	log_set_level(LOG_LVL_ERROR);
	/* Item by item, a listing is accepted exactly when the whole text
	 * parses as an array (but for one level of nesting that the item
	 * parse allows less). */
	json_object *whole = jsonutil_parse(json, size);
	int as_array = json_object_is_type(whole, json_type_array);
	json_object_put(whole);
	int by_items = jsonutil_array_each(json, size, count_item, NULL) == 0;
	if (by_items && !as_array)
		abort();
	if (as_array && !by_items && !deeper_than(json, size, 62))
		abort();
	if (model_parse_id_list(json, size, &ids) == 0) {
		/* Every id kept must be usable as one path component. */
		for (i = 0; i < ids.count; i++)
			if (!ids.ids[i][0] || strchr(ids.ids[i], '/') ||
			    !strcmp(ids.ids[i], ".."))
				abort();
		id_list_free(&ids);
	}
	if (model_parse_status_word(json, size, word, sizeof(word)) == 0 &&
	    (strlen(word) >= sizeof(word) || strpbrk(word, " \n\r\t")))
		abort();
	if (model_parse_offer_status(json, size, word, sizeof(word)) == 0 &&
	    (strlen(word) >= sizeof(word) || !word[0] ||
	     strpbrk(word, " \n\r\t")))
		abort();
	msg = jsonutil_error_message(json, size);
	if (msg && strpbrk(msg, "\n\r"))
		abort();
	free(msg);
	if (model_parse_submissions(json, size, &subs) == 0) {
		for (i = 0; i < subs.count; i++)
			if (!subs.items[i].id || !subs.items[i].state ||
			    strchr(subs.items[i].id, '/'))
				abort();
		submission_list_free(&subs);
	}
	if (jsonutil_pretty(json, size, &pretty) == 0 &&
	    (pretty.len == 0 || pretty.data[pretty.len - 1] != '\n'))
		abort();
	buf_free(&pretty);
	return 0;
}
