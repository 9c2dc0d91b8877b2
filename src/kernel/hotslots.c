/* hotslots.c - the kernel's hot slots read back (see hotslots.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "kernel/hotslots.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's "operation not supported" */
#endif

struct hot_ent {
	__u64 cgid;
	__u32 tag;
	bool taken;
	struct kp_req_stats sum;
};

struct kp_hot {
	int owner_fd, vals_fd, ncpus;
	bool no_batch;			/* the kernel has no batch lookup */
	unsigned int n;			/* slots */
	__u32 *keys;			/* n: batch lookup's key output */
	size_t vsz;			/* per-CPU value stride */
	struct kp_hot_owner *own;	/* n: as read this round */
	struct hot_ent *ents;		/* distinct keys this round, sorted */
	struct hot_ent *next;		/* the round being read */
	unsigned int nents, used;
	unsigned int *dying;		/* marked dead, freed at the next read */
	unsigned int ndying;
	void *buf;			/* one slot, every CPU */
};

struct kp_hot *kp_hot__new(int owner_fd, int vals_fd, int ncpus)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct kp_hot *h;

	if (owner_fd < 0 || vals_fd < 0 || bpf_obj_get_info_by_fd(owner_fd, &info, &len))
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->owner_fd = owner_fd;
	h->vals_fd = vals_fd;
	h->ncpus = ncpus;
	h->n = info.max_entries;
	/* test hook: the one-lookup-per-slot path of kernels before 5.6 */
	h->no_batch = getenv("KPULSE_TEST_NO_BATCH") != NULL;
	h->vsz = (sizeof(struct kp_req_stats) + 7) & ~7ul;
	h->own = calloc(h->n, sizeof(*h->own));
	h->keys = calloc(h->n, sizeof(*h->keys));
	h->ents = calloc(h->n, sizeof(*h->ents));
	h->next = calloc(h->n, sizeof(*h->next));
	h->dying = calloc(h->n, sizeof(*h->dying));
	h->buf = calloc(ncpus, h->vsz);
	if (!h->own || !h->keys || !h->ents || !h->next || !h->dying || !h->buf) {
		kp_hot__free(h);
		return NULL;
	}
	return h;
}

void kp_hot__free(struct kp_hot *h)
{
	if (!h)
		return;
	free(h->own);
	free(h->keys);
	free(h->ents);
	free(h->next);
	free(h->dying);
	free(h->buf);
	free(h);
}

static int key_cmp(__u64 ac, __u32 at, __u64 bc, __u32 bt)
{
	if (ac != bc)
		return ac < bc ? -1 : 1;
	return at < bt ? -1 : at > bt;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct hot_ent *x = a, *y = b;

	return key_cmp(x->cgid, x->tag, y->cgid, y->tag);
}

static void sum_add(struct kp_req_stats *a, const struct kp_req_stats *b)
{
	a->sum_ns += b->sum_ns;
	a->rx_bytes += b->rx_bytes;
	a->tx_bytes += b->tx_bytes;
	for (int i = 0; i < KP_HIST_BUCKETS; i++)
		a->hist[i] += b->hist[i];
}

/* Marked a collection ago: no program is still writing (they check the
 * owner first, and a run lasts microseconds). Zero the values, then free
 * the owner; its tag is 0 since marking, so no half-written state matches. */
static void release_dying(struct kp_hot *h)
{
	struct kp_hot_owner free_owner = {};

	memset(h->buf, 0, h->ncpus * h->vsz);
	for (unsigned int i = 0; i < h->ndying; i++) {
		__u32 idx = h->dying[i];

		if (!bpf_map_update_elem(h->vals_fd, &idx, h->buf, BPF_ANY))
			bpf_map_update_elem(h->owner_fd, &idx, &free_owner, BPF_ANY);
	}
	h->ndying = 0;
}

/* Every owner entry into h->own: one batch lookup (Linux 5.6+), else one
 * lookup per slot. 0 or -errno. */
static int read_owners(struct kp_hot *h)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = h->n, out;

	if (!h->no_batch) {
		int err = bpf_map_lookup_batch(h->owner_fd, NULL, &out, h->keys, h->own,
					       &count, &opts);

		/* -ENOENT: the end was reached, every slot read */
		if (!err || err == -ENOENT)
			return count == h->n ? 0 : -EIO;
		if (err != -EINVAL && err != -ENOTSUP && err != -ENOTSUPP)
			return err;
		h->no_batch = true;
	}
	for (__u32 i = 0; i < h->n; i++)
		if (bpf_map_lookup_elem(h->owner_fd, &i, &h->own[i]))
			return -errno;
	return 0;
}

/* A round read in full replaces the last one; one that failed part way
 * keeps it (its sums are older but whole: the collector's figures must
 * never go down because a slot could not be read). */
int kp_hot__read(struct kp_hot *h)
{
	unsigned int n = 0, used = 0, kept = 0;
	struct hot_ent *swap;
	int err;

	release_dying(h);
	err = read_owners(h);	/* its own code: a short batch sets no errno */
	if (err)
		goto failed;
	for (__u32 i = 0; i < h->n; i++) {
		struct kp_hot_owner *o = &h->own[i];
		struct hot_ent *e;

		if (!o->cgid || o->cgid == KP_HOT_DEAD || !o->tag)
			continue;
		used++;
		if (bpf_map_lookup_elem(h->vals_fd, &i, h->buf)) {
			err = -errno;
			goto failed;
		}
		e = &h->next[n++];
		memset(e, 0, sizeof(*e));
		e->cgid = o->cgid;
		e->tag = o->tag;
		for (int cpu = 0; cpu < h->ncpus; cpu++)
			sum_add(&e->sum, (const void *)((const char *)h->buf + cpu * h->vsz));
	}
	/* one entry per key: a key may hold two slots (see kpulse_abi.h) */
	qsort(h->next, n, sizeof(*h->next), ent_cmp);
	for (unsigned int i = 0; i < n; i++) {
		if (kept && !ent_cmp(&h->next[kept - 1], &h->next[i]))
			sum_add(&h->next[kept - 1].sum, &h->next[i].sum);
		else if (kept++ != i)
			h->next[kept - 1] = h->next[i];
	}
	swap = h->ents;
	h->ents = h->next;
	h->next = swap;
	h->nents = kept;
	h->used = used;
	return (int)used;
failed:
	for (unsigned int i = 0; i < h->nents; i++)
		h->ents[i].taken = false;
	return err;
}

const struct kp_req_stats *kp_hot__take(struct kp_hot *h, __u64 cgid, __u32 tag)
{
	unsigned int lo = 0, hi = h ? h->nents : 0;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int c = key_cmp(h->ents[mid].cgid, h->ents[mid].tag, cgid, tag);

		if (!c) {
			h->ents[mid].taken = true;
			return &h->ents[mid].sum;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct kp_req_stats *kp_hot__next_untaken(struct kp_hot *h, unsigned int *it,
						 __u32 kind, __u64 *cgid, __u32 *tag)
{
	while (h && *it < h->nents) {
		struct hot_ent *e = &h->ents[(*it)++];

		if (e->taken || e->tag >> 24 != kind)
			continue;
		*cgid = e->cgid;
		*tag = e->tag;
		return &e->sum;
	}
	return NULL;
}

void kp_hot__forget(struct kp_hot *h, __u64 cgid)
{
	struct kp_hot_owner dead = { .cgid = KP_HOT_DEAD };

	if (!h || !cgid || cgid == KP_HOT_DEAD)
		return;
	/* read afresh: a slot claimed since the last read would leak */
	if (read_owners(h))
		return;
	for (__u32 i = 0; i < h->n && h->ndying < h->n; i++) {
		if (h->own[i].cgid != cgid)
			continue;
		if (!bpf_map_update_elem(h->owner_fd, &i, &dead, BPF_ANY))
			h->dying[h->ndying++] = i;
	}
}

unsigned int kp_hot__size(const struct kp_hot *h)
{
	return h ? h->n : 0;
}

unsigned int kp_hot__used(const struct kp_hot *h)
{
	return h ? h->used : 0;
}
