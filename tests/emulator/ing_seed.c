/*
 * ing_seed.c - the ingestion products at start-up: the --ingestion-seed
 * file (format in README.md) and --products N synthetic ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ing.h"

static void parse_time(const char *s, struct timespec *ts)
{
	struct tm tm = {0};
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!rest) {
		now_real(ts);
		return;
	}
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = 0;
	if (*rest == '.')
		ts->tv_nsec = (long)(strtod(rest, NULL) * 1e9);
}

static struct json_object *copy(struct json_object *src)
{
	struct json_object *dst = NULL;

	json_object_deep_copy(src, &dst, NULL);
	return dst;
}

static int seed_sub(struct ing_product *p, struct json_object *sj)
{
	struct json_object *snap = NULL;
	const char *num = ing_str(sj, "id");
	enum ing_target t;
	struct ing_sub *s;
	int st, rs;

	st = ing_parse_word(ing_str(sj, "status") ? ing_str(sj, "status")
						  : "completed",
			    false);
	rs = ing_parse_word(ing_str(sj, "result") ? ing_str(sj, "result")
						  : "succeeded",
			    true);
	if (!num || ing_parse_target(ing_str(sj, "target"), &t) < 0 ||
	    t == TGT_DRAFT || st < 0 || rs < 0) {
		fprintf(stderr, "ingestion seed: product %s: bad submission\n",
			p->guid);
		return -1;
	}
	s = ing_sub_add(p, num, t);
	s->status = (enum ing_status)st;
	s->result = (enum ing_result)rs;
	s->ticks = -1; /* a seeded unfinished one never ends */
	parse_time(ing_str(sj, "created"), &s->created);
	if (ing_str(sj, "lifecycleState"))
		s->lifecycle = strdup(ing_str(sj, "lifecycleState"));
	json_object_object_get_ex(sj, "snapshot", &snap);
	s->snapshot = snap && json_object_is_type(snap, json_type_array)
			      ? copy(snap)
			      : copy(p->draft);
	return 0;
}

/* "unpublished": draft resources changed (same id) or added since. */
static void seed_unpublished(struct ing_product *p, struct json_object *a)
{
	size_t i, j, n = a ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *res = json_object_array_get_idx(a, i);
		const char *id = ing_str(res, "id");
		size_t m = json_object_array_length(p->draft);

		for (j = 0; j < m; j++) {
			const char *d = ing_str(
				json_object_array_get_idx(p->draft, j), "id");

			if (id && d && !strcmp(id, d))
				break;
		}
		if (j < m)
			json_object_array_put_idx(p->draft, j, copy(res));
		else
			json_object_array_add(p->draft, copy(res));
	}
}

static int seed_product(struct json_object *pj)
{
	struct json_object *draft, *subs = NULL, *unpub = NULL, *first;
	const char *id;
	struct ing_product *p;
	size_t i, n;

	if (!json_object_object_get_ex(pj, "draft", &draft) ||
	    !json_object_is_type(draft, json_type_array) ||
	    !(first = json_object_array_get_idx(draft, 0)) ||
	    !(id = ing_str(first, "id")) || strncmp(id, "product/", 8) ||
	    ing_product(id + 8)) {
		fprintf(stderr, "ingestion seed: a product's draft must start "
				"with a product resource of a new id\n");
		return -1;
	}
	p = ing_product_new(id + 8);
	json_object_put(p->draft);
	p->draft = copy(draft);
	if (json_object_object_get_ex(pj, "unlisted", &first))
		p->unlisted = json_object_get_boolean(first);
	json_object_object_get_ex(pj, "submissions", &subs);
	n = subs ? json_object_array_length(subs) : 0;
	for (i = 0; i < n; i++)
		if (seed_sub(p, json_object_array_get_idx(subs, i)) < 0)
			return -1;
	json_object_object_get_ex(pj, "unpublished", &unpub);
	seed_unpublished(p, unpub);
	return 0;
}

/* json-c's tokener is not strict: single quotes keep this readable */
#define S ING_SCHEMA_HOST
#define SYNTHETIC                                                              \
	"[{'$schema': '" S "product/2022-03-01-preview3',"                     \
	" 'id': 'product/%1$s', 'identity': {'externalId': "                   \
	"'product-%2$05ld'},"                                                  \
	" 'type': 'azureVirtualMachine', 'alias': 'Synthetic product "         \
	"%2$05ld'},"                                                           \
	" {'$schema': '" S "plan/2022-03-01-preview2',"                        \
	" 'id': 'plan/%1$s/%3$s', 'product': 'product/%1$s',"                  \
	" 'identity': {'externalId': 'gen2'}, 'alias': 'Gen 2'},"              \
	" {'$schema': '" S "virtual-machine-plan-technical-configuration/"     \
	"2022-03-01-preview5',"                                                \
	" 'id': 'virtual-machine-plan-technical-configuration/%1$s/%3$s',"     \
	" 'product': 'product/%1$s', 'plan': 'plan/%1$s/%3$s',"                \
	" 'skus': [{'imageType': 'x64Gen2', 'skuId': 'gen2'}],"                \
	" 'vmImageVersions': []}]"

/* --products N: product-00001.., draft only, a plan gen2 with a SKU. */
static void seed_synthetic(long n)
{
	char guid[64], plan[64], json[4096];
	struct ing_product *p;
	long i;

	for (i = 1; i <= n; i++) {
		snprintf(guid, sizeof(guid), "c0000000-0000-4000-8000-%012ld",
			 i);
		snprintf(plan, sizeof(plan), "c1000000-0000-4000-8000-%012ld",
			 i);
		if (ing_product(guid))
			continue;
		snprintf(json, sizeof(json), SYNTHETIC, guid, i, plan);
		p = ing_product_new(guid);
		json_object_put(p->draft);
		p->draft = json_tokener_parse(json);
	}
}

int ing_store_init(void)
{
	struct json_object *root, *a;
	size_t i, n;

	if (!ing_cfg.seed)
		goto synthetic;
	root = json_object_from_file(ing_cfg.seed);
	if (!root) {
		fprintf(stderr, "cloudpartner-emulator: %s: %s\n", ing_cfg.seed,
			json_util_get_last_err());
		return -1;
	}
	a = json_object_object_get_ex(root, "products", &a) ? a : NULL;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		if (seed_product(json_object_array_get_idx(a, i)) < 0) {
			json_object_put(root);
			return -1;
		}
	}
	json_object_put(root);
synthetic:
	seed_synthetic(ing_cfg.products);
	return 0;
}
