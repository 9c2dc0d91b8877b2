/* memstat.c - memory.stat into the figures cAdvisor exports.
 *
 * cAdvisor (container/libcontainer/handler.go, setMemoryStats) reads
 * anon/file/inactive_file on v2 and total_rss/total_cache/
 * total_inactive_file/total_swap on v1; kpulse takes the same keys so that
 * a dashboard built on container_memory_working_set_bytes ports by name.
 */
#include <errno.h>
#include <string.h>

#include "collect/kvfile.h"
#include "collect/memstat.h"

/* Where each figure comes from: v2 keys, else v1's hierarchical total_
 * keys, else v1's local ones (rank: lower wins). inactive_file is a v2 key
 * and a v1 local one: on v1, total_inactive_file must win over it. */
static const struct {
	const char *key;
	int field;	/* 0 rss, 1 cache, 2 inactive_file, 3 swap */
	int rank;	/* lower wins */
} keys[] = {
	{ "anon", 0, 0 },	   { "total_rss", 0, 1 },	    { "rss", 0, 2 },
	{ "file", 1, 0 },	   { "total_cache", 1, 1 },	    { "cache", 1, 2 },
	{ "total_inactive_file", 2, 1 }, { "inactive_file", 2, 2 },
	{ "total_swap", 3, 1 },	   { "swap", 3, 2 },
};

int kp_memstat_parse(const char *buf, size_t len, struct kp_memstat *out)
{
	const char *s = buf, *end = buf + len;
	uint64_t *val[4] = { &out->rss_bytes, &out->cache_bytes,
			     &out->inactive_file_bytes, &out->swap_bytes };
	bool *has[4] = { &out->has_rss, &out->has_cache, &out->has_inactive_file,
			 &out->has_swap };
	int best[4] = { 99, 99, 99, 99 };
	struct kp_kv kv;
	int r;

	memset(out, 0, sizeof(*out));
	while ((r = kp_kv_next(&s, end, &kv)) > 0) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			int f = keys[i].field;

			if (!kp_kv_is(&kv, keys[i].key) || keys[i].rank >= best[f])
				continue;
			best[f] = keys[i].rank;
			*val[f] = kv.value;
			*has[f] = true;
		}
	}
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		return r;
	}
	return out->has_rss || out->has_cache || out->has_inactive_file ? 0 : -ENODATA;
}

uint64_t kp_memstat_working_set(const struct kp_memstat *s, uint64_t usage)
{
	if (!s->has_inactive_file)
		return usage;
	return usage > s->inactive_file_bytes ? usage - s->inactive_file_bytes : 0;
}
