/* memstat.h - a cgroup's memory.stat as cAdvisor users read it: working
 * set (usage - inactive file), RSS (anonymous memory), page cache and swap.
 * Pure: takes the file's bytes. v2 keys are anon, file and inactive_file;
 * on v1, the hierarchical total_rss, total_cache, total_inactive_file and
 * total_swap (the same figures memory.usage_in_bytes counts: the cgroup
 * and its children), falling back to the local keys when a kernel has no
 * total_ lines. */
#ifndef KPULSE_MEMSTAT_H
#define KPULSE_MEMSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kp_memstat {
	bool has_rss, has_cache, has_inactive_file, has_swap;
	uint64_t rss_bytes;		/* v2 anon; v1 total_rss */
	uint64_t cache_bytes;		/* v2 file; v1 total_cache */
	uint64_t inactive_file_bytes;	/* v2 inactive_file; v1 total_inactive_file */
	uint64_t swap_bytes;		/* v1 total_swap (swap accounting on) */
};

/* -ENODATA for an empty file or one with none of the keys; -EINVAL for a
 * line that is not "key number"; -ERANGE for a number past 64 bits. */
int kp_memstat_parse(const char *buf, size_t len, struct kp_memstat *out);

/* cAdvisor's working set: @usage minus inactive file pages, 0 when usage
 * is below them (the two files are not read at one instant); @usage when
 * memory.stat had no inactive_file. */
uint64_t kp_memstat_working_set(const struct kp_memstat *s, uint64_t usage);

#endif
