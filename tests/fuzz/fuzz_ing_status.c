/** @file
 * fuzz_ing_status: every parser of the ingestion model that reads an
 * answer on one input: a configure-status (the job's state word, its id),
 * a page of a collection, the products and submissions of a listing, the
 * products a configure body names, and the bodies built from user input.
 *
 *   build-fuzz/tests/fuzz/fuzz_ing_status tests/fuzz/corpus/ing_status
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void named(void *ctx, const char *guid, const char *ext)
{
	(void)ctx;
	if (!guid == !ext)
		abort();
}

static void collections(const char *json, size_t size)
{
	json_object *values = json_object_new_array();
	char *next = NULL;
	if (values && ing_model_page(json, size, values, &next) == 0) {
		struct ing_products p;
		struct ing_submissions s;
		if (ing_model_products_of(values, &p) == 0) {
			for (size_t i = 0; i < p.count; i++)
				if (!ident_is_valid(p.items[i].ext) ||
				    strchr(p.items[i].guid, '/'))
					abort();
			ing_products_free(&p);
		}
		if (ing_model_submissions_of(values, &s) == 0)
			ing_submissions_free(&s);
	}
	free(next);
	json_object_put(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	char state[64], id[256], why[512];
	int terminal;
	struct buf shown = BUF_INIT, body = BUF_INIT;

	log_set_level(LOG_LVL_ERROR);
	if (ing_model_job_status(json, size, state, sizeof(state), &terminal,
				 &shown) == 0 &&
	    (!ident_is_word(state) || strlen(state) >= sizeof(state)))
		abort();
	if (ing_model_job_id(json, size, id, sizeof(id)) == 0 &&
	    (!ident_is_valid(id) || strchr(id, '/')))
		abort();
	collections(json, size);
	if (ing_model_configure_body(json, size, &body, why, sizeof(why)) ==
		    0 &&
	    !jsonutil_is_object(body.data, body.len))
		abort();
	if (body.len)
		ing_model_body_products(body.data, body.len, named, NULL);
	buf_reset(&body);
	if (ing_model_resource_body(json, size, "plan/a/b", &body, why,
				    sizeof(why)) == 0 &&
	    !jsonutil_is_object(body.data, body.len))
		abort();
	buf_free(&shown);
	buf_free(&body);
	return 0;
}
