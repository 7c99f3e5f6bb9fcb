/*
 * store.c - the data model: publishers with their offers (draft document,
 * slot snapshots, versions), and the bearer tokens and AAD clients that may
 * see them.  Seeding is in seed.c, operations in ops.c.
 */
#include <json-c/linkhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "store.h"

pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static struct publisher **pubs;
static size_t npubs, pubcap;
static struct token *tokens;
static struct client *clients;
static struct timespec last_change;

struct publisher *store_publisher(const char *id)
{
	size_t i;

	for (i = 0; i < npubs; i++)
		if (!strcmp(pubs[i]->id, id))
			return pubs[i];
	return NULL;
}

struct publisher *store_publisher_at(size_t i)
{
	return i < npubs ? pubs[i] : NULL;
}

struct publisher *store_publisher_new(const char *id, const char *display,
				      long seller_id)
{
	struct publisher *p = calloc(1, sizeof(*p));

	p->id = strdup(id);
	p->display = strdup(display ? display : id);
	p->seller_id = seller_id ? seller_id : 100000 + (long)npubs;
	p->index = lh_kchar_table_new(64, NULL);
	if (npubs == pubcap) {
		pubcap = pubcap ? pubcap * 2 : 8;
		pubs = realloc(pubs, pubcap * sizeof(*pubs));
	}
	pubs[npubs++] = p;
	return p;
}

struct offer *store_offer(struct publisher *p, const char *id)
{
	void *v;

	return lh_table_lookup_ex(p->index, id, &v) ? v : NULL;
}

struct offer *store_offer_new(struct publisher *p, const char *id)
{
	struct offer *o = calloc(1, sizeof(*o));

	o->id = strdup(id);
	o->pub = p;
	o->type_id = strdup("microsoft-azure-virtualmachines");
	o->status = OS_NEVER;
	o->version = 1;
	o->doc = json_object_new_object();
	if (p->noffers == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->offers = realloc(p->offers, p->cap * sizeof(*p->offers));
	}
	p->offers[p->noffers++] = o;
	lh_table_insert(p->index, o->id, o);
	return o;
}

/*
 * Every write gets a distinct changedTime, hence a distinct ETag, even when
 * two PUTs land within the 100 ns resolution of the tag.
 */
static void touch(struct offer *o)
{
	struct timespec now;

	now_real(&now);
	if (now.tv_sec < last_change.tv_sec ||
	    (now.tv_sec == last_change.tv_sec &&
	     now.tv_nsec / 100 <= last_change.tv_nsec / 100)) {
		now = last_change;
		now.tv_nsec = (now.tv_nsec / 100 + 1) * 100;
		if (now.tv_nsec >= 1000000000) {
			now.tv_sec++;
			now.tv_nsec -= 1000000000;
		}
	}
	last_change = now;
	o->changed = now;
}

/* Takes ownership of doc; keys the server owns are dropped. */
void store_offer_set_doc(struct offer *o, struct json_object *doc)
{
	static const char *const owned[] = {"publisherId", "id",
					    "status",	   "version",
					    "changedTime", "eTag"};
	struct json_object *v;
	size_t i;

	if (json_object_object_get_ex(doc, "offerTypeId", &v) &&
	    json_object_is_type(v, json_type_string)) {
		free(o->type_id);
		o->type_id = strdup(json_object_get_string(v));
	}
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		json_object_object_del(doc, owned[i]);
	json_object_object_del(doc, "offerTypeId");
	json_object_put(o->doc);
	o->doc = doc;
	touch(o);
}

const char *offer_status_name(const struct offer *o)
{
	switch (o->status) {
	case OS_NEVER:
		return "neverPublished";
	case OS_NOTSTARTED:
		return "notStarted";
	case OS_WAITING:
		/* cpp-api.md 12 row 18 */
		return cfg.observed_signoff ? "running"
					    : "waitingForPublisherReview";
	case OS_RUNNING:
		return "running";
	case OS_SUCCEEDED:
		return "succeeded";
	case OS_CANCELED:
		return "canceled";
	case OS_FAILED:
		return "failed";
	}
	return "unknown";
}

struct json_object *store_offer_render(const struct offer *o)
{
	struct json_object *d = json_object_new_object();
	struct json_object *def = NULL;
	char t[48];

	json_object_object_add(d, "offerTypeId",
			       json_object_new_string(o->type_id));
	json_object_object_add(d, "publisherId",
			       json_object_new_string(o->pub->id));
	json_object_object_add(d, "id", json_object_new_string(o->id));
	json_object_object_add(d, "status",
			       json_object_new_string(offer_status_name(o)));
	json_object_object_add(d, "version", json_object_new_int(o->version));
	json_object_object_foreach(o->doc, key, val)
	{
		if (!strcmp(key, "definition"))
			def = val;
		else
			json_object_object_add(d, key, json_object_get(val));
	}
	json_object_object_add(d, "definition",
			       def ? json_object_get(def)
				   : json_object_new_object());
	format_time(&o->changed, t, sizeof(t));
	json_object_object_add(d, "changedTime", json_object_new_string(t));
	return d;
}

struct json_object *store_offer_summary(const struct offer *o)
{
	struct json_object *d = json_object_new_object();
	struct json_object *def = json_object_new_object(), *dd, *txt;
	char t[48];

	json_object_object_add(d, "offerTypeId",
			       json_object_new_string(o->type_id));
	json_object_object_add(d, "publisherId",
			       json_object_new_string(o->pub->id));
	json_object_object_add(d, "status",
			       json_object_new_string(offer_status_name(o)));
	json_object_object_add(d, "id", json_object_new_string(o->id));
	json_object_object_add(d, "version", json_object_new_int(o->version));
	if (json_object_object_get_ex(o->doc, "definition", &dd) &&
	    json_object_object_get_ex(dd, "displayText", &txt))
		json_object_object_add(def, "displayText",
				       json_object_get(txt));
	json_object_object_add(d, "definition", def);
	format_time(&o->changed, t, sizeof(t));
	json_object_object_add(d, "changedTime", json_object_new_string(t));
	return d;
}

void store_add_token(const char *value, struct json_object *publ,
		     double expires)
{
	struct token *t = calloc(1, sizeof(*t));
	size_t i, n;

	t->value = strdup(value);
	t->expires = expires;
	if (publ && json_object_is_type(publ, json_type_array)) {
		n = json_object_array_length(publ);
		t->pubs = calloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			t->pubs[i] = strdup(json_object_get_string(
				json_object_array_get_idx(publ, i)));
		t->npubs = (int)n;
	}
	t->next = tokens;
	tokens = t;
}

void store_add_client(const char *tenant, const char *id, const char *secret,
		      struct json_object *publ)
{
	struct client *c = calloc(1, sizeof(*c));

	c->tenant = strdup(tenant);
	c->id = strdup(id);
	c->secret = strdup(secret);
	c->pubs = publ ? json_object_get(publ) : NULL;
	c->next = clients;
	clients = c;
}

const struct token *store_token(const char *value)
{
	const struct token *t;

	for (t = tokens; t; t = t->next) {
		if (strcmp(t->value, value))
			continue;
		if (t->expires && now_mono() >= t->expires)
			return NULL;
		return t;
	}
	return NULL;
}

bool store_token_sees(const struct token *t, const char *pub)
{
	int i;

	if (!t->pubs)
		return true;
	for (i = 0; i < t->npubs; i++)
		if (!strcmp(t->pubs[i], pub))
			return true;
	return false;
}

/* Client-credentials grant: a fresh random token with the client's rights. */
const char *store_issue_token(const char *tenant, const char *client_id,
			      const char *secret, int aud, int *why)
{
	const struct client *c;
	bool tenant_known = false;
	char hex[65];

	for (c = clients; c; c = c->next) {
		if (strcmp(c->tenant, tenant))
			continue;
		tenant_known = true;
		if (strcmp(c->id, client_id) || strcmp(c->secret, secret))
			continue;
		random_hex(hex, 32);
		store_add_token(hex, c->pubs,
				now_mono() + (double)cfg.token_ttl);
		tokens->aud = aud;
		*why = TOK_OK;
		return tokens->value;
	}
	*why = tenant_known ? TOK_BAD_CLIENT : TOK_NO_TENANT;
	return NULL;
}

int store_init(void)
{
	int i;

	for (i = 0; i < cfg.ntokens; i++)
		store_add_token(cfg.tokens[i], NULL, 0);
	if (cfg.seed && seed_load(cfg.seed) < 0)
		return -1;
	if (cfg.offers > 0)
		seed_synthetic(cfg.offers);
	return 0;
}

struct json_object *store_dump(void)
{
	struct json_object *d = json_object_new_object();
	struct json_object *pa = json_object_new_array();
	struct json_object *ta = json_object_new_array();
	const struct token *t;
	size_t i, j;
	int k;

	for (i = 0; i < npubs; i++) {
		struct json_object *pj = json_object_new_object();
		struct json_object *oa = json_object_new_array();

		json_object_object_add(pj, "id",
				       json_object_new_string(pubs[i]->id));
		for (j = 0; j < pubs[i]->noffers; j++) {
			struct offer *o = pubs[i]->offers[j];
			struct json_object *oj = store_offer_summary(o);
			struct json_object *ops = json_object_new_array();

			json_object_object_add(
				oj, "slots",
				json_object_new_string(
					o->production
						? "draft,preview,production"
					: o->preview ? "draft,preview"
						     : "draft"));
			json_object_object_add(
				oj, "versions",
				json_object_new_int(o->nversions));
			for (k = 0; k < o->nops; k++)
				json_object_array_add(ops,
						      op_submission(o->ops[k]));
			json_object_object_add(oj, "operations", ops);
			json_object_array_add(oa, oj);
		}
		json_object_object_add(pj, "offers", oa);
		json_object_array_add(pa, pj);
	}
	for (t = tokens; t; t = t->next) {
		struct json_object *tj = json_object_new_object();

		json_object_object_add(tj, "token",
				       json_object_new_string(t->value));
		json_object_object_add(
			tj, "expired",
			json_object_new_boolean(t->expires &&
						now_mono() >= t->expires));
		json_object_array_add(ta, tj);
	}
	json_object_object_add(d, "publishers", pa);
	json_object_object_add(d, "tokens", ta);
	return d;
}

static void offer_free(struct offer *o)
{
	int i;

	for (i = 0; i < o->nops; i++)
		op_free(o->ops[i]);
	for (i = 0; i < o->nversions; i++)
		json_object_put(o->versions[i]);
	free(o->ops);
	free(o->versions);
	json_object_put(o->doc);
	json_object_put(o->preview);
	json_object_put(o->production);
	free(o->emails);
	free(o->type_id);
	free(o->id);
	free(o);
}

void store_free(void)
{
	size_t i, j;

	for (i = 0; i < npubs; i++) {
		for (j = 0; j < pubs[i]->noffers; j++)
			offer_free(pubs[i]->offers[j]);
		lh_table_free(pubs[i]->index);
		free(pubs[i]->offers);
		free(pubs[i]->display);
		free(pubs[i]->id);
		free(pubs[i]);
	}
	free(pubs);
	while (tokens) {
		struct token *t = tokens;
		int k;

		tokens = t->next;
		for (k = 0; k < t->npubs; k++)
			free(t->pubs[k]);
		free(t->pubs);
		free(t->value);
		free(t);
	}
	while (clients) {
		struct client *c = clients;

		clients = c->next;
		json_object_put(c->pubs);
		free(c->tenant);
		free(c->id);
		free(c->secret);
		free(c);
	}
}
