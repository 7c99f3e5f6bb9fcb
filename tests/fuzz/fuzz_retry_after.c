/** @file
 * fuzz_retry_after: the Retry-After header (delta-seconds or an HTTP-date)
 * and the header line splitter of http.c. Both are static there, so this
 * target compiles http.c into itself rather than widening its contract.
 *
 *   build-fuzz/tests/fuzz/fuzz_retry_after tests/fuzz/corpus/retry_after
 */
#include "../../fs/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response resp;
	struct http_xfer x = {.resp = &resp, .max_body = 1024};
	char *line, *v;
	long s;

	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	v = http_header_value(line, strlen(line));
	if (v) {
		s = http_parse_retry_after(v);
		if (s < -1)
			abort();
		free(v);
	}
	/* A whole header line, as curl's header callback receives it
	 * (NUL bytes included). */
	memset(&resp, 0, sizeof(resp));
	resp.retry_after_s = -1;
	if (http_on_header(line, 1, size, &x) != size)
		abort();
	if (resp.retry_after_s < -1)
		abort();
	http_response_free(&resp);
	free(line);
	return 0;
}
