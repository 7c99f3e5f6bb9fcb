/* Unit tests: the events log (events.c), in its file: appended lines read
 * back whole, and past the bound the older half dropped at a line start,
 * the newest line kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "partnerfs/events.h"

#define BOUND ((size_t)4 << 20)

static void test_events_lines_in_order(void)
{
	struct content c = {0};
	events_append("first");
	events_append("second");
	CHECK(events_show(&c) == 0);
	CHECK(c.len == strlen(c.data));
	CHECK(strstr(c.data, "Z first\n") != NULL);
	CHECK(strstr(c.data, "Z second\n") > strstr(c.data, "Z first\n"));
	CHECK(c.data[c.len - 1] == '\n');
	content_free(&c);
}

static void test_events_bounded(void)
{
	char line[200];
	size_t n = 0;
	struct content c = {0};
	/* About 2.5 times the bound: it is halved twice. */
	for (; n < 100000; n++) {
		snprintf(
			line, sizeof(line),
			"contoso/offer-%06zu operation c0ffee00-0000-4000-8000-"
			"%012zu running -> completed",
			n, n);
		events_append(line);
	}
	CHECK(events_show(&c) == 0);
	CHECK(c.len <= BOUND);
	CHECK(c.len > BOUND / 2 - 200);
	CHECK(c.len == strlen(c.data));
	/* Whole lines only: it starts with a stamp, ends with the newest. */
	CHECK(strncmp(c.data, "20", 2) == 0);
	snprintf(line, sizeof(line), "offer-%06zu operation", n - 1);
	const char *last = strrchr(c.data, '\n');
	CHECK(last == c.data + c.len - 1);
	CHECK(strstr(c.data + c.len - 200, line) != NULL);
	CHECK(strstr(c.data, "offer-000000 ") == NULL);
	content_free(&c);
}

int main(void)
{
	RUN(test_events_lines_in_order);
	RUN(test_events_bounded);
	events_cleanup();
	return check_exit_status();
}
