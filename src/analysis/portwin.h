/* portwin.h - request latency per port over a sliding window, for the
 * container endpoint's `request_ports` (the dashboard's table by port).
 *
 * The portset (model/ports.h) names a container's busiest ports and keeps
 * their cumulative histograms; this keeps one sliding window (window.h) per
 * (direction, named port) and one for "other", so percentiles are of the
 * last minute, not of everything since the port got its name. Bounded by
 * the portset: at most 2 x (max_ports + 1) windows a container, made when a
 * port first has requests and dropped when it loses its name. Cost: about
 * 4.5 KiB a window (the previous cumulative snapshot plus sparse slots).
 * Pure: time is passed in. */
#ifndef KPULSE_PORTWIN_H
#define KPULSE_PORTWIN_H

#include <stdint.h>

#define KP_PORT_OTHER (-1)

struct kp_window;
struct kp_portwin;

struct kp_portwin *kp_portwin__new(uint64_t span_ns, uint64_t slot_ns);
void kp_portwin__free(struct kp_portwin *pw);
/* This round's cumulative counts (KP_HIST_BUCKETS) of @port (or
 * KP_PORT_OTHER) in direction @dir (0 inbound, 1 outbound). A port new to
 * the set gets a zero baseline at @base_ns (the previous round: its counts
 * started from zero since) or, when 0, this push is its baseline. Returns
 * 0 or -ENOMEM. */
int kp_portwin__push(struct kp_portwin *pw, int dir, int port, const uint64_t *cum,
		     uint64_t base_ns, uint64_t now_ns);
/* End of a round: windows of ports not pushed in it are dropped. */
void kp_portwin__end_round(struct kp_portwin *pw);
/* The @i-th window, ascending by direction then port ("other" last). */
unsigned int kp_portwin__count(const struct kp_portwin *pw);
const struct kp_window *kp_portwin__get(const struct kp_portwin *pw, unsigned int i,
					int *dir, int *port);
uint64_t kp_portwin__span(const struct kp_portwin *pw);

#endif
