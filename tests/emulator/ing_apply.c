/*
 * ing_apply.c - a configure job's resources applied to the store, all or
 * nothing: a resource with an id replaces that draft resource; one without
 * matches by type (plans and products by externalId, others by plan,
 * languageId and asset type) or is created with a new id; references may
 * be durable ids, {"externalId"} or {"resourceName"} of the same payload.  A submission
 * resource starts a publish (preview) or go-live (live) after the business
 * rules of ingestion-api.md 12 row 4; a broken rule fails the job with
 * errors[] and leaves the store as it was.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

#define TECH "virtual-machine-plan-technical-configuration"

struct ctx {
	struct ing_job *job;
	struct json_object *names;    /* resourceName -> durable id */
	struct json_object *sub;      /* the payload's submission, if any */
	struct ing_product **saved_p; /* drafts as they were, for a failure */
	struct json_object **saved_d;
	int nsaved, cap;
};

/* Keep p's draft as it was before the job's first change to it. */
static void save(struct ctx *c, struct ing_product *p)
{
	int i;

	for (i = 0; i < c->nsaved; i++)
		if (c->saved_p[i] == p)
			return;
	if (c->nsaved == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->saved_p = realloc(c->saved_p,
				     (size_t)c->cap * sizeof(*c->saved_p));
		c->saved_d = realloc(c->saved_d,
				     (size_t)c->cap * sizeof(*c->saved_d));
	}
	c->saved_p[c->nsaved] = p;
	c->saved_d[c->nsaved] = NULL;
	json_object_deep_copy(p->draft, &c->saved_d[c->nsaved], NULL);
	c->nsaved++;
}

static void error(struct ctx *c, const char *res, const char *code,
		  const char *inner, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void error(struct ctx *c, const char *res, const char *code,
		  const char *inner, const char *fmt, ...)
{
	struct json_object *e = json_object_new_object();
	struct json_object *d = json_object_new_object();
	struct json_object *det = json_object_new_array();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (res)
		json_object_object_add(e, "resourceId",
				       json_object_new_string(res));
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(d, "code", json_object_new_string(inner));
	json_object_object_add(d, "message", json_object_new_string(msg));
	json_object_object_add(d, "details", json_object_new_array());
	json_object_array_add(det, d);
	json_object_object_add(e, "details", det);
	json_object_array_add(c->job->errors, e);
}

static const char *name_of(struct json_object *res)
{
	return ing_str(res, "id") ? ing_str(res, "id")
				  : ing_str(res, "resourceName");
}

/* A reference (durable id, {externalId}, {resourceName}) as a durable id. */
static const char *ref_id(struct ctx *c, struct json_object *ref,
			  const struct ing_product *p, const char *type)
{
	struct json_object *v;
	const char *s;
	char t[64];
	size_t i, n;

	if (!ref)
		return NULL;
	if (json_object_is_type(ref, json_type_string))
		return json_object_get_string(ref);
	if ((s = ing_str(ref, "resourceName")))
		return json_object_object_get_ex(c->names, s, &v)
			       ? json_object_get_string(v)
			       : NULL;
	s = ing_str(ref, "externalId") ? ing_str(ref, "externalId")
				       : ing_str(ref, "externalID");
	if (!s)
		return NULL;
	if (!strcmp(type, "product")) {
		static char buf[64];
		const struct ing_product *q = ing_product_by_ext(s);

		return q ? ing_product_id(q, buf, sizeof(buf)) : NULL;
	}
	n = p ? json_object_array_length(p->draft) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *res =
			json_object_array_get_idx(p->draft, i);
		const char *e = ing_ext_id(res);

		if (ing_type_of(res, t, sizeof(t)) && !strcmp(t, type) && e &&
		    !strcmp(e, s))
			return ing_str(res, "id");
	}
	return NULL;
}

/* The second segment of a durable id: the product GUID. */
static struct ing_product *product_of_id(const char *id)
{
	const char *a = id ? strchr(id, '/') : NULL;
	char g[64];
	size_t n;

	if (!a)
		return NULL;
	n = strcspn(a + 1, "/");
	if (n >= sizeof(g))
		return NULL;
	memcpy(g, a + 1, n);
	g[n] = '\0';
	return ing_product(g);
}

static bool no_skus(struct json_object *res)
{
	struct json_object *v;

	return !json_object_object_get_ex(res, "skus", &v) ||
	       !json_object_is_type(v, json_type_array) ||
	       !json_object_array_length(v);
}

static int draft_index(const struct ing_product *p, const char *id)
{
	size_t i, n = json_object_array_length(p->draft);

	for (i = 0; i < n; i++) {
		const char *d =
			ing_str(json_object_array_get_idx(p->draft, i), "id");

		if (d && !strcmp(d, id))
			return (int)i;
	}
	return -1;
}

/* Without an id: the draft resource it updates, or -1 (a new one). */
static int match(const struct ing_product *p, const char *type,
		 struct json_object *res, const char *plan)
{
	size_t i, n = json_object_array_length(p->draft);
	const char *ext = ing_ext_id(res);
	char t[64];

	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(p->draft, i);
		const char *dp = ing_str(d, "plan"), *de = ing_ext_id(d);

		if (!ing_type_of(d, t, sizeof(t)) || strcmp(t, type))
			continue;
		if (!strcmp(type, "plan") || !strcmp(type, "product")) {
			if (ext && de && !strcmp(ext, de))
				return (int)i;
		} else if (ing_str(res, "type") &&
			   (!ing_str(d, "type") ||
			    strcmp(ing_str(d, "type"), ing_str(res, "type")))) {
			continue; /* listing-asset: another kind of asset */
		} else if (!plan || (dp && !strcmp(dp, plan))) {
			if (!ing_str(res, "languageId") ||
			    (ing_str(d, "languageId") &&
			     !strcmp(ing_str(d, "languageId"),
				     ing_str(res, "languageId"))))
				return (int)i;
		}
	}
	return -1;
}

static int apply_product(struct ctx *c, struct json_object *res,
			 struct ing_product **out)
{
	const char *id = ing_str(res, "id"), *ext = ing_ext_id(res);
	struct ing_product *p = id    ? product_of_id(id)
				: ext ? ing_product_by_ext(ext)
				      : NULL;
	char guid[40];

	if (id && !p) {
		error(c, id, "notFound", "resourceNotFound",
		      "Product %s was not found.", id);
		return -1;
	}
	if (!p && (!ext || !ing_str(res, "type") || !ing_str(res, "alias"))) {
		error(c, name_of(res), "badRequest", "businessValidationError",
		      "A new product needs identity.externalId, type and "
		      "alias.");
		return -1;
	}
	if (!p) {
		random_guid(guid);
		p = ing_product_new(guid);
	}
	*out = p;
	return 0;
}

static int apply_one(struct ctx *c, struct json_object *res)
{
	struct json_object *v = NULL, *copy = NULL;
	const char *id = ing_str(res, "id"), *plan = NULL, *pref;
	struct ing_product *p = NULL;
	char type[64], nid[512], g[40], pid[64];
	int idx;

	ing_type_of(res, type, sizeof(type));
	if (!strcmp(type, "product")) {
		if (apply_product(c, res, &p) < 0)
			return -1;
	} else {
		p = id ? product_of_id(id) : NULL;
		json_object_object_get_ex(res, "product", &v);
		if (!p && (pref = ref_id(c, v, NULL, "product")))
			p = product_of_id(pref);
		/* a listing-asset names its listing, not its product */
		if (!p && (pref = ing_str(res, "listing")))
			p = product_of_id(pref);
		if (!p) {
			error(c, name_of(res), "notFound", "resourceNotFound",
			      "The product of %s resource %s was not found.",
			      type, name_of(res) ? name_of(res) : "(unnamed)");
			return -1;
		}
		json_object_object_get_ex(res, "plan", &v);
		plan = json_object_object_get_ex(res, "plan", NULL)
			       ? ref_id(c, v, p, "plan")
			       : NULL;
		if (json_object_object_get_ex(res, "plan", NULL) &&
		    (!plan || draft_index(p, plan) < 0)) {
			error(c, name_of(res), "notFound", "resourceNotFound",
			      "The plan of %s resource %s was not found.", type,
			      name_of(res) ? name_of(res) : "(unnamed)");
			return -1;
		}
	}
	if (!strcmp(type, TECH) && no_skus(res)) {
		error(c, name_of(res), "badRequest", "businessValidationError",
		      "A plan technical configuration needs at least one SKU.");
		return -1;
	}
	idx = id ? draft_index(p, id) : match(p, type, res, plan);
	if (id && idx < 0) {
		error(c, id, "notFound", "resourceNotFound",
		      "Resource %s was not found.", id);
		return -1;
	}
	if (idx >= 0) {
		snprintf(nid, sizeof(nid), "%s",
			 ing_str(json_object_array_get_idx(p->draft,
							   (size_t)idx),
				 "id"));
	} else if (!strcmp(type, "product")) {
		ing_product_id(p, nid, sizeof(nid));
	} else if (!strcmp(type, "plan")) {
		random_guid(g);
		snprintf(nid, sizeof(nid), "plan/%s/%s", p->guid, g);
	} else if (plan && strrchr(plan, '/')) {
		snprintf(nid, sizeof(nid), "%s/%s/%s", type, p->guid,
			 strrchr(plan, '/') + 1);
	} else {
		random_hex(g, 4);
		snprintf(nid, sizeof(nid), "%s/%s/%s", type, p->guid, g);
	}
	save(c, p);
	json_object_deep_copy(res, &copy, NULL);
	json_object_object_del(copy, "resourceName");
	json_object_object_del(copy, "validations");
	json_object_object_add(copy, "id", json_object_new_string(nid));
	if (strcmp(type, "product") &&
	    json_object_object_get_ex(res, "product", NULL))
		json_object_object_add(copy, "product",
				       json_object_new_string(ing_product_id(
					       p, pid, sizeof(pid))));
	if (plan)
		json_object_object_add(copy, "plan",
				       json_object_new_string(plan));
	if (ing_str(res, "resourceName"))
		json_object_object_add(c->names, ing_str(res, "resourceName"),
				       json_object_new_string(nid));
	json_object_array_add(c->job->applied, json_object_get(copy));
	if (idx >= 0)
		json_object_array_put_idx(p->draft, (size_t)idx, copy);
	else if (!strcmp(type, "product"))
		json_object_array_put_idx(p->draft, 0, copy);
	else
		json_object_array_add(p->draft, copy);
	return 0;
}

static bool conflict(struct ctx *c, const struct ing_product *p,
		     const char *res)
{
	const struct ing_sub *u = ing_sub_unfinished(p);

	if (u)
		error(c, res, "conflict", "invalidState",
		      "An In Progress submission already exists "
		      "(submission/%s/%s, %s).",
		      p->guid, u->num, ing_target_name(u->target));
	return u != NULL;
}

/* Publish: every VM plan technical configuration needs a SKU. */
static int publishable(struct ctx *c, const struct ing_product *p)
{
	size_t i, n = json_object_array_length(p->draft);
	char t[64];

	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(p->draft, i);

		if (ing_type_of(d, t, sizeof(t)) && !strcmp(t, TECH) &&
		    no_skus(d)) {
			error(c, ing_str(d, "id"), "badRequest",
			      "businessValidationError",
			      "A plan technical configuration needs at least "
			      "one SKU.");
			return -1;
		}
	}
	return 0;
}

static int go_live(struct ctx *c, struct ing_product *p, const char *id,
		   const char *name)
{
	struct ing_sub *pv = ing_sub_current(p, TGT_PREVIEW);
	struct ing_sub *lv = ing_sub_current(p, TGT_LIVE), *s;
	const char *num = id ? strrchr(id, '/') + 1 : NULL;
	const char *life = ing_str(c->sub, "lifecycleState");

	if (life && lv && (!num || !strcmp(num, lv->num))) {
		/* deprecation (stop sell): the live entry at once */
		free(lv->lifecycle);
		lv->lifecycle = strdup(life);
		json_object_array_add(c->job->applied, ing_render_sub(p, lv));
		return 0;
	}
	if (conflict(c, p, name))
		return -1;
	if (!pv || (lv && !strcmp(lv->num, pv->num))) {
		error(c, name, "badRequest", "invalidState",
		      "There is no submission in preview to publish to live "
		      "for product/%s.",
		      p->guid);
		return -1;
	}
	if (num && strcmp(num, pv->num)) {
		if (ing_sub_find(p, num))
			error(c, name, "conflict", "invalidState",
			      "The submission cannot be pushed to as its not "
			      "the latest.");
		else
			error(c, name, "notFound", "resourceNotFound",
			      "Submission %s was not found.", id);
		return -1;
	}
	s = ing_sub_add(p, pv->num, TGT_LIVE);
	s->status = IS_RUNNING;
	s->snapshot = json_object_get(pv->snapshot);
	c->job->product = p;
	c->job->sub = s;
	return 0;
}

static int submit(struct ctx *c)
{
	struct json_object *res = c->sub, *v = NULL, *tg;
	const char *id = ing_str(res, "id"), *name = name_of(res), *pref;
	struct ing_product *p = id ? product_of_id(id) : NULL;
	enum ing_target t = TGT_PREVIEW;
	struct ing_sub *s;
	char num[32];

	json_object_object_get_ex(res, "product", &v);
	if (!p && (pref = ref_id(c, v, NULL, "product")))
		p = product_of_id(pref);
	if (!p) {
		error(c, name, "notFound", "resourceNotFound",
		      "The product of the submission was not found.");
		return -1;
	}
	if (json_object_object_get_ex(res, "target", &tg))
		ing_parse_target(ing_str(tg, "targetType"), &t);
	if (t == TGT_LIVE)
		return go_live(c, p, id, name);
	if (conflict(c, p, name) || publishable(c, p) < 0)
		return -1;
	ing_sub_number(num, sizeof(num));
	s = ing_sub_add(p, num, TGT_PREVIEW);
	s->status = IS_RUNNING;
	json_object_deep_copy(p->draft, &s->snapshot, NULL);
	c->job->product = p;
	c->job->sub = s;
	return 0;
}

int ing_apply(struct ing_job *job)
{
	size_t i, n = json_object_array_length(job->resources);
	size_t before = ing_nproducts();
	struct ctx c = {job, json_object_new_object(), NULL, NULL, NULL, 0, 0};
	char type[64];
	int rc = 0, k;

	job->applied = json_object_new_array();
	for (i = 0; i < n && rc == 0; i++) {
		struct json_object *res =
			json_object_array_get_idx(job->resources, i);

		ing_type_of(res, type, sizeof(type));
		if (strcmp(type, "submission"))
			rc = apply_one(&c, res);
		else if (c.sub) {
			error(&c, name_of(res), "badRequest", "invalidRequest",
			      "Only one submission resource per request.");
			rc = -1;
		} else
			c.sub = res;
	}
	if (rc == 0 && c.sub)
		rc = submit(&c);
	for (k = 0; k < c.nsaved; k++) {
		if (rc < 0) {
			json_object_put(c.saved_p[k]->draft);
			c.saved_p[k]->draft = c.saved_d[k];
		} else {
			json_object_put(c.saved_d[k]);
		}
	}
	if (rc < 0) {
		ing_product_drop_from(before);
		json_object_put(job->applied);
		job->applied = NULL;
	}
	json_object_put(c.names);
	free(c.saved_p);
	free(c.saved_d);
	return rc;
}
