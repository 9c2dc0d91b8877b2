/* mapread.h - reading a whole per-CPU BPF hash map in batches
 * (BPF_MAP_LOOKUP_BATCH), key by key where the kernel cannot batch, and
 * handing each key with its per-CPU values to a callback. One buffer serves
 * every map of the collector. */
#ifndef KPULSE_MAPREAD_H
#define KPULSE_MAPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kp_mapread {
	int ncpus;
	unsigned int batch;	/* keys per batch lookup */
	size_t key_size;	/* largest key (bytes) */
	void *keys;
	void *vals;		/* batch * largest value stride * ncpus (mmap'd) */
	size_t vals_size;
	size_t used, resident;	/* of vals: this round, and maybe in memory */
	bool batch_ok;		/* false once the kernel refused a batch */
};

/* Buffers for keys up to @key_size and per-CPU values up to @vsz_max
 * (8-byte aligned stride) bytes; 0 or -ENOMEM. */
int kp_mapread_init(struct kp_mapread *r, int ncpus, size_t key_size, size_t vsz_max);
void kp_mapread_fini(struct kp_mapread *r);
/* At a round's end: the pages of the value buffer beyond what the round
 * used go back to the system (a burst of keys, cgroup churn, touches all
 * of its MiBs once). */
void kp_mapread_trim(struct kp_mapread *r);

/* @key and its values: ncpus values @vsz bytes apart. */
typedef void (*kp_mapread_fn)(void *ctx, const void *key, const void *percpu);

/* Every entry of the map @fd (keys @key_size, per-CPU values @vsz apart);
 * *@entries gets how many. 0 or -errno; a missing map (fd < 0) is empty. */
int kp_mapread(struct kp_mapread *r, int fd, size_t key_size, size_t vsz,
	       kp_mapread_fn fn, void *ctx, uint64_t *entries);

#endif
