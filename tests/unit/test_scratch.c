/* Unit tests: scratch (the in-memory store of scratch files and marks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "partnerfs/scratch.h"

static int count_names(void *ctx, const char *name)
{
	(void)name;
	(*(int *)ctx)++;
	return 0;
}

static void test_scratch_create_read_write(void)
{
	struct scratch *s;
	char buf[16] = {0};
	CHECK(scratch_create("/d/a", 0100600, 7, 8, "abc", 3, 0, &s) == 0);
	CHECK(scratch_create("/d/a", 0600, 7, 8, NULL, 0, 0, &s) == -EEXIST);
	CHECK(scratch_read_at(s, buf, sizeof(buf), 0) == 3);
	CHECK_STR(buf, "abc");
	CHECK(scratch_take_dirty(s) == 0);
	CHECK(scratch_write_at(s, "Z", 1, 5) == 0); /* a hole of zeros */
	CHECK(scratch_take_dirty(s) == 1);
	CHECK(scratch_take_dirty(s) == 0);
	CHECK(scratch_read_at(s, buf, sizeof(buf), 0) == 6);
	CHECK(memcmp(buf, "abc\0\0Z", 6) == 0);
	CHECK(scratch_read_at(s, buf, sizeof(buf), 100) == 0);
	struct scratch_attr a;
	scratch_stat(s, &a);
	CHECK(a.mode == 0600 && a.uid == 7 && a.gid == 8 && a.size == 6);
	CHECK(a.named && !a.replaces);
	CHECK(scratch_truncate(s, 2) == 0);
	char *data;
	size_t len;
	CHECK(scratch_copy(s, &data, &len) == 0);
	CHECK(len == 2 && strcmp(data, "ab") == 0);
	free(data);
	scratch_put(s);
	CHECK(scratch_remove("/d/a") == 0);
	CHECK(scratch_remove("/d/a") == -ENOENT);
	CHECK(scratch_count() == 0);
}

static void test_scratch_caps(void)
{
	struct scratch *s;
	CHECK(scratch_create("/d/big", 0600, 0, 0, NULL, 0, 0, &s) == 0);
	CHECK(scratch_truncate(s, (off_t)SCRATCH_SIZE_MAX + 1) == -ENOSPC);
	CHECK(scratch_write_at(s, "x", 1, SCRATCH_SIZE_MAX) == -ENOSPC);
	CHECK(scratch_write_at(s, "x", 1, -1) == -ENOSPC);
	scratch_put(s);
	scratch_remove("/d/big");
	char path[32];
	for (int i = 0; i < SCRATCH_FILES_MAX; i++) {
		snprintf(path, sizeof(path), "/d/%d", i);
		CHECK(scratch_create(path, 0600, 0, 0, NULL, 0, 0, &s) == 0);
		scratch_put(s);
	}
	CHECK(scratch_create("/d/more", 0600, 0, 0, NULL, 0, 0, &s) == -ENOSPC);
	/* An unlinked file still open still counts. */
	struct scratch *held = scratch_get("/d/0");
	CHECK(held != NULL);
	CHECK(scratch_remove("/d/0") == 0);
	CHECK(scratch_create("/d/more", 0600, 0, 0, NULL, 0, 0, &s) == -ENOSPC);
	struct scratch_attr a;
	scratch_stat(held, &a);
	CHECK(!a.named);
	scratch_put(held);
	CHECK(scratch_create("/d/more", 0600, 0, 0, NULL, 0, 0, &s) == 0);
	scratch_put(s);
	int n = 0;
	CHECK(scratch_list("/d", count_names, &n) == 0);
	CHECK(n == SCRATCH_FILES_MAX);
	scratch_cleanup();
	CHECK(scratch_count() == 0);
}

/* Kept copies: refilled in place, never over an ordinary scratch file,
 * and a budget of their own in both directions. */
static void test_scratch_keep(void)
{
	struct scratch *s;
	struct scratch_attr a;
	char buf[32] = {0};
	CHECK(scratch_keep("/d/x.rejected", 0600, 7, 8, "longer text", 11) ==
	      0);
	CHECK(scratch_keep("/d/x.rejected", 0640, 7, 8, "short", 5) == 0);
	s = scratch_get("/d/x.rejected");
	CHECK(s != NULL);
	CHECK(scratch_read_at(s, buf, sizeof(buf), 0) == 5);
	CHECK(memcmp(buf, "short", 5) == 0);
	scratch_stat(s, &a);
	CHECK(a.kept && a.named && !a.replaces && a.mode == 0640 &&
	      a.uid == 7 && a.gid == 8 && a.size == 5);
	scratch_put(s);
	CHECK(scratch_create("/d/plain", 0600, 0, 0, NULL, 0, 0, &s) == 0);
	scratch_put(s);
	CHECK(scratch_keep("/d/huge", 0600, 0, 0, "x", SCRATCH_SIZE_MAX + 1) ==
	      -ENOSPC);
	CHECK(scratch_get("/d/huge") == NULL);
	/* A refill that fails leaves the copy as it was. */
	CHECK(scratch_keep("/d/x.rejected", 0640, 7, 8, "x",
			   SCRATCH_SIZE_MAX + 1) == -ENOSPC);
	s = scratch_get("/d/x.rejected");
	CHECK(scratch_read_at(s, buf, sizeof(buf), 0) == 5);
	scratch_put(s);
	/* Another uid's copy is not refilled; the writer's own ordinary
	 * file (an editor's save of the copy) is, and becomes a kept one. */
	CHECK(scratch_keep("/d/x.rejected", 0600, 10, 10, "y", 1) == -EEXIST);
	CHECK(scratch_keep("/d/plain", 0600, 0, 0, "adopted", 7) == 0);
	s = scratch_get("/d/plain");
	scratch_stat(s, &a);
	CHECK(a.kept && a.size == 7);
	scratch_put(s);
	CHECK(scratch_create("/d/plain2", 0600, 0, 0, NULL, 0, 0, &s) == 0);
	scratch_put(s);
	CHECK(scratch_remove("/d/plain2") == 0);
	/* Moved, a kept copy stays one: nothing is counted twice. */
	CHECK(scratch_move("/d/plain", "/d/moved") == 0);
	CHECK(scratch_remove("/d/moved") == 0);
	CHECK(scratch_count() == 1);
	/* A refused replacement becomes the kept copy, over the old one. */
	CHECK(scratch_create("/d/x", 0644, 7, 8, "new", 3, 1, &s) == 0);
	CHECK(scratch_keep_file(s, "/d/other", "/d/x.rejected", 0600) ==
	      -ENOENT);
	CHECK(scratch_keep_file(s, "/d/x", "/d/x.rejected", 0600) == 0);
	scratch_stat(s, &a);
	CHECK(a.kept && a.named && !a.replaces && a.mode == 0600 &&
	      a.size == 3);
	CHECK(scratch_get("/d/x") == NULL);
	struct scratch *same = scratch_get("/d/x.rejected");
	CHECK(same == s);
	scratch_put(same);
	scratch_put(s);
	CHECK(scratch_count() == 1);
	CHECK(scratch_create("/d/y", 0644, 10, 10, "o", 1, 1, &s) == 0);
	CHECK(scratch_keep_file(s, "/d/y", "/d/x.rejected", 0600) == -EEXIST);
	scratch_stat(s, &a);
	CHECK(!a.kept && a.replaces);
	CHECK(scratch_remove("/d/y") == 0);
	/* Unlinked meanwhile: it is no one's kept copy, and goes at its put. */
	CHECK(scratch_keep_file(s, "/d/y", "/d/y.rejected", 0600) == -ENOENT);
	scratch_put(s);
	CHECK(scratch_count() == 1);
	char path[32];
	for (int i = 1; i < SCRATCH_KEPT_MAX; i++) {
		snprintf(path, sizeof(path), "/d/%d.rejected", i);
		CHECK(scratch_keep(path, 0600, 0, 0, "x", 1) == 0);
	}
	CHECK(scratch_keep("/d/more.rejected", 0600, 0, 0, "x", 1) == -ENOSPC);
	/* With the budget full, a replacement takes the place of a kept copy
	 * only when that one goes with its name: not while it is held. */
	CHECK(scratch_create("/d/x", 0644, 7, 8, "newer", 5, 1, &s) == 0);
	struct scratch *held = scratch_get("/d/x.rejected");
	CHECK(scratch_keep_file(s, "/d/x", "/d/x.rejected", 0600) == -ENOSPC);
	scratch_put(held);
	CHECK(scratch_keep_file(s, "/d/x", "/d/x.rejected", 0600) == 0);
	scratch_put(s);
	CHECK(scratch_count() == SCRATCH_KEPT_MAX);
	/* A full budget of kept copies leaves the ordinary one whole. */
	for (int i = 0; i < SCRATCH_FILES_MAX; i++) {
		snprintf(path, sizeof(path), "/d/f%d", i);
		CHECK(scratch_create(path, 0600, 0, 0, NULL, 0, 0, &s) == 0);
		scratch_put(s);
	}
	CHECK(scratch_create("/d/more", 0600, 0, 0, NULL, 0, 0, &s) == -ENOSPC);
	/* A kept copy removed frees its place, and only in its budget. */
	CHECK(scratch_remove("/d/1.rejected") == 0);
	CHECK(scratch_create("/d/more", 0600, 0, 0, NULL, 0, 0, &s) == -ENOSPC);
	CHECK(scratch_keep("/d/more.rejected", 0600, 0, 0, "x", 1) == 0);
	CHECK(scratch_count() == SCRATCH_FILES_MAX + SCRATCH_KEPT_MAX);
	scratch_cleanup();
	CHECK(scratch_count() == 0);
	CHECK(scratch_keep("/d/x.rejected", 0600, 0, 0, "x", 1) == 0);
	scratch_cleanup();
}

static void test_scratch_move_and_list(void)
{
	struct scratch *s, *t;
	char path[64];
	CHECK(scratch_create("/d/x", 0600, 0, 0, "x", 1, 0, &s) == 0);
	CHECK(scratch_create("/d/y", 0600, 0, 0, "y", 1, 0, &t) == 0);
	scratch_put(t);
	CHECK(scratch_create("/d/doc", 0600, 0, 0, NULL, 0, 1, &t) == 0);
	scratch_put(t);
	CHECK(scratch_move("/d/x", "/d/y") == 0); /* replaces y */
	CHECK(scratch_count() == 2);
	CHECK(scratch_get("/d/x") == NULL);
	CHECK(scratch_path(s, path, sizeof(path)) == 0);
	CHECK_STR(path, "/d/y");
	CHECK(scratch_move("/d/none", "/d/z") == -ENOENT);
	/* Replacements are not listed (the document's row lists the name);
	 * nor are files in other directories. */
	CHECK(scratch_create("/d/sub/z", 0600, 0, 0, NULL, 0, 0, &t) == 0);
	scratch_put(t);
	int n = 0;
	CHECK(scratch_list("/d", count_names, &n) == 0);
	CHECK(n == 1);
	scratch_unname(s);
	CHECK(scratch_path(s, path, sizeof(path)) == -ENOENT);
	scratch_put(s);
	scratch_cleanup();
	CHECK(scratch_count() == 0);
}

static void test_scratch_marks(void)
{
	CHECK(!scratch_marked("/d/doc"));
	scratch_mark("/d/doc");
	CHECK(scratch_marked("/d/doc"));
	CHECK(!scratch_marked("/d/doc2"));
	CHECK(scratch_unmark("/d/doc") == 1);
	CHECK(scratch_unmark("/d/doc") == 0);
	scratch_mark("/d/doc");
	scratch_mark("/e/doc");
	scratch_unmark_dir("/d");
	CHECK(!scratch_marked("/d/doc"));
	CHECK(scratch_marked("/e/doc"));
	sleep(SCRATCH_MARK_TTL + 1);
	CHECK(!scratch_marked("/e/doc"));
	scratch_mark("/e/doc"); /* freed by cleanup */
	scratch_cleanup();
	CHECK(!scratch_marked("/e/doc"));
}

int main(void)
{
	RUN(test_scratch_create_read_write);
	RUN(test_scratch_caps);
	RUN(test_scratch_keep);
	RUN(test_scratch_move_and_list);
	RUN(test_scratch_marks);
	scratch_cleanup();
	return check_exit_status();
}
