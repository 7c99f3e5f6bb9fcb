/** @file
 * fuzz_ing_tree: a resource tree of the product ingestion API as a server
 * could send it, through ing_model_tree: every file kept must be a path
 * of names below its target directory, sorted and unique, and the key
 * must not depend on the order of the resources.
 *
 *   build-fuzz/tests/fuzz/fuzz_ing_tree tests/fuzz/corpus/ing_tree
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"
#include "model.h"
#include "partnerfs/jsonutil.h"
#include "partnerfs/log.h"

#define GUID "a1b2c3d4-0000-4000-8000-000000000001"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_files(const struct ing_tree *t)
{
	for (size_t i = 0; i < t->count; i++) {
		const char *p = t->files[i].path;
		size_t depth = 1;
		if (!p[0] || p[0] == '/' || strstr(p, "//") ||
		    strstr(p, "/.") || p[0] == '.' || !t->files[i].text ||
		    strlen(t->files[i].text) != t->files[i].len)
			abort();
		for (const char *c = p; *c; c++)
			depth += *c == '/';
		if (depth > 10)
			abort();
		if (i && strcmp(t->files[i - 1].path, p) >= 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_LVL_ERROR);
	json_object *tree = jsonutil_parse((const char *)data, size);
	if (!tree)
		return 0;
	struct ing_tree t;
	struct buf shown = BUF_INIT;
	unsigned long long key, again;
	if (ing_model_tree(tree, GUID, 10, &t, &shown, &key) == 0) {
		check_files(&t);
		ing_tree_free(&t);
		/* Sorted already: the same meaning, the same key. */
		struct buf second = BUF_INIT;
		if (ing_model_tree(tree, GUID, 10, &t, &second, &again) != 0 ||
		    again != key || second.len != shown.len)
			abort();
		ing_tree_free(&t);
		buf_free(&second);
	}
	buf_free(&shown);
	json_object_put(tree);
	return 0;
}
