/* mapread.c - see mapread.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "collect/mapread.h"
#include "base/log.h"

/* A batch holds at most this many bytes of values (and 256 keys): about
 * 120 cgroups of cg_stats on 2 CPUs, so a thousand take 9 calls; the buffer
 * is RSS for good, 4 MiB before. */
#define BATCH_BYTES (1u << 20)

int kp_mapread_init(struct kp_mapread *r, int ncpus, size_t key_size, size_t vsz_max)
{
	memset(r, 0, sizeof(*r));
	r->ncpus = ncpus;
	r->key_size = key_size;
	r->batch = BATCH_BYTES / (vsz_max * (size_t)ncpus);
	if (r->batch < 1)
		r->batch = 1;
	if (r->batch > 256)
		r->batch = 256;
	r->keys = calloc(r->batch, key_size);
	r->vals_size = r->batch * vsz_max * (size_t)ncpus;
	r->vals = mmap(NULL, r->vals_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (r->vals == MAP_FAILED)
		r->vals = NULL;
	r->batch_ok = true;
	if (!r->keys || !r->vals) {
		kp_mapread_fini(r);
		return -ENOMEM;
	}
	return 0;
}

void kp_mapread_fini(struct kp_mapread *r)
{
	free(r->keys);
	if (r->vals)
		munmap(r->vals, r->vals_size);
	r->keys = r->vals = NULL;
}

void kp_mapread_trim(struct kp_mapread *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t keep = (r->used + page - 1) & ~(page - 1);

	if (r->vals && r->resident > keep + (256u << 10)) {
		madvise((char *)r->vals + keep, r->vals_size - keep, MADV_DONTNEED);
		r->resident = keep;
	}
	r->used = 0;
}

static int read_batch(struct kp_mapread *r, int fd, size_t ksz, size_t vsz,
		      kp_mapread_fn fn, void *ctx, uint64_t *entries)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u64 token[4] = {};	/* the map's key size at most (32 bytes) */
	bool first = true;

	for (;;) {
		__u32 n = r->batch;
		int err = bpf_map_lookup_batch(fd, first ? NULL : token, token, r->keys,
					       r->vals, &n, &o);

		if (err && errno != ENOENT)
			return -errno;
		if ((size_t)n * vsz * r->ncpus > r->used)
			r->used = (size_t)n * vsz * r->ncpus;
		if (r->used > r->resident)
			r->resident = r->used;
		for (__u32 i = 0; i < n; i++)
			fn(ctx, (char *)r->keys + (size_t)i * ksz,
			   (char *)r->vals + (size_t)i * vsz * r->ncpus);
		*entries += n;
		if (err)	/* ENOENT: that was the last batch */
			return 0;
		first = false;
	}
}

static int read_iter(struct kp_mapread *r, int fd, size_t ksz, kp_mapread_fn fn,
		     void *ctx, uint64_t *entries)
{
	char key[32], next[32];
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
		if (bpf_map_lookup_elem(fd, next, r->vals) == 0) {
			fn(ctx, next, r->vals);
			(*entries)++;
		}
		memcpy(key, next, ksz);
		first = false;
	}
	return 0;
}

int kp_mapread(struct kp_mapread *r, int fd, size_t key_size, size_t vsz,
	       kp_mapread_fn fn, void *ctx, uint64_t *entries)
{
	int err;

	*entries = 0;
	if (fd < 0)
		return 0;
	if (key_size > r->key_size || key_size > 32)
		return -EINVAL;
	if (r->batch_ok) {
		err = read_batch(r, fd, key_size, vsz, fn, ctx, entries);
		if (!err)
			return 0;
		kp_debug("collector: batch lookup unsupported (%s), iterating",
			 strerror(-err));
		r->batch_ok = false;
		*entries = 0;
	}
	return read_iter(r, fd, key_size, fn, ctx, entries);
}
