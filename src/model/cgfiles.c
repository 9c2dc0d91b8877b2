/* cgfiles.c - names of the PSI resources (see cgfiles.h). */
#include "model/cgfiles.h"

const char *kp_psi_res_name(enum kp_psi_res r)
{
	static const char *const names[KP_PSI_NRES] = { "cpu", "memory", "io" };

	return (unsigned int)r < KP_PSI_NRES ? names[r] : "?";
}
