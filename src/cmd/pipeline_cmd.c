/* pipeline_cmd.c - the pipeline as the terminal commands use it: one
 * percentile window, rates and history over one interval. */
#include <stdlib.h>
#include <string.h>
#include "app/pipeline.h"
#include "base/clock.h"
#include "cmd/cmds.h"

int kp_cmd_pipeline(struct kp_pipeline *p, const struct kp_loader_opts *lo,
		    uint64_t window_ns, uint64_t interval_ns)
{
	struct kp_pipeline_opts o = { 0 };
	int ret;

	if (lo)
		o.lo = *lo;
	o.lo.force_raw_tp = getenv("KPULSE_FORCE_RAW_TP") != NULL;
	kp_analysis_opts_default(&o.ao, interval_ns);
	memset(o.ao.windows_ns, 0, sizeof(o.ao.windows_ns));
	o.ao.windows_ns[0] = window_ns;
	o.ao.history_ns = interval_ns;
	ret = kp_pipeline_open(p, &o);
	if (!ret)
		kp_pipeline_tick(p, kp_now_mono_ns());
	return ret;
}
