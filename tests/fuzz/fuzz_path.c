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

#include "partnerfs/config.h"
#include "partnerfs/ident.h"
#include "partnerfs/log.h"
#include "partnerfs/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* options.c defines the options, but this target does not link it (it
 * parses none); the node table reads them. */
struct pfs_config pfs_config;

static void check_capture(const char *pattern, const char *cap,
			  const char *value)
{
	if (strstr(pattern, cap) && !ident_is_valid(value))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], back[PATH_MAX];
	struct node n;

	if (size >= sizeof(path))
		return 0;
	/* The kernel never passes a NUL inside a path. */
	memcpy(path, data, size);
	path[size] = '\0';
	log_set_level(LOG_LVL_ERROR);
	if (tree_match(path, &n) != 0)
		return 0;
	if (!n.type)
		abort();
	check_capture(n.type->pattern, "{pub}", n.pub);
	check_capture(n.type->pattern, "{offer}", n.offer);
	check_capture(n.type->pattern, "{name}", n.name);
	if (tree_path(n.type, &n, back, sizeof(back)) != 0 ||
	    strcmp(back, path) != 0)
		abort();
	return 0;
}
