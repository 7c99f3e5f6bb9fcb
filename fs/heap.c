/* heap.c: see heap.h. */
#include <malloc.h>
#include <stdatomic.h>

#include "heap.h"

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
