/* memtune.c - glibc malloc settings for a long-running daemon whose large
 * buffers come and go: a /metrics text or a JSON answer of several MiB per
 * request at a thousand containers. glibc's default mmap threshold rises to
 * the size of the largest block freed, so after the first scrape such
 * buffers are carved from the heap, and the heap keeps its high-water mark
 * (fragmented by the small blocks made meanwhile) as RSS. A fixed threshold
 * keeps every block of 256 KiB and more in its own mapping, returned to the
 * system when freed; the small per-container blocks stay on the heap. */
#include <malloc.h>
#include "app/memtune.h"

void kp_memtune(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 512 * 1024);
}
