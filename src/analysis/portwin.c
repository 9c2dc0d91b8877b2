/* portwin.c - sliding windows of request latency per port (see portwin.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analysis/portwin.h"
#include "analysis/window.h"
#include <linux/types.h>
#include "kpulse_abi.h"

struct ent {
	int dir, port;
	bool seen;
	struct kp_window *w;
};

struct kp_portwin {
	uint64_t span_ns, slot_ns;
	unsigned int n, cap;
	struct ent *e;
};

struct kp_portwin *kp_portwin__new(uint64_t span_ns, uint64_t slot_ns)
{
	struct kp_portwin *pw = calloc(1, sizeof(*pw));

	if (!pw)
		return NULL;
	pw->span_ns = span_ns;
	pw->slot_ns = slot_ns;
	return pw;
}

void kp_portwin__free(struct kp_portwin *pw)
{
	if (!pw)
		return;
	for (unsigned int i = 0; i < pw->n; i++)
		kp_window__free(pw->e[i].w);
	free(pw->e);
	free(pw);
}

/* direction, then port, "other" (-1) after the named ports */
static int order(int dir, int port)
{
	return dir * 0x20000 + (port < 0 ? 0x10000 : port);
}

int kp_portwin__push(struct kp_portwin *pw, int dir, int port, const uint64_t *cum,
		     uint64_t base_ns, uint64_t now)
{
	static const uint64_t zero[KP_HIST_BUCKETS];
	unsigned int i;

	for (i = 0; i < pw->n && order(pw->e[i].dir, pw->e[i].port) < order(dir, port); i++)
		;
	if (i == pw->n || pw->e[i].dir != dir || pw->e[i].port != port) {
		struct kp_window *w = kp_window__new(pw->span_ns, pw->slot_ns);

		if (!w || (base_ns && kp_window__push(w, zero, base_ns))) {
			kp_window__free(w);
			return -ENOMEM;
		}
		if (pw->n == pw->cap) {
			unsigned int cap = pw->cap ? pw->cap * 2 : 4;
			struct ent *e = realloc(pw->e, cap * sizeof(*e));

			if (!e) {
				kp_window__free(w);
				return -ENOMEM;
			}
			pw->e = e;
			pw->cap = cap;
		}
		memmove(&pw->e[i + 1], &pw->e[i], (pw->n - i) * sizeof(*pw->e));
		pw->e[i] = (struct ent){ .dir = dir, .port = port, .w = w };
		pw->n++;
	}
	pw->e[i].seen = true;
	return kp_window__push(pw->e[i].w, cum, now);
}

void kp_portwin__end_round(struct kp_portwin *pw)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < pw->n; i++) {
		if (!pw->e[i].seen) {
			kp_window__free(pw->e[i].w);
			continue;
		}
		pw->e[i].seen = false;
		pw->e[k++] = pw->e[i];
	}
	pw->n = k;
}

unsigned int kp_portwin__count(const struct kp_portwin *pw)
{
	return pw ? pw->n : 0;
}

const struct kp_window *kp_portwin__get(const struct kp_portwin *pw, unsigned int i,
					int *dir, int *port)
{
	if (!pw || i >= pw->n)
		return NULL;
	*dir = pw->e[i].dir;
	*port = pw->e[i].port;
	return pw->e[i].w;
}

uint64_t kp_portwin__span(const struct kp_portwin *pw)
{
	return pw ? pw->span_ns : 0;
}
