/* fsstat.c - statfs in pass threads with a deadline.
 *
 * One detached thread per pass (per tick, a few microseconds of thread
 * start against the statfs calls it makes), so that a thread blocked in
 * the kernel is simply forgotten: nothing ever joins it. What the threads
 * and the daemon share (the stuck marks, the last finished pass) lives in
 * a reference-counted block freed by whoever lets go of it last, so a
 * statfs returning after kp_fsstat__free still finds valid memory.
 * Figures are node_exporter's: size = f_blocks * f_bsize, free = f_bfree *
 * f_bsize, avail = f_bavail * f_bsize, files = f_files, files_free =
 * f_ffree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collect/fsstat.h"

#define PASS_STACK (64u << 10)

struct pass;

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	unsigned int refs;		/* kp_fsstat + live pass threads */
	unsigned int threads;		/* live pass threads */
	kp_statfs_fn fn;
	char *stuck[KP_FS_MAX_STUCK];	/* mount points, malloc'ed */
	unsigned int n_stuck;
	struct kp_node_fslist last;	/* the latest finished pass */
	uint64_t last_gen;		/* its pass number, 0: none yet */
};

struct pass {
	struct shared *sh;
	uint64_t gen;
	uint64_t in_statfs_ns;		/* when the current statfs began; 0: none */
	unsigned int cur;		/* the mount being measured */
	bool abandoned;			/* the daemon let go: the thread frees */
	bool done;			/* finished; the daemon frees */
	struct kp_node_fslist list;
};

struct kp_fsstat {
	struct shared *sh;
	struct pass *running;		/* the pass of the last tick, until done */
	uint64_t deadline_ns, wait_ns;
	uint64_t gen;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kp_node_fslist_copy(struct kp_node_fslist *dst, const struct kp_node_fslist *src)
{
	dst->n = src->n;
	dst->left_out = src->left_out;
	dst->pool_used = src->pool_used;
	memcpy(dst->m, src->m, src->n * sizeof(src->m[0]));
	memcpy(dst->pool, src->pool, src->pool_used);
}

/* Called with sh->mu held; unlocks it, and frees sh with the last ref. */
static void shared_put(struct shared *sh)
{
	bool last = --sh->refs == 0;

	pthread_mutex_unlock(&sh->mu);
	if (!last)
		return;
	for (unsigned int i = 0; i < sh->n_stuck; i++)
		free(sh->stuck[i]);
	pthread_cond_destroy(&sh->done_cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

static int stuck_find(const struct shared *sh, const char *path)
{
	for (unsigned int i = 0; i < sh->n_stuck; i++)
		if (!strcmp(sh->stuck[i], path))
			return (int)i;
	return -1;
}

static void stuck_drop(struct shared *sh, const char *path)
{
	int i = stuck_find(sh, path);

	if (i < 0)
		return;
	free(sh->stuck[i]);
	sh->stuck[i] = sh->stuck[--sh->n_stuck];
}

static void fill(struct kp_node_fs *m, int r, const struct statfs *st)
{
	if (r) {
		m->state = KP_FS_ERROR;
		return;
	}
	m->state = KP_FS_OK;
	m->size = (uint64_t)st->f_blocks * (uint64_t)st->f_bsize;
	m->free = (uint64_t)st->f_bfree * (uint64_t)st->f_bsize;
	m->avail = (uint64_t)st->f_bavail * (uint64_t)st->f_bsize;
	m->files = (uint64_t)st->f_files;
	m->files_free = (uint64_t)st->f_ffree;
}

static void *pass_run(void *arg)
{
	struct pass *p = arg;
	struct shared *sh = p->sh;
	bool abandoned = false;

	for (unsigned int i = 0; i < p->list.n && !abandoned; i++) {
		struct kp_node_fs *m = &p->list.m[i];
		const char *path = kp_node_fs_str(&p->list, m->mountpoint);
		struct statfs st;
		int r;

		pthread_mutex_lock(&sh->mu);
		abandoned = p->abandoned;
		if (!abandoned && stuck_find(sh, path) >= 0)
			m->state = KP_FS_STUCK;
		if (abandoned || m->state == KP_FS_STUCK) {
			pthread_mutex_unlock(&sh->mu);
			continue;
		}
		p->cur = i;
		p->in_statfs_ns = mono_ns();
		pthread_mutex_unlock(&sh->mu);
		r = sh->fn(path, &st);
		pthread_mutex_lock(&sh->mu);
		p->in_statfs_ns = 0;
		abandoned = p->abandoned;
		if (abandoned)		/* this statfs was the stuck one: it is back */
			stuck_drop(sh, path);
		else
			fill(m, r, &st);
		pthread_mutex_unlock(&sh->mu);
	}
	pthread_mutex_lock(&sh->mu);
	sh->threads--;
	if (p->abandoned) {
		free(p);
	} else {
		kp_node_fslist_copy(&sh->last, &p->list);
		sh->last_gen = p->gen;
		p->done = true;
		pthread_cond_broadcast(&sh->done_cv);
	}
	shared_put(sh);
	return NULL;
}

struct kp_fsstat *kp_fsstat__new(uint64_t deadline_ns, uint64_t wait_ns, kp_statfs_fn fn)
{
	struct kp_fsstat *s = calloc(1, sizeof(*s));
	struct shared *sh = calloc(1, sizeof(*sh));
	pthread_condattr_t ca;

	if (!s || !sh) {
		free(s);
		free(sh);
		return NULL;
	}
	pthread_mutex_init(&sh->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sh->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	sh->refs = 1;
	sh->fn = fn ? fn : statfs;
	s->sh = sh;
	s->deadline_ns = deadline_ns;
	s->wait_ns = wait_ns;
	return s;
}

void kp_fsstat__free(struct kp_fsstat *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->sh->mu);
	if (s->running) {
		if (s->running->done)
			free(s->running);
		else
			s->running->abandoned = true;	/* its thread frees it */
	}
	shared_put(s->sh);
	free(s);
}

/* With sh->mu held: a pass whose statfs outlived the deadline marks that
 * mount stuck and is let go; a finished one is freed. */
static void reap(struct kp_fsstat *s)
{
	struct shared *sh = s->sh;
	struct pass *p = s->running;

	if (!p)
		return;
	if (p->done) {
		free(p);
		s->running = NULL;
		return;
	}
	if (!p->in_statfs_ns || mono_ns() - p->in_statfs_ns < s->deadline_ns)
		return;
	if (sh->n_stuck < KP_FS_MAX_STUCK) {
		char *path = strdup(kp_node_fs_str(&p->list, p->list.m[p->cur].mountpoint));

		if (path)
			sh->stuck[sh->n_stuck++] = path;
	}
	p->abandoned = true;
	s->running = NULL;
}

/* With sh->mu held: start a pass over @want. */
static int start(struct kp_fsstat *s, const struct kp_node_fslist *want)
{
	struct shared *sh = s->sh;
	struct pass *p;
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (sh->threads > KP_FS_MAX_STUCK)
		return -EAGAIN;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p, 0, offsetof(struct pass, list));
	kp_node_fslist_copy(&p->list, want);
	for (unsigned int i = 0; i < p->list.n; i++)
		p->list.m[i].state = KP_FS_PENDING;
	p->sh = sh;
	p->gen = ++s->gen;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, PASS_STACK);
	err = pthread_create(&t, &attr, pass_run, p);
	pthread_attr_destroy(&attr);
	if (err) {
		free(p);
		return -err;
	}
	sh->refs++;
	sh->threads++;
	s->running = p;
	return 0;
}

int kp_fsstat__tick(struct kp_fsstat *s, const struct kp_node_fslist *want,
		    struct kp_node_fslist *out)
{
	struct shared *sh = s->sh;
	uint64_t until = mono_ns() + s->wait_ns;
	struct timespec ts = { (time_t)(until / 1000000000ull), (long)(until % 1000000000ull) };
	uint64_t gen;
	int err = 0, fresh;

	pthread_mutex_lock(&sh->mu);
	reap(s);
	if (!s->running)
		err = start(s, want);
	gen = s->running ? s->running->gen : 0;
	while (s->running && !s->running->done &&
	       pthread_cond_timedwait(&sh->done_cv, &sh->mu, &ts) != ETIMEDOUT)
		;
	reap(s);
	kp_node_fslist_copy(out, &sh->last);
	if (!sh->last_gen)
		out->n = out->left_out = out->pool_used = 0;
	fresh = gen && sh->last_gen == gen;
	pthread_mutex_unlock(&sh->mu);
	return err ? err : fresh;
}

unsigned int kp_fsstat__stuck(const struct kp_fsstat *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->sh->mu);
	n = s->sh->n_stuck;
	pthread_mutex_unlock(&s->sh->mu);
	return n;
}
