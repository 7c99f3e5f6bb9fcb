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
