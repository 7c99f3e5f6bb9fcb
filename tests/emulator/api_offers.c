/*
 * api_offers.c - reading and writing offers: publishers, offer types, the
 * offer list, one offer (draft, slot, version) with its ETag, PUT with the
 * If-Match decision table of cpp-api.md 4.3, and the offer status.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static void etag(struct reply *r, const struct offer *o, bool is_get)
{
	char tag[96];

	/* cpp-api.md 4.2: from 2020 on, GETs stopped carrying the ETag */
	if (is_get && cfg.no_get_etag)
		return;
	format_etag(&o->changed, tag, sizeof(tag));
	reply_header(r, "ETag", tag);
}

void api_list_publishers(struct req *q, struct reply *r)
{
	struct json_object *a = json_object_new_array();
	struct publisher *p;
	size_t i;

	for (i = 0; (p = store_publisher_at(i)); i++) {
		struct json_object *d, *def, *cats;

		if (!store_token_sees(q->tok, p->id))
			continue;
		d = json_object_new_object();
		def = json_object_new_object();
		cats = json_object_new_array();
		json_object_array_add(
			cats, json_object_new_string(
				      "microsoft-azure-virtualmachines"));
		json_object_object_add(d, "version", json_object_new_int(0));
		json_object_object_add(d, "id", json_object_new_string(p->id));
		json_object_object_add(def, "displayText",
				       json_object_new_string(p->display));
		json_object_object_add(def, "offerTypeCategories", cats);
		json_object_object_add(def, "sellerId",
				       json_object_new_int64(p->seller_id));
		json_object_object_add(d, "definition", def);
		json_object_array_add(a, d);
	}
	reply_json(r, 200, a);
}

void api_offer_types(struct reply *r)
{
	static const char *const types[] = {"microsoft-azure-virtualmachines",
					    "microsoft-azure-corevm"};
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < 2; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "id",
				       json_object_new_string(types[i]));
		json_object_array_add(a, t);
	}
	reply_json(r, 200, a);
}

void api_list_offers(struct publisher *p, struct reply *r)
{
	struct json_object *a = json_object_new_array_ext((int)p->noffers);
	size_t i;

	for (i = 0; i < p->noffers; i++)
		json_object_array_add(a, store_offer_summary(p->offers[i]));
	reply_json(r, 200, a);
}

void api_get_offer(struct offer *o, struct reply *r)
{
	reply_json(r, 200, store_offer_render(o));
	etag(r, o, true);
}

void api_get_slot(struct offer *o, const char *slot, struct reply *r)
{
	struct json_object *snap = NULL;

	if (!strcasecmp(slot, "draft")) {
		api_get_offer(o, r);
		return;
	}
	if (!strcasecmp(slot, "preview"))
		snap = o->preview;
	else if (!strcasecmp(slot, "production"))
		snap = o->production;
	else {
		reply_error(r, 404, "NotFound", "Unknown slot %s.", slot);
		return;
	}
	if (!snap) {
		reply_error(r, 404, "NotFound", "Offer %s has no %s slot yet.",
			    o->id, slot);
		return;
	}
	reply_json(r, 200, json_object_get(snap));
	etag(r, o, true);
}

void api_get_version(struct offer *o, const char *n, struct reply *r)
{
	const char *p;
	long v;

	for (p = n; *p; p++)
		if (!isdigit((unsigned char)*p))
			break;
	v = *n && !*p && p - n < 10 ? strtol(n, NULL, 10) : 0;
	if (v < 1 || v > o->nversions) {
		reply_error(r, 404, "NotFound",
			    "Version %s of offer %s was not found; check the "
			    "publisherId, offerId, and version.",
			    n, o->id);
		return;
	}
	reply_json(r, 200, json_object_get(o->versions[v - 1]));
	etag(r, o, true);
}

void api_get_status(struct offer *o, struct reply *r)
{
	reply_json(r, 200, offer_status_doc(o));
}

static struct json_object *parse_doc(struct req *q, struct reply *r)
{
	struct json_tokener *tok;
	struct json_object *doc, *def;

	if (q->too_big) {
		reply_error(r, 400, "RequestTooLarge",
			    "The request body exceeds 4 MiB.");
		return NULL;
	}
	tok = json_tokener_new();
	doc = json_tokener_parse_ex(tok, q->body, (int)q->len);
	if (doc && json_tokener_get_parse_end(tok) < q->len) {
		const char *rest = q->body + json_tokener_get_parse_end(tok);

		while (*rest && isspace((unsigned char)*rest))
			rest++;
		if (*rest) {
			json_object_put(doc);
			doc = NULL;
		}
	}
	json_tokener_free(tok);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		reply_error(r, 400, "InvalidJson",
			    "The request body is not a valid JSON object.");
		return NULL;
	}
	if (json_object_object_get_ex(doc, "definition", &def) &&
	    !json_object_is_type(def, json_type_object)) {
		json_object_put(doc);
		reply_error(r, 400, "BadRequest",
			    "\"definition\" must be an object.");
		return NULL;
	}
	return doc;
}

/* cpp-api.md 4.3 */
void api_put_offer(struct req *q, struct publisher *p, const char *id,
		   struct reply *r)
{
	struct offer *o = store_offer(p, id);
	const char *match = req_header(q, "If-Match");
	struct json_object *doc = parse_doc(q, r);
	char tag[96];

	if (!doc)
		return;
	if (o) {
		format_etag(&o->changed, tag, sizeof(tag));
		if (!match) {
			reply_error(r, 409, "InvalidResourceId",
				    "Offer ID already exists. If you wanted to "
				    "update an existing offer, please ensure "
				    "If-Match header is specified as per "
				    "documentation.");
		} else if (strcmp(match, "*") && strcmp(match, tag)) {
			reply_error(r, 412, "PreconditionFailed",
				    "The offer was modified since it was read "
				    "(If-Match does not match the ETag).");
		} else {
			store_offer_set_doc(o, doc);
			reply_json(r, 200, store_offer_render(o));
			etag(r, o, false);
			return;
		}
	} else if (match && strcmp(match, "*")) {
		reply_error(r, 412, "PreconditionFailed",
			    "Offer %s does not exist, so If-Match %s cannot "
			    "match.",
			    id, match);
	} else {
		o = store_offer_new(p, id);
		store_offer_set_doc(o, doc);
		reply_json(r, 201, store_offer_render(o));
		etag(r, o, false);
		return;
	}
	json_object_put(doc);
}
