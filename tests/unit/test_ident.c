/* Unit tests: ident (validation, percent-encoding) and buf. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "partnerfs/buf.h"
#include "partnerfs/ident.h"

static void test_ident_valid_names(void)
{
	CHECK(ident_is_valid("contoso"));
	CHECK(ident_is_valid("contoso-vm"));
	CHECK(ident_is_valid("a"));
	CHECK(ident_is_valid("..."));
	CHECK(ident_is_valid(".hidden"));
	CHECK(ident_is_valid("059afc24-07de-4126-b004-4e42a51816fe"));
	/* Legacy operation ids (doc/cpp-api.md §6.5). */
	CHECK(ident_is_valid("contoso$contoso-offer$2$preview"));
	/* UTF-8 is allowed, and encoded on the way out. */
	CHECK(ident_is_valid("caf\xc3\xa9"));
	CHECK(ident_is_valid("\xff"));
}

static void test_ident_words(void)
{
	CHECK(ident_is_word("running"));
	CHECK(ident_is_word("eyJ0eXAi.b-c_d"));
	CHECK(!ident_is_word(""));
	CHECK(!ident_is_word("rnot st"));
	CHECK(!ident_is_word("running\n"));
	CHECK(!ident_is_word("a\tb"));
	CHECK(!ident_is_word("del\x7f"));
}

static void test_ident_invalid_names(void)
{
	CHECK(!ident_is_valid(NULL));
	CHECK(!ident_is_valid(""));
	CHECK(!ident_is_valid("."));
	CHECK(!ident_is_valid(".."));
	CHECK(!ident_is_valid("a/b"));
	CHECK(!ident_is_valid("/"));
	CHECK(!ident_is_valid("%2e%2e"));
	CHECK(!ident_is_valid("100%"));
	CHECK(!ident_is_valid("a\\b"));
	CHECK(!ident_is_valid("a b"));
	CHECK(!ident_is_valid("a\tb"));
	CHECK(!ident_is_valid("a\nb"));
	CHECK(!ident_is_valid("\x01"));
	CHECK(!ident_is_valid("a\x7f"));
	CHECK(!ident_is_valid("\x1f"));
}

static void test_ident_length_limit(void)
{
	char name[300];

	memset(name, 'x', sizeof(name));
	name[255] = '\0';
	CHECK(ident_is_valid(name));
	name[255] = 'x';
	name[256] = '\0';
	CHECK(!ident_is_valid(name));
	name[299] = '\0';
	CHECK(!ident_is_valid(name));
}

static const char *encoded(struct buf *b, const char *name)
{
	buf_reset(b);
	if (ident_append_encoded(b, name))
		return NULL;
	return b->data;
}

static void test_ident_encoding(void)
{
	struct buf b = BUF_INIT;

	CHECK_STR(encoded(&b, "contoso"), "contoso");
	CHECK_STR(encoded(&b, "A-Za-z0-9._~"), "A-Za-z0-9._~");
	CHECK_STR(encoded(&b, "p$o$2$preview"), "p%24o%242%24preview");
	CHECK_STR(encoded(&b, "a b/c%d"), "a%20b%2Fc%25d");
	CHECK_STR(encoded(&b, "caf\xc3\xa9"), "caf%C3%A9");
	CHECK_STR(encoded(&b, "?#&=+"), "%3F%23%26%3D%2B");
	CHECK_STR(encoded(&b, ""), "");
	buf_free(&b);
}

static void test_buf_basics(void)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	s = buf_steal(&b);
	CHECK_STR(s, "");
	free(s);
	CHECK(buf_puts(&b, "hello") == 0);
	CHECK(buf_append(&b, ", ", 2) == 0);
	CHECK(buf_printf(&b, "%s %d", "world", 42) == 0);
	CHECK_STR(b.data, "hello, world 42");
	CHECK(b.len == strlen("hello, world 42"));
	for (i = 0; i < 1000; i++)
		CHECK(buf_printf(&b, "%04d", i) == 0);
	CHECK(b.len == 15 + 4000);
	CHECK(b.data[b.len] == '\0');
	buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0');
	CHECK(buf_append(&b, "x", 0) == 0);
	CHECK_STR(b.data, "");
	s = buf_steal(&b);
	CHECK(b.data == NULL && b.len == 0);
	free(s);
	buf_free(&b);
}

static void test_buf_drop_head_lines(void)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "one\ntwo\nthree\n");
	CHECK(buf_drop_head_lines(&b, 0) == 0);
	CHECK_STR(b.data, "one\ntwo\nthree\n");
	/* Inside a line: the whole line goes, never half of one. */
	CHECK(buf_drop_head_lines(&b, 1) == 4);
	CHECK_STR(b.data, "two\nthree\n");
	/* Ending on a newline: exactly that much. */
	CHECK(buf_drop_head_lines(&b, 4) == 4);
	CHECK_STR(b.data, "three\n");
	CHECK(buf_drop_head_lines(&b, 99) == 6 && b.len == 0);
	buf_puts(&b, "no newline");
	CHECK(buf_drop_head_lines(&b, 2) == 10 && b.len == 0);
	CHECK(buf_drop_head_lines(&b, 5) == 0);
	buf_free(&b);
}

int main(void)
{
	RUN(test_ident_valid_names);
	RUN(test_ident_invalid_names);
	RUN(test_ident_words);
	RUN(test_ident_length_limit);
	RUN(test_ident_encoding);
	RUN(test_buf_basics);
	RUN(test_buf_drop_head_lines);
	return check_exit_status();
}
