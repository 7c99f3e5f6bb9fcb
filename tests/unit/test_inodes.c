/* Unit tests: inodes (node id <-> path, lookup counting). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "partnerfs/clock.h"
#include "partnerfs/inodes.h"

static void test_inodes_root(void)
{
	char buf[64];
	CHECK(inodes_path(INODES_ROOT, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/");
	CHECK(inodes_child_path(INODES_ROOT, "publishers", buf, sizeof(buf)) ==
	      0);
	CHECK_STR(buf, "/publishers");
	/* The root is never forgotten, however often the kernel says so. */
	inodes_forget(INODES_ROOT, 1000);
	CHECK(inodes_path(INODES_ROOT, buf, sizeof(buf)) == 0);
	CHECK(inodes_ref("/", 0) == INODES_ROOT);
}

static void test_inodes_ref_and_forget(void)
{
	char buf[64];
	uint64_t a = inodes_ref("/publishers", 0);
	CHECK(a > INODES_ROOT);
	CHECK(inodes_ref("/publishers", 0) == a);
	CHECK(inodes_child_path(a, "contoso", buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/publishers/contoso");
	uint64_t b = inodes_ref(buf, 0);
	CHECK(b != a && b > INODES_ROOT);
	inodes_forget(a, 1);
	CHECK(inodes_path(a, buf, sizeof(buf)) == 0); /* one ref left */
	inodes_forget(a, 1);
	CHECK(inodes_path(a, buf, sizeof(buf)) == -ESTALE);
	/* A forgotten path comes back under a new id, never the old one. */
	uint64_t again = inodes_ref("/publishers", 0);
	CHECK(again != a && again > b);
	inodes_forget(again, 5); /* more than it holds: gone, no underflow */
	CHECK(inodes_path(again, buf, sizeof(buf)) == -ESTALE);
	inodes_forget(b, 1);
	CHECK(inodes_count() == 1);
}

static void test_inodes_too_long(void)
{
	char buf[8];
	uint64_t a = inodes_ref("/abcdef", 0);
	CHECK(inodes_path(a, buf, sizeof(buf)) == 0);
	CHECK(inodes_path(a, buf, 7) == -ENAMETOOLONG);
	CHECK(inodes_child_path(a, "x", buf, sizeof(buf)) == -ENAMETOOLONG);
	inodes_forget(a, 1);
	CHECK(inodes_path(12345678, buf, sizeof(buf)) == -ESTALE);
}

/* Enough ids to make the tables grow several times, each still found. */
static void test_inodes_many(void)
{
	enum { N = 20000 };
	static uint64_t ids[N];
	char path[64], got[64];
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/p/%d", i);
		ids[i] = inodes_ref(path, 0);
	}
	CHECK(inodes_count() == N + 1);
	int bad = 0;
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/p/%d", i);
		if (inodes_path(ids[i], got, sizeof(got)) ||
		    strcmp(got, path) != 0 || inodes_ref(path, 0) != ids[i])
			bad++;
		inodes_forget(ids[i], 2);
	}
	CHECK(bad == 0);
	CHECK(inodes_count() == 1);
}

/* A rename moves the id with the file, as the kernel moves its dentry; the
 * id that named the target still answers by id but is no longer found by
 * path, and an unlinked path gets a new id when made again. */
static void test_inodes_rename_and_detach(void)
{
	char buf[64];
	uint64_t tmp = inodes_ref("/d/tmp", 0);
	uint64_t doc = inodes_ref("/d/doc", 0);
	CHECK(inodes_rename("/d/tmp", "/d/doc") == 0);
	CHECK(inodes_path(tmp, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/d/doc");
	CHECK(inodes_path(doc, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/d/doc");
	CHECK(inodes_ref("/d/doc", 0) == tmp); /* lookups find the moved id */
	CHECK(inodes_ref("/d/tmp", 0) != tmp);
	CHECK(inodes_rename("/d/none", "/d/x") == -ENOENT);
	inodes_forget(inodes_ref("/d/tmp", 0), 2);
	inodes_forget(tmp, 2);
	CHECK(inodes_path(tmp, buf, sizeof(buf)) == -ESTALE);
	inodes_forget(doc, 1); /* a detached id goes like any other */
	CHECK(inodes_path(doc, buf, sizeof(buf)) == -ESTALE);
	uint64_t a = inodes_ref("/d/a", 0);
	inodes_detach("/d/a");
	uint64_t b = inodes_ref("/d/a", 0);
	CHECK(b != a);
	CHECK(inodes_path(a, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "/d/a");
	inodes_forget(a, 1);
	inodes_forget(b, 1);
	CHECK(inodes_count() == 1);
}

/* Only transient paths are offered, least recently looked up first, and
 * each once per idle period. */
static void test_inodes_take_idle(void)
{
	uint64_t a = inodes_ref("/ops/a", INODES_TRANSIENT);
	uint64_t b = inodes_ref("/ops/b", INODES_TRANSIENT);
	uint64_t file = inodes_ref("/ops/a/status", 0);
	CHECK(inodes_ref("/ops/a", INODES_TRANSIENT) == a); /* a after b */
	usleep(2000); /* an idle period of 1 ms at least */
	long before = clock_mono_ms();
	struct buf got = BUF_INIT;
	CHECK(inodes_take_idle(before - 60000, 10, &got) == 0);
	CHECK(inodes_take_idle(before, 1, &got) == 1);
	CHECK_STR(got.data, "/ops/b");
	CHECK(inodes_take_idle(before, 1, &got) == 1);
	CHECK_STR(got.data + strlen("/ops/b") + 1, "/ops/a");
	/* Both were offered just now: not again until idle again. */
	CHECK(inodes_take_idle(before, 10, &got) == 0);
	buf_free(&got);
	inodes_forget(a, 2);
	usleep(2000);
	CHECK(inodes_take_idle(clock_mono_ms(), 10, &got) == 1);
	CHECK_STR(got.data, "/ops/b");
	buf_free(&got);
	inodes_forget(b, 1);
	inodes_forget(file, 1);
	usleep(2000);
	CHECK(inodes_take_idle(clock_mono_ms(), 10, &got) == 0);
	buf_free(&got);
	CHECK(inodes_count() == 1);
}

int main(void)
{
	CHECK(inodes_init() == 0);
	RUN(test_inodes_root);
	RUN(test_inodes_ref_and_forget);
	RUN(test_inodes_too_long);
	RUN(test_inodes_many);
	RUN(test_inodes_rename_and_detach);
	RUN(test_inodes_take_idle);
	inodes_cleanup();
	CHECK(inodes_count() == 0);
	return check_exit_status();
}
