/* hotslots.h - the kernel's hot slots read back (layout and protocol in
 * kpulse_abi.h): each collection sums every owned slot over the CPUs, by
 * key, so the collector can add them to what the hash maps hold for the
 * same key; and a gone cgroup's slots are handed back to the kernel.
 */
#ifndef KPULSE_HOTSLOTS_H
#define KPULSE_HOTSLOTS_H

#include <stdbool.h>
#include <linux/types.h>
#include "kpulse_abi.h"

struct kp_hot;

/* NULL when either map is missing (fd < 0) or out of memory. */
struct kp_hot *kp_hot__new(int owner_fd, int vals_fd, int ncpus);
void kp_hot__free(struct kp_hot *h);

/* This round: release what was marked last round, then read every owned
 * slot. Returns the number of owned slots, or -errno. */
int kp_hot__read(struct kp_hot *h);

/* The sum of the slots of (@cgid, @tag) this round, or NULL; marks it
 * taken, so kp_hot__next_untaken skips it. */
const struct kp_req_stats *kp_hot__take(struct kp_hot *h, __u64 cgid, __u32 tag);

/* Keys of @kind read this round and not taken: set *@it to 0, then call
 * until it returns NULL. */
const struct kp_req_stats *kp_hot__next_untaken(struct kp_hot *h, unsigned int *it,
						 __u32 kind, __u64 *cgid, __u32 *tag);

/* @cgid is gone: its slots are marked now and freed at the next read. */
void kp_hot__forget(struct kp_hot *h, __u64 cgid);

unsigned int kp_hot__size(const struct kp_hot *h);	/* slots in all */
unsigned int kp_hot__used(const struct kp_hot *h);	/* owned at the last read */

#endif
