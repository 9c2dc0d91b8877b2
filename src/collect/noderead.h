/* noderead.h - reads the host files behind the node series at each
 * interval tick into struct kp_node_figs (src/model/nodefigs.h): meminfo,
 * loadavg, stat, diskstats, net/dev, the number of processes, the thread
 * and pid limits, and statfs of the real mounts (through fsstat.h, so a
 * hung mount never blocks the caller). Never called by a scrape. */
#ifndef KPULSE_NODEREAD_H
#define KPULSE_NODEREAD_H

#include <stdint.h>
#include "model/nodefigs.h"

/* node_exporter's mount timeout: a statfs running this long marks its
 * mount stuck. */
#define KP_NODE_FS_DEADLINE_NS (5ull * 1000000000ull)
/* How long a tick waits for the statfs pass it started. */
#define KP_NODE_FS_WAIT_NS (20ull * 1000000ull)

struct kp_noderead;

/* NULL when out of memory. */
struct kp_noderead *kp_noderead__new(void);
void kp_noderead__free(struct kp_noderead *r);

/* Read everything once into @out; a file that cannot be read leaves its
 * figures out (have[] false), is counted in read_errors and logged once. */
void kp_noderead__read(struct kp_noderead *r, struct kp_node_figs *out, uint64_t now_ns);

#endif
