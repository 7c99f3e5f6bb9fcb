/* heap.c: see heap.h. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap.h"

/* glibc's per-thread caches keep up to 7 freed blocks of each small size
 * for the thread that freed them, where no other thread can use them.
 * With some 40 threads (FUSE workers, pollers) each of them slowly fills
 * with the sizes it happens to free: in the 10-minute soak that was 2.4 MB
 * after one minute and still growing at the end. Only GLIBC_TUNABLES, read
 * before main, can turn them off, hence one re-execution. Unless the user
 * chose a tcache_count: theirs is kept. */
#define TCACHE_OFF "glibc.malloc.tcache_count=0"

static void tcache_off(char *argv[])
{
	const char *was = getenv("GLIBC_TUNABLES");
	if (was && strstr(was, "glibc.malloc.tcache_count"))
		return;
	char value[1024];
	int n = snprintf(value, sizeof(value), "%s%s%s", was ? was : "",
			 was && *was ? ":" : "", TCACHE_OFF);
	if (n < 0 || (size_t)n >= sizeof(value) ||
	    setenv("GLIBC_TUNABLES", value, 1) != 0)
		return;
	execv("/proc/self/exe", argv);
	/* Not re-executed (no /proc): the same program, caches on. */
	if (was)
		setenv("GLIBC_TUNABLES", was, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}

void heap_setup(char *argv[])
{
	tcache_off(argv);
	/* Large buffers (a listing's body, a FUSE worker's request buffer)
	 * come and go: mapped and unmapped on their own, they leave no freed
	 * heap behind. glibc would otherwise raise this threshold to the
	 * largest block ever freed and carve them out of the heap, where
	 * what is freed stays resident. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	/* Small freed blocks merge with their neighbours at once rather than
	 * wait in fast bins: fewer holes between long-lived blocks. */
	mallopt(M_MXFAST, 0);
	/* Two arenas, not eight per core: each arena keeps its own free
	 * memory. MALLOC_ARENA_MAX, when set, is the user's word. */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 2);
}

/* Below this, what is free is the heap's working slack: trimming it
 * would only make the next requests fault the pages in again. */
#define HEAP_TRIM_SLACK (1024 * 1024)

static atomic_ulong trims;

int heap_trim_slack(void)
{
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks < HEAP_TRIM_SLACK)
		return 0;
	malloc_trim(0);
	atomic_fetch_add(&trims, 1);
	return 1;
}

void heap_render_stats(struct buf *out)
{
	struct mallinfo2 mi = mallinfo2();
	/* hblkhd counts blocks mapped on their own at their full size, of
	 * which only the pages written are resident (a FUSE worker's 1 MiB
	 * request buffer): apart, so that heap_in_use is what RSS holds. */
	buf_printf(out,
		   "heap_in_use %zu\nheap_free %zu\nheap_mapped %zu\n"
		   "heap_trims %lu\n",
		   mi.uordblks, mi.fordblks, mi.hblkhd, atomic_load(&trims));
}
