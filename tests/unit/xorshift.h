/* xorshift.h - Marsaglia's xorshift64, for tests that want many
 * reproducible values from a seed of their own (never 0). */
#ifndef KPULSE_TEST_XORSHIFT_H
#define KPULSE_TEST_XORSHIFT_H

#include <stdint.h>

static inline uint64_t tb_xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
