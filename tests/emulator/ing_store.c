/*
 * ing_store.c - the ingestion side's data: products (their draft resources
 * and their submissions, each with the snapshot it published).  Seeding
 * is in ing_seed.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

struct ing_cfg ing_cfg = {
	.page_size = 100,
};

static struct ing_product **prods;
static size_t nprods, prodcap;

const char *ing_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* identity.externalId; the 2023 docs' externalID is read too */
const char *ing_ext_id(struct json_object *res)
{
	struct json_object *id;

	if (!json_object_object_get_ex(res, "identity", &id))
		return NULL;
	return ing_str(id, "externalId") ? ing_str(id, "externalId")
					 : ing_str(id, "externalID");
}

/* The type of a resource: its $schema's <type> segment, else its id's. */
const char *ing_type_of(struct json_object *res, char *buf, size_t n)
{
	const char *s = ing_str(res, "$schema"), *p, *e;

	if (s && (p = strstr(s, "/schema/"))) {
		p += 8;
		e = strchr(p, '/');
		if (e && (size_t)(e - p) < n) {
			memcpy(buf, p, (size_t)(e - p));
			buf[e - p] = '\0';
			return buf;
		}
	}
	s = ing_str(res, "id");
	if (s && (e = strchr(s, '/')) && (size_t)(e - s) < n) {
		memcpy(buf, s, (size_t)(e - s));
		buf[e - s] = '\0';
		return buf;
	}
	return NULL;
}

size_t ing_nproducts(void)
{
	return nprods;
}

struct ing_product *ing_product_at(size_t i)
{
	return i < nprods ? prods[i] : NULL;
}

struct ing_product *ing_product(const char *guid)
{
	size_t i;

	for (i = 0; i < nprods; i++)
		if (!strcmp(prods[i]->guid, guid))
			return prods[i];
	return NULL;
}

struct json_object *ing_find(const struct ing_product *p, const char *id)
{
	size_t i, n = json_object_array_length(p->draft);

	for (i = 0; i < n; i++) {
		struct json_object *res =
			json_object_array_get_idx(p->draft, i);
		const char *rid = ing_str(res, "id");

		if (rid && !strcmp(rid, id))
			return res;
	}
	return NULL;
}

struct ing_product *ing_product_by_ext(const char *ext)
{
	char id[64];
	size_t i;

	for (i = 0; i < nprods; i++) {
		struct json_object *res = ing_find(
			prods[i], ing_product_id(prods[i], id, sizeof(id)));
		const char *e = res ? ing_ext_id(res) : NULL;

		if (e && !strcmp(e, ext))
			return prods[i];
	}
	return NULL;
}

struct ing_product *ing_product_new(const char *guid)
{
	struct ing_product *p = calloc(1, sizeof(*p));

	p->guid = strdup(guid);
	p->draft = json_object_new_array();
	if (nprods == prodcap) {
		prodcap = prodcap ? prodcap * 2 : 16;
		prods = realloc(prods, prodcap * sizeof(*prods));
	}
	prods[nprods++] = p;
	return p;
}

static void sub_free(struct ing_sub *s)
{
	json_object_put(s->snapshot);
	free(s->lifecycle);
	free(s->num);
	free(s);
}

static void product_free(struct ing_product *p)
{
	int i;

	for (i = 0; i < p->nsubs; i++)
		sub_free(p->subs[i]);
	free(p->subs);
	json_object_put(p->draft);
	free(p->guid);
	free(p);
}

/* Forget the products created after the first n (a failed job's). */
void ing_product_drop_from(size_t n)
{
	while (nprods > n)
		product_free(prods[--nprods]);
}

/* Submission numbers: 19 digits, above 2^53, as the service's are. */
void ing_sub_number(char *buf, size_t n)
{
	static unsigned long long next = 1152921505698000000ULL;
	char h[9];

	random_hex(h, 4);
	next += 1000 + strtoull(h, NULL, 16) % 1000;
	snprintf(buf, n, "%llu", next);
}

struct ing_sub *ing_sub_add(struct ing_product *p, const char *num,
			    enum ing_target t)
{
	struct ing_sub *s = calloc(1, sizeof(*s));

	s->num = strdup(num);
	s->target = t;
	now_real(&s->created);
	if (p->nsubs == p->subcap) {
		p->subcap = p->subcap ? p->subcap * 2 : 8;
		p->subs =
			realloc(p->subs, (size_t)p->subcap * sizeof(*p->subs));
	}
	p->subs[p->nsubs++] = s;
	return s;
}

void ing_sub_remove(struct ing_product *p, struct ing_sub *s)
{
	int i;

	for (i = 0; i < p->nsubs; i++) {
		if (p->subs[i] != s)
			continue;
		memmove(p->subs + i, p->subs + i + 1,
			(size_t)(p->nsubs - i - 1) * sizeof(*p->subs));
		p->nsubs--;
		sub_free(s);
		return;
	}
}

/* The newest entry with that number (its live one once it went live). */
struct ing_sub *ing_sub_find(const struct ing_product *p, const char *num)
{
	int i;

	for (i = p->nsubs - 1; i >= 0; i--)
		if (!strcmp(p->subs[i]->num, num))
			return p->subs[i];
	return NULL;
}

/* The newest succeeded entry of a target: what is in preview or live. */
struct ing_sub *ing_sub_current(const struct ing_product *p, enum ing_target t)
{
	int i;

	for (i = p->nsubs - 1; i >= 0; i--)
		if (p->subs[i]->target == t &&
		    p->subs[i]->status == IS_COMPLETED &&
		    p->subs[i]->result == IR_SUCCEEDED)
			return p->subs[i];
	return NULL;
}

/*
 * What resource-tree?targetType=t shows: the current entry, or while none
 * has succeeded (a first publish running or failed) the newest one, so a
 * tree exists exactly when a submission for the target does.
 */
struct ing_sub *ing_sub_tree(const struct ing_product *p, enum ing_target t)
{
	struct ing_sub *s = ing_sub_current(p, t);
	int i;

	for (i = p->nsubs - 1; i >= 0 && !s; i--)
		if (p->subs[i]->target == t)
			s = p->subs[i];
	return s;
}

struct ing_sub *ing_sub_unfinished(const struct ing_product *p)
{
	int i;

	for (i = 0; i < p->nsubs; i++)
		if (p->subs[i]->status != IS_COMPLETED)
			return p->subs[i];
	return NULL;
}

static const char *const target_names[] = {"draft", "preview", "live"};
static const char *const status_names[] = {"notStarted", "running",
					   "completed"};
static const char *const result_names[] = {"pending", "succeeded", "failed",
					   "cancelled"};

const char *ing_target_name(enum ing_target t)
{
	return target_names[t];
}

const char *ing_status_name(enum ing_status s)
{
	return status_names[s];
}

const char *ing_result_name(enum ing_result r)
{
	return result_names[r];
}

int ing_parse_target(const char *s, enum ing_target *t)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (s && !strcmp(s, target_names[i])) {
			*t = (enum ing_target)i;
			return 0;
		}
	}
	return -1;
}

/* A seeded word (status or result) as its enum value; -1 if unknown. */
int ing_parse_word(const char *s, bool result)
{
	const char *const *names = result ? result_names : status_names;
	int i, n = result ? 4 : 3;

	for (i = 0; i < n; i++)
		if (s && !strcmp(s, names[i]))
			return i;
	return -1;
}

void ing_store_free(void)
{
	ing_product_drop_from(0);
	free(prods);
	prods = NULL;
	prodcap = 0;
	ing_jobs_free();
}

/* For GET /_emulator/state: products, their submissions, the jobs. */
struct json_object *ing_dump(void)
{
	struct json_object *d = json_object_new_object();
	struct json_object *pa = json_object_new_array();
	char id[64];
	size_t i;
	int k;

	for (i = 0; i < nprods; i++) {
		struct ing_product *p = prods[i];
		struct json_object *pj = json_object_new_object();
		struct json_object *sa = json_object_new_array();
		struct json_object *res =
			ing_find(p, ing_product_id(p, id, sizeof(id)));

		json_object_object_add(pj, "id", json_object_new_string(id));
		json_object_object_add(
			pj, "externalId",
			json_object_new_string(
				res && ing_ext_id(res) ? ing_ext_id(res) : ""));
		json_object_object_add(
			pj, "resources",
			json_object_new_int(
				(int)json_object_array_length(p->draft)));
		for (k = 0; k < p->nsubs; k++)
			json_object_array_add(sa,
					      ing_render_sub(p, p->subs[k]));
		json_object_object_add(pj, "submissions", sa);
		json_object_array_add(pa, pj);
	}
	json_object_object_add(d, "products", pa);
	json_object_object_add(d, "jobs", ing_jobs_dump());
	return d;
}
