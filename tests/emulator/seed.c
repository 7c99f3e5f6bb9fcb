/*
 * seed.c - fills the store at start-up from a --seed JSON file (format in
 * tests/emulator/seed.json) and with --offers N synthetic offers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"

static const char *str_of(struct json_object *obj, const char *key,
			  const char *dflt)
{
	struct json_object *v;

	if (json_object_object_get_ex(obj, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

static struct json_object *get(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static int status_of(const char *s, enum offer_status *out)
{
	static const char *const names[] = {
		[OS_NEVER] = "neverPublished",
		[OS_NOTSTARTED] = "notStarted",
		[OS_WAITING] = "waitingForPublisherReview",
		[OS_RUNNING] = "running",
		[OS_SUCCEEDED] = "succeeded",
		[OS_CANCELED] = "canceled",
		[OS_FAILED] = "failed",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum offer_status)i;
			return 0;
		}
	}
	return -1;
}

static struct json_object *copy(struct json_object *src)
{
	struct json_object *dst = NULL;

	if (!src || json_object_deep_copy(src, &dst, NULL) < 0)
		return json_object_new_object();
	return dst;
}

static int seed_op(struct offer *o, struct json_object *oj)
{
	enum op_type type;
	enum op_state state;
	struct json_object *step = get(oj, "step");
	const char *id = str_of(oj, "id", NULL);
	struct op *op;

	if (!id || op_parse_type(str_of(oj, "type", "publish"), &type) < 0 ||
	    op_parse_state(str_of(oj, "state", "completed"), &state) < 0) {
		fprintf(stderr, "seed: offer %s: bad operation\n", o->id);
		return -1;
	}
	op = op_new(o, type, str_of(oj, "emails", o->emails));
	free(op->id);
	op->id = strdup(id);
	op_seed_state(op, state, step ? json_object_get_int(step) : -1,
		      str_of(oj, "error", NULL));
	return 0;
}

static void seed_slots(struct offer *o, struct json_object *slots)
{
	size_t i, n = slots ? json_object_array_length(slots) : 0;
	int v;

	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(
			json_object_array_get_idx(slots, i));

		if (!strcasecmp(s, "preview") && !o->preview)
			o->preview = store_offer_render(o);
		if (!strcasecmp(s, "production") && !o->production)
			o->production = store_offer_render(o);
	}
	/* A live offer has been published as versions 1..version. */
	if (!o->production)
		return;
	o->versions = calloc((size_t)o->version, sizeof(*o->versions));
	for (v = 1; v <= o->version; v++) {
		struct json_object *snap = store_offer_render(o);

		json_object_object_add(snap, "version", json_object_new_int(v));
		o->versions[v - 1] = snap;
	}
	o->nversions = o->version;
}

static int seed_offer(struct publisher *p, struct json_object *oj)
{
	static const char *const seed_only[] = {"status", "version", "slots",
						"operations",
						"notificationEmails"};
	const char *id = str_of(oj, "id", NULL);
	struct json_object *doc, *ops, *ver;
	struct offer *o;
	size_t i, n;

	if (!id || store_offer(p, id)) {
		fprintf(stderr,
			"seed: publisher %s: offer without id or twice\n",
			p->id);
		return -1;
	}
	o = store_offer_new(p, id);
	doc = copy(oj);
	for (i = 0; i < sizeof(seed_only) / sizeof(seed_only[0]); i++)
		json_object_object_del(doc, seed_only[i]);
	store_offer_set_doc(o, doc);
	if (status_of(str_of(oj, "status", "neverPublished"), &o->status) < 0) {
		fprintf(stderr, "seed: offer %s: bad status\n", id);
		return -1;
	}
	o->awaiting_signoff = o->status == OS_WAITING;
	ver = get(oj, "version");
	o->version = ver ? json_object_get_int(ver) : 1;
	if (o->version < 1)
		o->version = 1;
	if (str_of(oj, "notificationEmails", NULL))
		o->emails = strdup(str_of(oj, "notificationEmails", ""));
	seed_slots(o, get(oj, "slots"));
	ops = get(oj, "operations");
	n = ops ? json_object_array_length(ops) : 0;
	for (i = 0; i < n; i++)
		if (seed_op(o, json_object_array_get_idx(ops, i)) < 0)
			return -1;
	op_seed_times(o);
	return 0;
}

static int seed_publisher(struct json_object *pj)
{
	const char *id = str_of(pj, "id", NULL);
	struct json_object *offers = get(pj, "offers"), *sid;
	struct publisher *p;
	size_t i, n;

	if (!id) {
		fprintf(stderr, "seed: publisher without id\n");
		return -1;
	}
	p = store_publisher(id);
	if (!p) {
		sid = get(pj, "sellerId");
		p = store_publisher_new(id, str_of(pj, "displayText", id),
					sid ? json_object_get_int64(sid) : 0);
	}
	n = offers ? json_object_array_length(offers) : 0;
	for (i = 0; i < n; i++)
		if (seed_offer(p, json_object_array_get_idx(offers, i)) < 0)
			return -1;
	return 0;
}

int seed_load(const char *path)
{
	struct json_object *root = json_object_from_file(path), *a;
	int rc = -1;
	size_t i, n;

	if (!root) {
		fprintf(stderr,
			"cloudpartner-emulator: cannot load seed %s: %s\n",
			path, json_util_get_last_err());
		return -1;
	}
	a = get(root, "tokens");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(a, i);

		if (str_of(t, "token", NULL))
			store_add_token(str_of(t, "token", ""),
					get(t, "publishers"), 0);
	}
	a = get(root, "clients");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(a, i);

		store_add_client(
			str_of(c, "tenant", ""), str_of(c, "client_id", ""),
			str_of(c, "client_secret", ""), get(c, "publishers"));
	}
	a = get(root, "publishers");
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++)
		if (seed_publisher(json_object_array_get_idx(a, i)) < 0)
			goto out;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

void seed_synthetic(long n)
{
	struct publisher *p = store_publisher("contoso");
	char id[32], text[64];
	long i;

	if (!p)
		p = store_publisher_new("contoso", "Contoso Ltd", 0);
	for (i = 1; i <= n; i++) {
		struct json_object *doc, *def, *offer, *plans, *plan;

		snprintf(id, sizeof(id), "offer-%05ld", i);
		if (store_offer(p, id))
			continue;
		snprintf(text, sizeof(text), "Synthetic offer %05ld", i);
		doc = json_object_new_object();
		def = json_object_new_object();
		offer = json_object_new_object();
		plans = json_object_new_array();
		plan = json_object_new_object();
		json_object_object_add(
			doc, "offerTypeId",
			json_object_new_string(
				"microsoft-azure-virtualmachines"));
		json_object_object_add(def, "displayText",
				       json_object_new_string(text));
		json_object_object_add(offer,
				       "microsoft-azure-marketplace.title",
				       json_object_new_string(text));
		json_object_object_add(def, "offer", offer);
		json_object_object_add(plan, "planId",
				       json_object_new_string("standard"));
		json_object_array_add(plans, plan);
		json_object_object_add(def, "plans", plans);
		json_object_object_add(doc, "definition", def);
		store_offer_set_doc(store_offer_new(p, id), doc);
	}
}
