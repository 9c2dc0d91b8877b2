/* names.c - containers named from the runtimes' own files.
 *
 * A cgroup path gives a runtime and a container id (container.c); the
 * name its user gave, the image and the pod come from the runtime's and
 * the kubelet's files (runtimes.c). They are asked once when a container
 * is resolved and, while they have nothing to say (a kubelet log link
 * made after the container started, a runtime whose files are elsewhere),
 * again at later collections: every collection for the first few tries,
 * then every NAME_SLOW_NS. What they said is copied into the model, so a
 * container keeps its name until it is gone, whatever happens to the
 * files (`docker run --rm` removes them when the container exits).
 */
#include <string.h>

#include "collect/collector_int.h"
#include "collect/runtimes.h"

#define NAME_FAST_TRIES 10
#define NAME_SLOW_NS (30ull * 1000000000ull)

static bool wants_name(const struct kp_container *k)
{
	return k->path && !k->ident.named && (k->ident.id[0] || k->ident.pod_uid[0]);
}

void kp_names_lookup(struct kp_collector *c, struct kp_container *k, uint64_t now)
{
	struct kp_identity id;

	if (!c->rt || !wants_name(k) || now < k->marks.name_next_ns)
		return;
	id = k->ident;
	if (!kp_runtimes__name(c->rt, &id, now)) {
		kp_model__rename(c->m, k, &id);
		return;
	}
	if (++k->marks.name_tries >= NAME_FAST_TRIES)
		k->marks.name_next_ns = now + NAME_SLOW_NS;
}

void kp_names_retry(struct kp_collector *c, uint64_t now)
{
	struct kp_container *k, *tmp;
	const struct kp_runtimes_stats *st;
	struct kp_names_self *ns = &c->m->self.names;

	if (!c->rt)
		return;
	KP_MODEL_FOR_EACH_SHOWN(c->m, k, tmp)
		kp_names_lookup(c, k, now);
	st = kp_runtimes__stats(c->rt);
	ns->lookups = st->lookups;
	ns->found = st->found;
	ns->file_reads = st->file_reads;
	ns->errors = st->errors;
	ns->dropped = st->dropped;
	ns->entries = st->entries;
}
