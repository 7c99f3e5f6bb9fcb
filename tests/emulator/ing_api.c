/*
 * ing_api.c - the /rp/product-ingestion router: bearer token (401), then
 * $version (400), then the route; the GETs of products, plans, durable
 * ids, resource trees and submissions (paged with @nextLink).  Configure
 * and its jobs are in ing_jobs.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

#define PREFIX "/rp/product-ingestion/"

static const char *const versions[] = {
	"2022-03-01-preview2", "2022-03-01-preview3", "2022-03-01-preview4",
	"2022-03-01-preview5", "2022-03-01-preview6", "2022-07-01",
	"2023-07-15",	       "2026-04-01-preview1",
};

/* The error envelope of ingestion-api.md 7.2: code, message, details. */
void ing_error(struct reply *r, unsigned status, const char *code,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_verror(r, status, code, json_object_new_array(), fmt, ap);
	va_end(ap);
}

static void not_found(struct reply *r, const char *what)
{
	ing_error(r, 404, "notFound",
		  "Resource not found: %s. Ensure you're using the correct ID.",
		  what);
}

static void percent_encode(char *out, size_t n, const char *s)
{
	size_t o = 0;

	for (; *s && o + 4 < n; s++) {
		if (isalnum((unsigned char)*s) || strchr("-._~", *s))
			out[o++] = *s;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X",
					      (unsigned char)*s);
	}
	out[o] = '\0';
}

/*
 * One page of items (taken over) as {"value": [...], "@nextLink"}: the
 * page is --page-size long, or $maxpagesize if smaller; the link is
 * absolute, repeats the query's filters and adds continuationToken.
 */
static void page(struct req *q, struct reply *r, const char *path,
		 struct json_object *items)
{
	static const char *const keep[] = {"product", "externalId", "type",
					   "targetType", "$maxpagesize"};
	struct json_object *d = json_object_new_object(), *val;
	char *ct = query_get(q->query, "continuationToken");
	char *mp = query_get(q->query, "$maxpagesize");
	char *v = query_get(q->query, "$version");
	size_t i, n = json_object_array_length(items), off = 0;
	long size = ing_cfg.page_size;
	char link[2048], enc[512], *end;

	if (ct) {
		off = strtoul(ct[0] == 'c' ? ct + 1 : "", &end, 16);
		if (ct[0] != 'c' || *end || end == ct + 1 || off > n) {
			ing_error(r, 400, "badRequest",
				  "The continuationToken is not valid.");
			goto out;
		}
	}
	if (mp && strtol(mp, NULL, 10) > 0 && strtol(mp, NULL, 10) < size)
		size = strtol(mp, NULL, 10);
	val = json_object_new_array();
	for (i = off; i < n && i < off + (size_t)size; i++)
		json_object_array_add(
			val,
			json_object_get(json_object_array_get_idx(items, i)));
	json_object_object_add(d, "value", val);
	if (i < n) {
		snprintf(link, sizeof(link), "%s" PREFIX "%s?$version=%s",
			 server_url(), path, v ? v : ING_VERSION_NEWEST);
		for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
			char *kv = query_get(q->query, keep[k]);

			if (!kv)
				continue;
			percent_encode(enc, sizeof(enc), kv);
			snprintf(link + strlen(link),
				 sizeof(link) - strlen(link), "&%s=%s", keep[k],
				 enc);
			free(kv);
		}
		snprintf(link + strlen(link), sizeof(link) - strlen(link),
			 "&continuationToken=c%zx", i);
		json_object_object_add(d, "@nextLink",
				       json_object_new_string(link));
	}
	reply_json(r, 200, d);
	d = NULL;
out:
	json_object_put(d);
	json_object_put(items);
	free(ct);
	free(mp);
	free(v);
}

/* targetType, with the docs' quotes stripped (or refused, by a switch) */
static int target_arg(struct req *q, struct reply *r, enum ing_target *t,
		      bool *given)
{
	char *v = query_get(q->query, "targetType"), *s = v;
	size_t n;
	int rc = 0;

	*given = v != NULL;
	*t = TGT_DRAFT;
	if (!v)
		return 0;
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"' &&
	    !ing_cfg.reject_quotes) {
		s[n - 1] = '\0';
		s++;
	}
	if (ing_parse_target(s, t) < 0) {
		ing_error(r, 400, "badRequest",
			  "Invalid targetType '%s': expected draft, preview "
			  "or live.",
			  v);
		rc = -1;
	}
	free(v);
	return rc;
}

static struct ing_product *product_arg(const char *ref)
{
	if (!ref)
		return NULL;
	if (!strncmp(ref, "product/", 8))
		ref += 8;
	return ing_product(ref);
}

static void list_products(struct req *q, struct reply *r)
{
	char *ext = query_get(q->query, "externalId");
	char *type = query_get(q->query, "type");
	struct json_object *items = json_object_new_array();
	char id[64];
	size_t i;

	for (i = 0; i < ing_nproducts(); i++) {
		struct ing_product *p = ing_product_at(i);
		struct json_object *res =
			ing_find(p, ing_product_id(p, id, sizeof(id)));
		const char *e = res ? ing_ext_id(res) : NULL;
		const char *t = res ? ing_str(res, "type") : NULL;

		if (!res || (!ext && p->unlisted) ||
		    (ext && (!e || strcasecmp(e, ext))) ||
		    (type && (!t || strcasecmp(t, type))))
			continue;
		json_object_array_add(items, ing_render(res));
	}
	page(q, r, "product", items);
	free(ext);
	free(type);
}

static void list_plans(struct req *q, struct reply *r)
{
	char *prod = query_get(q->query, "product");
	char *ext = query_get(q->query, "externalId");
	struct ing_product *p = product_arg(prod);
	struct json_object *items;
	char type[64];
	size_t i, n;

	if (!prod) {
		ing_error(r, 400, "badRequest",
			  "The query parameter 'product' is required.");
	} else if (!p) {
		not_found(r, prod);
	} else {
		items = json_object_new_array();
		n = json_object_array_length(p->draft);
		for (i = 0; i < n; i++) {
			struct json_object *res =
				json_object_array_get_idx(p->draft, i);
			const char *e = ing_ext_id(res);

			if (!ing_type_of(res, type, sizeof(type)) ||
			    strcmp(type, "plan") ||
			    (ext && (!e || strcasecmp(e, ext))))
				continue;
			json_object_array_add(items, ing_render(res));
		}
		page(q, r, "plan", items);
	}
	free(prod);
	free(ext);
}

static void resource_tree(struct req *q, const char *ref, struct reply *r)
{
	struct ing_product *p = product_arg(ref);
	struct json_object *d, *tg, *res;
	const struct ing_sub *s = NULL;
	enum ing_target t;
	char id[64];
	bool given;

	if (target_arg(q, r, &t, &given) < 0)
		return;
	if (!p) {
		not_found(r, ref);
		return;
	}
	if (t != TGT_DRAFT && !(s = ing_sub_tree(p, t))) {
		ing_error(r, 404, "notFound",
			  "No %s submission exists for product/%s.",
			  ing_target_name(t), p->guid);
		return;
	}
	d = json_object_new_object();
	tg = json_object_new_object();
	json_object_object_add(
		d, "$schema",
		json_object_new_string(ING_SCHEMA_HOST
				       "resource-tree/2022-03-01-preview2"));
	json_object_object_add(
		d, "root",
		json_object_new_string(ing_product_id(p, id, sizeof(id))));
	json_object_object_add(tg, "targetType",
			       json_object_new_string(ing_target_name(t)));
	json_object_object_add(d, "target", tg);
	res = ing_render_list(s ? s->snapshot : p->draft);
	json_object_array_add(res, s ? ing_render_sub(p, s)
				     : ing_render_draft_sub(p));
	ing_shuffle(res);
	json_object_object_add(d, "resources", res);
	reply_json(r, 200, d);
}

static void submissions(struct req *q, char **s, int n, struct reply *r)
{
	struct ing_product *p = product_arg(s[1]);
	struct json_object *items;
	const struct ing_sub *sub;
	enum ing_target t;
	char path[128];
	bool given;
	int i;

	if (!p) {
		not_found(r, s[1]);
	} else if (n == 3) {
		sub = strcmp(s[2], "0") ? ing_sub_find(p, s[2]) : NULL;
		if (!strcmp(s[2], "0"))
			reply_json(r, 200, ing_render_draft_sub(p));
		else if (sub)
			reply_json(r, 200, ing_render_sub(p, sub));
		else
			not_found(r, q->raw_path + strlen(PREFIX));
	} else if (target_arg(q, r, &t, &given) == 0) {
		items = json_object_new_array();
		if (!given || t == TGT_DRAFT)
			json_object_array_add(items, ing_render_draft_sub(p));
		for (i = 0; i < p->nsubs; i++)
			if (!given || p->subs[i]->target == t)
				json_object_array_add(
					items, ing_render_sub(p, p->subs[i]));
		snprintf(path, sizeof(path), "submission/%s", p->guid);
		page(q, r, path, items);
	}
}

/* GET <durable id>: the draft resource (ingestion-api.md 4.2) */
static void durable(char **s, int n, struct reply *r)
{
	struct ing_product *p = n >= 2 ? ing_product(s[1]) : NULL;
	struct json_object *res = NULL;
	char id[512] = "";
	int i;

	for (i = 0; i < n; i++)
		snprintf(id + strlen(id), sizeof(id) - strlen(id), "%s%s",
			 i ? "/" : "", s[i]);
	if (p)
		res = ing_find(p, id);
	if (res)
		reply_json(r, 200, ing_render(res));
	else
		not_found(r, id);
}

static bool is_get(struct req *q, struct reply *r)
{
	if (!strcmp(q->method, "GET"))
		return true;
	ing_error(r, 405, "methodNotAllowed",
		  "The requested resource does not support http method '%s'.",
		  q->method);
	return false;
}

static void route(struct req *q, struct reply *r)
{
	char **s = q->seg + 2;
	int n = q->nseg - 2;

	if (n <= 0) {
		not_found(r, "/");
	} else if (!strcmp(s[0], "configure") && n == 1) {
		if (!strcmp(q->method, "POST"))
			ing_configure(q, r);
		else
			ing_error(r, 405, "methodNotAllowed",
				  "Use POST configure.");
	} else if (!strcmp(s[0], "configure")) {
		ing_job_route(q, s + 1, n - 1, r);
	} else if (!is_get(q, r)) {
		return;
	} else if (!strcmp(s[0], "product") && n == 1) {
		list_products(q, r);
	} else if (!strcmp(s[0], "plan") && n == 1) {
		list_plans(q, r);
	} else if (!strcmp(s[0], "resource-tree") &&
		   (n == 2 || (n == 3 && !strcmp(s[1], "product")))) {
		resource_tree(q, s[n - 1], r);
	} else if (!strcmp(s[0], "submission") && n >= 3 &&
		   !strcmp(s[1], "product") && n <= 4) {
		/* submission/product/<g>[/<n>]: the durable-id form */
		char *alt[3] = {s[0], s[2], n == 4 ? s[3] : NULL};

		submissions(q, alt, n - 1, r);
	} else if (!strcmp(s[0], "submission") && (n == 2 || n == 3)) {
		submissions(q, s, n, r);
	} else {
		durable(s, n, r);
	}
}

static int version_check(struct req *q, struct reply *r)
{
	char *v = query_get(q->query, "$version");
	size_t i;
	int rc = -1;

	if (!v && ing_cfg.version_optional)
		return 0;
	if (!v) {
		ing_error(r, 400, "badRequest",
			  "The query parameter '$version' is required.");
		return -1;
	}
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(v, versions[i]))
			rc = 0;
	if (rc)
		ing_error(r, 400, "badRequest",
			  "The schema version '%s' is not supported.", v);
	free(v);
	return rc;
}

void ing_handle(struct req *q, struct reply *r)
{
	const char *h = req_header(q, "Authorization");
	const struct token *tok = NULL;

	pthread_mutex_lock(&store_lock);
	if (h && !strncasecmp(h, "Bearer ", 7)) {
		for (h += 7; *h == ' '; h++)
			;
		tok = store_token(h);
	}
	if (!tok || tok->aud == AUD_CPP) {
		reply_error(r, 401, "InvalidAuthenticationToken",
			    h ? "Access token validation failure. Invalid "
				"audience or expired token."
			      : "Access token is empty.");
		reply_header(r, "WWW-Authenticate", "Bearer");
	} else if (version_check(q, r) == 0) {
		route(q, r);
	}
	pthread_mutex_unlock(&store_lock);
}
