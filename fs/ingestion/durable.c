/* durable.c: durable ids -> file names (see durable.h). A server (or a
 * fuzzer) chose the id: every segment is checked before it becomes part
 * of a path, and nothing is assumed about its length. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "durable.h"

#define NAME_MAX_LEN 200
#define SEGMENTS_MAX 32

int durable_is_name(const char *s)
{
	size_t n = 0;
	if (!s || s[0] == '.' || !s[0])
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= NAME_MAX_LEN ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return 0;
	}
	return 1;
}

/* Splits id at '/' into seg (pointers into copy). The count, or -EINVAL
 * for an empty segment or too many. */
static int split(const char *id, char *copy, size_t size, char **seg)
{
	size_t len = strlen(id);
	int n = 0;
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(copy, id, len + 1);
	for (char *p = copy;; n++) {
		char *slash = strchr(p, '/');
		if (n >= SEGMENTS_MAX)
			return -EINVAL;
		seg[n] = p;
		if (slash)
			*slash = '\0';
		if (!durable_is_name(p))
			return -EINVAL;
		if (!slash)
			return n + 1;
		p = slash + 1;
	}
}

int durable_product_guid(const char *id, char *out, size_t size)
{
	char copy[1024], *seg[SEGMENTS_MAX];
	int n = id ? split(id, copy, sizeof(copy), seg) : -EINVAL;
	if (n < 2 || strlen(seg[1]) >= size)
		return -EINVAL;
	strcpy(out, seg[1]);
	return 0;
}

static const char *plan_name(const char *seg, const struct durable_plan *plans,
			     size_t nplans)
{
	for (size_t i = 0; i < nplans; i++)
		if (plans[i].guid && strcasecmp(plans[i].guid, seg) == 0)
			return plans[i].external_id;
	return NULL;
}

int durable_path(const char *id, const char *product_guid,
		 const struct durable_plan *plans, size_t nplans, size_t depth,
		 struct buf *out)
{
	char copy[1024], *seg[SEGMENTS_MAX];
	int n = id ? split(id, copy, sizeof(copy), seg) : -EINVAL;
	if (n < 2 || !product_guid || strcasecmp(seg[1], product_guid) != 0)
		return -EINVAL;
	/* The first plan GUID among the other segments names the plan. */
	int plan_at = -1;
	const char *plan = NULL;
	for (int i = 2; i < n && plan_at < 0; i++)
		if ((plan = plan_name(seg[i], plans, nplans)))
			plan_at = i;
	if (plan && !durable_is_name(plan))
		return -EINVAL;
	size_t levels = (size_t)(n - 1) - (plan ? 1 : 0) + (plan ? 2 : 0);
	if (levels > depth)
		return -E2BIG;
	int err = 0;
	if (plan)
		err = buf_printf(out, "plans/%s/", plan);
	if (!err)
		err = buf_puts(out, seg[0]);
	for (int i = 2; i < n && !err; i++)
		if (i != plan_at)
			err = buf_printf(out, "/%s", seg[i]);
	if (!err)
		err = buf_puts(out, ".json");
	return err;
}
