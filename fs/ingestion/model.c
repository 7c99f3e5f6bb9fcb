/* model.c: collections, products, submissions and job status of the
 * ingestion API (see model.h). Every accessor checks the JSON type first
 * and every parse goes through jsonutil_parse (bounded depth, no
 * trailing garbage). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "model.h"
#include "partnerfs/ident.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

int ing_model_page(const char *json, size_t len, json_object *values,
		   char **next)
{
	json_object *page = jsonutil_parse(json, len), *items;
	*next = NULL;
	if (!json_object_object_get_ex(page, "value", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(page);
		return -EIO;
	}
	for (size_t i = 0; i < json_object_array_length(items); i++)
		json_object_array_add(
			values,
			json_object_get(json_object_array_get_idx(items, i)));
	const char *link = jsonutil_get_string(page, "@nextLink");
	int err = 0;
	if (link && *link && !(*next = strdup(link)))
		err = -ENOMEM;
	json_object_put(page);
	return err;
}

void ing_products_free(struct ing_products *p)
{
	for (size_t i = 0; p && i < p->count; i++) {
		free(p->items[i].ext);
		free(p->items[i].guid);
	}
	if (p) {
		free(p->items);
		p->items = NULL;
		p->count = 0;
	}
}

/* identity.externalId; the 2023 docs spell it externalID (§3.2). */
static const char *external_id_of(json_object *resource)
{
	json_object *identity;
	if (!json_object_object_get_ex(resource, "identity", &identity))
		return NULL;
	const char *ext = jsonutil_get_string(identity, "externalId");
	return ext ? ext : jsonutil_get_string(identity, "externalID");
}

const struct ing_product *ing_products_find(const struct ing_products *p,
					    const char *ext)
{
	for (size_t i = 0; p && ext && i < p->count; i++)
		if (strcmp(p->items[i].ext, ext) == 0)
			return &p->items[i];
	return NULL;
}

const struct ing_product *ing_products_find_guid(const struct ing_products *p,
						 const char *guid)
{
	for (size_t i = 0; p && guid && i < p->count; i++)
		if (strcmp(p->items[i].guid, guid) == 0)
			return &p->items[i];
	return NULL;
}

int ing_model_products_of(json_object *values, struct ing_products *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(values, json_type_array))
		return -EIO;
	size_t n = json_object_array_length(values);
	out->items = calloc(n ? n : 1, sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(values, i);
		const char *id = jsonutil_get_string(r, "id");
		const char *ext = external_id_of(r);
		char guid[IDENT_MAX + 1];
		if (!id || strncmp(id, "product/", 8) != 0 ||
		    durable_product_guid(id, guid, sizeof(guid)) != 0 || !ext ||
		    !ident_is_valid(ext) || ing_products_find(out, ext)) {
			log_info("products: skipping entry %zu without a "
				 "usable externalId and id",
				 i);
			continue;
		}
		struct ing_product *p = &out->items[out->count];
		p->ext = strdup(ext);
		p->guid = strdup(guid);
		if (!p->ext || !p->guid) {
			free(p->ext);
			free(p->guid);
			ing_products_free(out);
			return -ENOMEM;
		}
		out->count++;
	}
	return 0;
}

void ing_submissions_free(struct ing_submissions *s)
{
	free(s->newest_preview);
	free(s->result);
	memset(s, 0, sizeof(*s));
}

static const char *target_of(json_object *sub)
{
	json_object *target;
	if (!json_object_object_get_ex(sub, "target", &target))
		return NULL;
	return jsonutil_get_string(target, "targetType");
}

static int set_string(char **dst, const char *s)
{
	char *copy = s ? strdup(s) : NULL;
	if (s && !copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

/* "created" is ISO 8601 in UTC with the same precision throughout, so
 * comparing the strings orders them; an entry without one is oldest. */
int ing_model_submissions_of(json_object *values, struct ing_submissions *out)
{
	const char *newest_p = "", *newest_any = "";
	int err = 0;
	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(values, json_type_array))
		return -EIO;
	for (size_t i = 0; !err && i < json_object_array_length(values); i++) {
		json_object *s = json_object_array_get_idx(values, i);
		const char *target = target_of(s);
		const char *id = jsonutil_get_string(s, "id");
		const char *status = jsonutil_get_string(s, "status");
		const char *created = jsonutil_get_string(s, "created");
		int preview = target && strcmp(target, "preview") == 0;
		int live = target && strcmp(target, "live") == 0;
		if (!preview && !live)
			continue; /* the draft's reference, or another */
		out->preview |= preview;
		out->live |= live;
		if (status && strcmp(status, "completed") != 0)
			out->unfinished = 1;
		if (!created)
			created = "";
		if (preview && id && strcmp(created, newest_p) >= 0) {
			newest_p = created;
			err = set_string(&out->newest_preview, id);
		}
		if (!err && strcmp(created, newest_any) >= 0) {
			newest_any = created;
			err = set_string(&out->result,
					 jsonutil_get_string(s, "result"));
		}
	}
	if (err)
		ing_submissions_free(out);
	return err;
}

int ing_model_state_is_terminal(const char *state)
{
	return strcmp(state, "succeeded") == 0 ||
	       strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0;
}

int ing_model_job_status(const char *json, size_t len, char *state, size_t size,
			 int *terminal, struct buf *shown)
{
	json_object *doc = jsonutil_parse(json, len);
	const char *status = jsonutil_get_string(doc, "jobStatus");
	const char *result = jsonutil_get_string(doc, "jobResult");
	int err = -EIO;
	*terminal = status && strcmp(status, "completed") == 0;
	const char *word = *terminal ? result : status;
	/* The enum has "cancelled"; a server spelling it as the CPP API
	 * does is the same end (§6). */
	if (word && strcmp(word, "canceled") == 0)
		word = "cancelled";
	if (word && ident_is_word(word) && strlen(word) < size) {
		snprintf(state, size, "%s", word);
		err = jsonutil_render_pretty(doc, shown);
	}
	json_object_put(doc);
	return err;
}

int ing_model_job_id(const char *json, size_t len, char *id, size_t size)
{
	json_object *doc = jsonutil_parse(json, len);
	const char *job = jsonutil_get_string(doc, "jobId");
	if (!job)
		job = jsonutil_get_string(doc, "jobID");
	int err = -EIO;
	if (job && durable_is_name(job) && strlen(job) < size) {
		snprintf(id, size, "%s", job);
		err = 0;
	}
	json_object_put(doc);
	return err;
}
