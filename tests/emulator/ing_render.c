/*
 * ing_render.c - resources as a GET shows them: a copy of the stored one
 * with listing-asset URLs SAS-signed (stable, or re-signed on every call
 * with --resign-sas), submission resources built from their entries, and
 * the --shuffle-resources order of resources[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

#define SUB_SCHEMA ING_SCHEMA_HOST "submission/2022-03-01-preview2"

const char *ing_product_id(const struct ing_product *p, char *buf, size_t n)
{
	snprintf(buf, n, "product/%s", p->guid);
	return buf;
}

static unsigned long fnv(const char *s)
{
	unsigned long h = 2166136261UL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619UL;
	return h & 0xffffffffUL;
}

static void iso_enc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H%%3A%M%%3A%SZ", &tm);
}

/*
 * The blob URL of an asset, read-only SAS appended.  Stable signatures
 * derive from the resource id; --resign-sas makes sig, st and se new on
 * every call, as the service's are.
 */
static void sign(struct json_object *res)
{
	const char *url = ing_str(res, "url"), *id = ing_str(res, "id");
	char sig[80], st[40], se[40], *out;
	time_t now = time(NULL);
	size_t len;

	if (!url)
		return;
	len = strcspn(url, "?");
	if (ing_cfg.resign) {
		random_hex(sig, 16);
		iso_enc(now - 300, st, sizeof(st));
		iso_enc(now + 86400, se, sizeof(se));
	} else {
		snprintf(sig, sizeof(sig), "%08lx%08lx", fnv(id ? id : url),
			 fnv(url));
		snprintf(st, sizeof(st), "2026-01-01T00%%3A00%%3A00Z");
		snprintf(se, sizeof(se), "2099-01-01T00%%3A00%%3A00Z");
	}
	out = malloc(len + 200);
	snprintf(out, len + 200,
		 "%.*s?sv=2020-08-04&st=%s&se=%s&sr=b&sp=r&sig=%s%%3D",
		 (int)len, url, st, se, sig);
	json_object_object_add(res, "url", json_object_new_string(out));
	free(out);
}

struct json_object *ing_render(struct json_object *res)
{
	struct json_object *c = NULL;
	char type[64];

	json_object_deep_copy(res, &c, NULL);
	if (ing_type_of(c, type, sizeof(type)) &&
	    !strcmp(type, "listing-asset"))
		sign(c);
	return c;
}

struct json_object *ing_render_list(struct json_object *arr)
{
	struct json_object *out = json_object_new_array();
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++)
		json_object_array_add(
			out, ing_render(json_object_array_get_idx(arr, i)));
	return out;
}

static struct json_object *sub_base(const struct ing_product *p,
				    const char *num, enum ing_target t)
{
	struct json_object *d = json_object_new_object();
	struct json_object *tg = json_object_new_object();
	char id[128];

	json_object_object_add(d, "$schema",
			       json_object_new_string(SUB_SCHEMA));
	snprintf(id, sizeof(id), "submission/%s/%s", p->guid, num);
	json_object_object_add(d, "id", json_object_new_string(id));
	json_object_object_add(
		d, "product",
		json_object_new_string(ing_product_id(p, id, sizeof(id))));
	json_object_object_add(tg, "targetType",
			       json_object_new_string(ing_target_name(t)));
	json_object_object_add(d, "target", tg);
	return d;
}

struct json_object *ing_render_draft_sub(const struct ing_product *p)
{
	return sub_base(p, "0", TGT_DRAFT);
}

struct json_object *ing_render_sub(const struct ing_product *p,
				   const struct ing_sub *s)
{
	struct json_object *d = sub_base(p, s->num, s->target);
	char t[48];

	json_object_object_add(
		d, "status",
		json_object_new_string(ing_status_name(s->status)));
	/* the schema's result has no "cancelled" */
	json_object_object_add(
		d, "result",
		json_object_new_string(ing_result_name(
			s->result == IR_CANCELLED ? IR_FAILED : s->result)));
	format_time(&s->created, t, sizeof(t));
	json_object_object_add(d, "created", json_object_new_string(t));
	json_object_object_add(
		d, "lifecycleState",
		json_object_new_string(s->lifecycle ? s->lifecycle
						    : "generallyAvailable"));
	return d;
}

/* --shuffle-resources: a new order on every call (Fisher-Yates). */
void ing_shuffle(struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);
	char h[9];

	if (!ing_cfg.shuffle || n < 2)
		return;
	for (i = n - 1; i > 0; i--) {
		struct json_object *a, *b;
		size_t j;

		random_hex(h, 4);
		j = strtoul(h, NULL, 16) % (i + 1);
		if (j == i)
			continue;
		a = json_object_get(json_object_array_get_idx(arr, i));
		b = json_object_get(json_object_array_get_idx(arr, j));
		json_object_array_put_idx(arr, i, b);
		json_object_array_put_idx(arr, j, a);
	}
}
