/** @file
 * fuzz_emails: control-file input (what a user writes to publish, golive
 * or cancel) -> the notification list that goes into the POST body.
 *
 *   build-fuzz/tests/fuzz/fuzz_emails tests/fuzz/corpus/emails
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "partnerfs/buf.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT;
	char why[128];
	int rc;

	rc = model_parse_emails((const char *)data, size, &out, why,
				sizeof(why));
	if (rc == 0) {
		/* The list goes into a JSON string and a header-free body:
		 * no quote, backslash, blank or control byte may pass. */
		for (size_t i = 0; i < out.len; i++) {
			unsigned char c = (unsigned char)out.data[i];

			if (c <= ' ' || c == '"' || c == '\\' || c >= 0x7f)
				abort();
		}
		if (out.len && out.data[out.len] != '\0')
			abort();
	} else if (strlen(why) >= sizeof(why)) {
		abort();
	}
	buf_free(&out);
	return 0;
}
