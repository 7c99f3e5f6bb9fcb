/** @file
 * fuzz_path: a path as the kernel hands it to FUSE -> the node it names
 * (tree_match makes no request). A match must have captured only valid
 * identifiers, and its path must rebuild to exactly the input.
 *
 *   build-fuzz/tests/fuzz/fuzz_path tests/fuzz/corpus/path
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/backend.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "partnerfs/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every capture of the row's pattern holds a valid identifier. */
static void check_captures(const struct node *n)
{
	size_t k = 0;
	for (const char *p = n->type->pattern; (p = strchr(p, '{')); p++)
		if (k >= NODE_CAPS || !ident_is_valid(n->cap[k++]))
			abort();
}

/* One backend's tree: a match rebuilds to exactly the input. */
static void check_tree(const struct backend *be, const char *path)
{
	char back[PATH_MAX];
	struct node n;

	nodes_set_backend_rows(be->rows, be->row_count);
	if (tree_match(path, &n) != 0)
		return;
	if (!n.type)
		abort();
	check_captures(&n);
	if (tree_path(n.type, &n, back, sizeof(back)) != 0 ||
	    strcmp(back, path) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];

	if (size >= sizeof(path))
		return 0;
	/* The kernel never passes a NUL inside a path. */
	memcpy(path, data, size);
	path[size] = '\0';
	log_set_level(LOG_LVL_ERROR);
	for (size_t i = 0; backend_at(i); i++)
		check_tree(backend_at(i), path);
	return 0;
}
