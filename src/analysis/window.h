/* window.h - sliding windows over a cumulative histogram. Each push stores
 * the sparse delta since the previous push in a time slot; a query sums the
 * slots inside the window. Memory per window: the previous cumulative
 * snapshot plus, per slot, only the buckets that changed. Pure: time is
 * passed in. */
#ifndef KPULSE_WINDOW_H
#define KPULSE_WINDOW_H

#include <stdint.h>

struct kp_window;

/* Keep @span_ns of history in slots of @slot_ns (both > 0). */
struct kp_window *kp_window__new(uint64_t span_ns, uint64_t slot_ns);
void kp_window__free(struct kp_window *w);
/* Feed cumulative counts (KP_HIST_BUCKETS of them) read at @now_ns. The
 * first push only sets the baseline. Counts that go backwards (a reset)
 * start a new baseline. Returns 0 or -ENOMEM. */
int kp_window__push(struct kp_window *w, const uint64_t *cum, uint64_t now_ns);
/* Add the counts recorded in (now - span, now] to @out (dense, zeroed by
 * the caller); returns the number of events added. Slots that straddle the
 * window's start count whole, so a window covers at most one slot more. */
uint64_t kp_window__sum(const struct kp_window *w, uint64_t span_ns,
			uint64_t now_ns, uint64_t *out);
/* Bytes held, for self-observation. */
uint64_t kp_window__bytes(const struct kp_window *w);

#endif
