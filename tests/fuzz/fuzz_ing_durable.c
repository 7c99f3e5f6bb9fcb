/** @file
 * fuzz_ing_durable: durable ids -> file paths. The input is an id, then
 * after a NUL a plan GUID and after another its externalId. Every path
 * made must be names joined by '/', ending in ".json", never deeper than
 * asked, and never with "." or ".." in it.
 *
 *   build-fuzz/tests/fuzz/fuzz_ing_durable tests/fuzz/corpus/ing_durable
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "durable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 3);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = in[size + 1] = in[size + 2] = '\0';
	const char *id = in;
	const char *guid = id + strlen(id) + 1;
	if (guid > in + size)
		guid = in + size + 1;
	const char *ext = guid + strlen(guid) + 1;
	if (ext > in + size + 1)
		ext = in + size + 2;
	struct durable_plan plan = {guid, ext};
	struct buf path = BUF_INIT;
	char product[64];
	if (durable_product_guid(id, product, sizeof(product)) == 0) {
		if (!durable_is_name(product))
			abort();
		if (durable_path(id, product, &plan, 1, 6, &path) == 0) {
			size_t depth = 1;
			for (const char *c = path.data; *c; c++)
				depth += *c == '/';
			if (depth > 6 || strstr(path.data, "/.") ||
			    path.data[0] == '.' || strstr(path.data, "//") ||
			    path.len < 6 ||
			    strcmp(path.data + path.len - 5, ".json") != 0)
				abort();
		}
	}
	buf_free(&path);
	free(in);
	return 0;
}
