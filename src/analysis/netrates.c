/* netrates.c - rates per network interface between two ticks (see
 * netrates.h). */
#include <string.h>
#include "analysis/netrates.h"

/* @name's index in @l, trying @hint first (lists keep their order from
 * one tick to the next); -1 when absent. */
static int find(const struct kp_netdevs *l, const char *name, unsigned int hint)
{
	if (hint < l->n && !strcmp(l->d[hint].name, name))
		return (int)hint;
	for (unsigned int i = 0; i < l->n; i++)
		if (!strcmp(l->d[i].name, name))
			return (int)i;
	return -1;
}

void kp_netrates_update(struct kp_netrates *nr, const struct kp_netdevs *now,
			uint64_t read_ns)
{
	double dt;

	if (!now) {
		memset(nr, 0, sizeof(*nr));
		return;
	}
	if (read_ns == nr->prev_ns)
		return;
	dt = nr->prev_ns && read_ns > nr->prev_ns ? (double)(read_ns - nr->prev_ns) / 1e9 : 0;
	for (unsigned int i = 0; i < now->n; i++) {
		const uint64_t *v = now->d[i].v;
		int j = dt > 0 ? find(&nr->prev, now->d[i].name, i) : -1;
		const uint64_t *p = j >= 0 ? nr->prev.d[j].v : NULL;

		/* counters that went back: a new device under an old name */
		if (!p || v[KP_NET_RX_BYTES] < p[KP_NET_RX_BYTES] ||
		    v[KP_NET_TX_BYTES] < p[KP_NET_TX_BYTES]) {
			nr->r[i] = (struct kp_netrate){ .has = false };
			continue;
		}
		nr->r[i] = (struct kp_netrate){
			.has = true,
			.rx_bps = (double)(v[KP_NET_RX_BYTES] - p[KP_NET_RX_BYTES]) / dt,
			.tx_bps = (double)(v[KP_NET_TX_BYTES] - p[KP_NET_TX_BYTES]) / dt,
		};
	}
	nr->prev = *now;
	nr->prev_ns = read_ns;
}

const struct kp_netrate *kp_netrates_get(const struct kp_netrates *nr, const char *name,
					 unsigned int hint)
{
	int i = find(&nr->prev, name, hint);

	return i >= 0 && nr->r[i].has ? &nr->r[i] : NULL;
}
