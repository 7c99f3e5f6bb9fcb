/* model_body.c: the configure documents partnerfs sends, checked before
 * anything is sent (see model.h, doc/ingestion-api.md §4.4, §5.4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "model.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"

/* {"$schema": configure, "resources": resources} on one line. Takes
 * resources. */
static int wrap(json_object *resources, struct buf *body)
{
	json_object *doc = json_object_new_object();
	json_object *schema = json_object_new_string(ING_CONFIGURE_SCHEMA);
	if (!doc || !schema) {
		json_object_put(doc);
		json_object_put(schema);
		json_object_put(resources);
		return -ENOMEM;
	}
	json_object_object_add(doc, "$schema", schema);
	json_object_object_add(doc, "resources", resources);
	char *text = jsonutil_render_plain(doc);
	int err = text ? buf_puts(body, text) : -ENOMEM;
	free(text);
	json_object_put(doc);
	return err;
}

/* Each resource an object with a $schema string: what the API requires
 * of every one (§4.4). */
static int check_resources(json_object *resources, char *why, size_t size)
{
	size_t n = json_object_array_length(resources);
	if (n == 0) {
		snprintf(why, size, "no resources");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(resources, i);
		const char *what = NULL;
		if (!json_object_is_type(r, json_type_object))
			what = "is not an object";
		else if (!jsonutil_get_string(r, "$schema"))
			what = "has no $schema string";
		if (what) {
			snprintf(why, size, "resource %zu %s", i, what);
			return -EINVAL;
		}
	}
	return 0;
}

int ing_model_configure_body(const char *data, size_t len, struct buf *body,
			     char *why, size_t why_size)
{
	json_object *doc = jsonutil_parse(data, len), *resources;
	int err;
	if (!doc) {
		snprintf(why, why_size, "not JSON");
		return -EINVAL;
	}
	if (json_object_is_type(doc, json_type_array)) {
		err = check_resources(doc, why, why_size);
		if (!err)
			return wrap(doc, body);
	} else if (!json_object_object_get_ex(doc, "resources", &resources) ||
		   !json_object_is_type(resources, json_type_array)) {
		snprintf(why, why_size,
			 "neither a configure document (an object with a "
			 "\"resources\" array) nor an array of resources");
		err = -EINVAL;
	} else if ((err = check_resources(resources, why, why_size)) == 0) {
		char *text = jsonutil_render_plain(doc);
		err = text ? buf_puts(body, text) : -ENOMEM;
		free(text);
	}
	json_object_put(doc);
	return err;
}

int ing_model_resource_body(const char *data, size_t len, const char *id,
			    struct buf *body, char *why, size_t why_size)
{
	json_object *r = jsonutil_parse(data, len);
	const char *got = jsonutil_get_string(r, "id");
	int err = -EINVAL;
	if (!json_object_is_type(r, json_type_object))
		snprintf(why, why_size, "not a JSON object");
	else if (!jsonutil_get_string(r, "$schema"))
		snprintf(why, why_size, "no $schema string");
	else if (!got || strcmp(got, id) != 0)
		snprintf(why, why_size, "its id is %.300s%s%.300s, not %.300s",
			 got ? "\"" : "", got ? got : "missing",
			 got ? "\"" : "", id);
	else
		err = 0;
	if (err) {
		json_object_put(r);
		return err;
	}
	json_object *resources = json_object_new_array();
	if (!resources) {
		json_object_put(r);
		return -ENOMEM;
	}
	json_object_array_add(resources, r);
	return wrap(resources, body);
}

/* A submission resource of product guid for target; id may be NULL (a
 * preview publish has none, §5.4). */
static int submission_body(const char *guid, const char *id, const char *target,
			   struct buf *body)
{
	char product[IDENT_MAX + 16];
	snprintf(product, sizeof(product), "product/%s", guid);
	json_object *s = json_object_new_object();
	json_object *t = json_object_new_object();
	json_object *resources = json_object_new_array();
	if (!s || !t || !resources) {
		json_object_put(s);
		json_object_put(t);
		json_object_put(resources);
		return -ENOMEM;
	}
	json_object_object_add(s, "$schema",
			       json_object_new_string(ING_SUBMISSION_SCHEMA));
	if (id)
		json_object_object_add(s, "id", json_object_new_string(id));
	json_object_object_add(s, "product", json_object_new_string(product));
	json_object_object_add(t, "targetType", json_object_new_string(target));
	json_object_object_add(s, "target", t);
	json_object_array_add(resources, s);
	return wrap(resources, body);
}

int ing_model_publish_body(const char *guid, struct buf *body)
{
	return submission_body(guid, NULL, "preview", body);
}

int ing_model_golive_body(const char *guid, const char *submission,
			  struct buf *body)
{
	return submission_body(guid, submission, "live", body);
}

/* A reference (§3.3): a durable id, or {"externalId"}. */
static void reference(json_object *ref,
		      void (*fn)(void *, const char *, const char *), void *ctx)
{
	char guid[IDENT_MAX + 1];
	const char *s = json_object_is_type(ref, json_type_string)
				? json_object_get_string(ref)
				: NULL;
	if (s && durable_product_guid(s, guid, sizeof(guid)) == 0)
		fn(ctx, guid, NULL);
	else if ((s = jsonutil_get_string(ref, "externalId")))
		fn(ctx, NULL, s);
}

int ing_model_body_products(const char *body, size_t len,
			    void (*fn)(void *ctx, const char *guid,
				       const char *ext),
			    void *ctx)
{
	json_object *doc = jsonutil_parse(body, len), *resources, *ref;
	if (!json_object_object_get_ex(doc, "resources", &resources) ||
	    !json_object_is_type(resources, json_type_array)) {
		json_object_put(doc);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(resources); i++) {
		json_object *r = json_object_array_get_idx(resources, i), *idn;
		const char *id = jsonutil_get_string(r, "id");
		const char *schema = jsonutil_get_string(r, "$schema");
		char guid[IDENT_MAX + 1];
		if (id && durable_product_guid(id, guid, sizeof(guid)) == 0)
			fn(ctx, guid, NULL);
		if (json_object_object_get_ex(r, "product", &ref))
			reference(ref, fn, ctx);
		/* A product resource names itself by its identity. */
		if (schema && strstr(schema, "/schema/product/") &&
		    json_object_object_get_ex(r, "identity", &idn) &&
		    jsonutil_get_string(idn, "externalId"))
			fn(ctx, NULL, jsonutil_get_string(idn, "externalId"));
	}
	json_object_put(doc);
	return 0;
}
