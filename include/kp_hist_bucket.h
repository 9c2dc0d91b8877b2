/* kp_hist_bucket.h - the log-linear bucket index (layout in kpulse_abi.h),
 * one implementation compiled into both the BPF programs and userspace, so
 * the unit tests check the very code the kernel runs. */
#ifndef KP_HIST_BUCKET_H
#define KP_HIST_BUCKET_H

#include "kpulse_abi.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u32 kp_hist_bucket_of(__u64 v)
{
	__u32 msb = 0;
	__u64 x = v;

	if (v < KP_HIST_SUB)
		return (__u32)v;
	/* floor(log2 v) without a clz instruction, which BPF lacks */
	if (x >> 32) { x >>= 32; msb += 32; }
	if (x >> 16) { x >>= 16; msb += 16; }
	if (x >> 8) { x >>= 8; msb += 8; }
	if (x >> 4) { x >>= 4; msb += 4; }
	if (x >> 2) { x >>= 2; msb += 2; }
	if (x >> 1) { msb += 1; }
	if (msb > KP_HIST_MAX_MSB)
		return KP_HIST_BUCKETS - 1;
	/* the top bit of v >> (msb - 4) is 16: masking it off is the same as
	 * subtracting 16, and lets the verifier see the index is in range */
	return (msb - KP_HIST_SUB_BITS + 1) * KP_HIST_SUB +
	       (__u32)((v >> (msb - KP_HIST_SUB_BITS)) & (KP_HIST_SUB - 1));
}

#endif
