/* memtune.c - glibc malloc settings for a long-running daemon whose large
 * buffers come and go: a /metrics text or a JSON answer of several MiB per
 * request at a thousand containers. glibc's default mmap threshold rises to
 * the size of the largest block freed, so after the first scrape such
 * buffers are carved from the heap, and the heap keeps its high-water mark
 * (fragmented by the small blocks made meanwhile) as RSS. A fixed threshold
 * keeps every block of 256 KiB and more in its own mapping, returned to the
 * system when freed; the small per-container blocks stay on the heap.
 *
 * The small blocks of a large answer (jansson makes one per JSON value: a
 * few hundred thousand for /api/v1/containers at 10,000 containers) are
 * freed into the heap's middle, where glibc never trims. After a tick, if
 * more than 8 MiB and a quarter of the heap are free, malloc_trim(0) gives
 * those pages back (madvise): at most once per tick, about a millisecond
 * per 100 MiB walked, nothing when little is free. */
#include <malloc.h>
#include "app/memtune.h"

void kp_memtune(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 512 * 1024);
}

void kp_memtune_trim(void)
{
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks > (8u << 20) && mi.fordblks > mi.uordblks / 4)
		malloc_trim(0);
}
