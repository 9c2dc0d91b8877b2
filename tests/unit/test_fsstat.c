/* test_fsstat.c - statfs off the caller's thread: real statfs against the
 * figures the test reads itself, and a statfs that blocks (a stand-in for
 * a hung NFS mount, released by the test) to check that a tick never
 * waits for it, that the mount is marked stuck after the deadline and
 * skipped, that it recovers, that threads are bounded, and that freeing
 * while a statfs hangs is safe. The integration test hangs a real FUSE
 * mount. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "collect/fsstat.h"

static void add(struct kp_node_fslist *l, const char *mnt)
{
	struct kp_node_fs *m = &l->m[l->n++];

	memset(m, 0, sizeof(*m));
	m->mountpoint = l->pool_used;
	strcpy(&l->pool[l->pool_used], mnt);
	l->pool_used += strlen(mnt) + 1;
	m->device = m->fstype = m->mountpoint;
}

static const struct kp_node_fs *find(const struct kp_node_fslist *l, const char *mnt)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (!strcmp(kp_node_fs_str(l, l->m[i].mountpoint), mnt))
			return &l->m[i];
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the stand-in: paths under /block wait until released ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool released;
static int blocked_now, returned;

static int fake_statfs(const char *path, struct statfs *st)
{
	if (!strncmp(path, "/block", 6)) {
		pthread_mutex_lock(&mu);
		blocked_now++;
		while (!released)
			pthread_cond_wait(&cv, &mu);
		blocked_now--;
		returned++;
		pthread_mutex_unlock(&mu);
	}
	if (!strcmp(path, "/error")) {
		errno = EIO;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_blocks = 1000 + strlen(path);
	st->f_bfree = 500;
	st->f_bavail = 400;
	st->f_files = 77;
	st->f_ffree = 7;
	return 0;
}

static void set_released(bool r)
{
	pthread_mutex_lock(&mu);
	released = r;
	returned = 0;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

/* Wait (a bounded while) for every blocked statfs to have returned. */
static void wait_unblocked(void)
{
	uint64_t until = now_ms() + 5000;
	int n;

	do {
		usleep(1000);
		pthread_mutex_lock(&mu);
		n = blocked_now;
		pthread_mutex_unlock(&mu);
	} while (n && now_ms() < until);
	assert_int_equal(n, 0);
	usleep(20000);	/* the threads' last steps after the call */
}

static void test_real_statfs(void **s)
{
	struct kp_node_fslist *want = calloc(1, sizeof(*want)), *out = calloc(1, sizeof(*out));
	struct kp_fsstat *fs = kp_fsstat__new(5000000000ull, 1000000000ull, NULL);
	char dir[] = "/tmp/kpulse-fsstat-XXXXXX";
	struct statfs st;
	const struct kp_node_fs *m;

	(void)s;
	assert_non_null(mkdtemp(dir));
	add(want, "/");
	add(want, dir);
	add(want, "/nonexistent-kpulse-fsstat-test");
	assert_int_equal(kp_fsstat__tick(fs, want, out), 1);
	assert_int_equal(out->n, 3);
	assert_int_equal(statfs("/", &st), 0);
	m = find(out, "/");
	assert_int_equal(m->state, KP_FS_OK);
	assert_int_equal(m->size, (uint64_t)st.f_blocks * st.f_bsize);
	assert_int_equal(m->files, st.f_files);
	/* free space moves with whatever else writes: within 1% of the disk */
	assert_true((double)m->free > (double)st.f_bfree * st.f_bsize - 0.01 * m->size);
	assert_true((double)m->free < (double)st.f_bfree * st.f_bsize + 0.01 * m->size);
	assert_true(m->avail <= m->free);
	assert_int_equal(find(out, dir)->state, KP_FS_OK);
	assert_int_equal(find(out, "/nonexistent-kpulse-fsstat-test")->state, KP_FS_ERROR);
	assert_int_equal(kp_fsstat__stuck(fs), 0);
	kp_fsstat__free(fs);
	rmdir(dir);
	free(want);
	free(out);
}

static void test_stuck_and_back(void **s)
{
	struct kp_node_fslist *want = calloc(1, sizeof(*want)), *out = calloc(1, sizeof(*out));
	/* deadline 50 ms; a tick waits up to 300 ms for its pass (a pass that
	 * does not hang ends long before, whatever the machine's load) */
	struct kp_fsstat *fs = kp_fsstat__new(50000000ull, 300000000ull, fake_statfs);
	uint64_t t0;

	(void)s;
	set_released(false);
	add(want, "/a");
	add(want, "/block1");
	add(want, "/c");
	add(want, "/error");
	t0 = now_ms();
	assert_int_equal(kp_fsstat__tick(fs, want, out), 0);	/* waited, not done */
	assert_true(now_ms() - t0 >= 290 && now_ms() - t0 < 1000);
	assert_int_equal(out->n, 0);	/* no pass finished yet */
	/* past the deadline: /block1 is stuck, a new pass measures the rest */
	t0 = now_ms();
	assert_int_equal(kp_fsstat__tick(fs, want, out), 1);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(kp_fsstat__stuck(fs), 1);
	assert_int_equal(out->n, 4);
	assert_int_equal(find(out, "/a")->state, KP_FS_OK);
	assert_int_equal(find(out, "/a")->size, 4096 * 1002);
	assert_int_equal(find(out, "/a")->avail, 4096 * 400);
	assert_int_equal(find(out, "/a")->files_free, 7);
	assert_int_equal(find(out, "/block1")->state, KP_FS_STUCK);
	assert_int_equal(find(out, "/c")->state, KP_FS_OK);
	assert_int_equal(find(out, "/error")->state, KP_FS_ERROR);
	/* skipped while stuck: the next tick does not wait for it either */
	assert_int_equal(kp_fsstat__tick(fs, want, out), 1);
	assert_int_equal(find(out, "/block1")->state, KP_FS_STUCK);
	/* the hung statfs returns: the mark goes, the mount is measured */
	set_released(true);
	wait_unblocked();
	assert_int_equal(returned, 1);
	assert_int_equal(kp_fsstat__stuck(fs), 0);
	assert_int_equal(kp_fsstat__tick(fs, want, out), 1);
	assert_int_equal(find(out, "/block1")->state, KP_FS_OK);
	assert_int_equal(find(out, "/block1")->size, 4096 * 1007);
	kp_fsstat__free(fs);
	free(want);
	free(out);
}

static void test_threads_bounded(void **s)
{
	struct kp_node_fslist *want = calloc(1, sizeof(*want)), *out = calloc(1, sizeof(*out));
	struct kp_fsstat *fs = kp_fsstat__new(20000000ull, 1000000ull, fake_statfs);
	char path[32];
	int r = 0, ticks = 0;

	(void)s;
	set_released(false);
	for (int i = 0; i < KP_FS_MAX_STUCK + 3; i++) {
		snprintf(path, sizeof(path), "/block%d", i);
		add(want, path);
	}
	/* every mount hangs: each tick past the deadline gives one up */
	while (ticks++ < 40) {
		r = kp_fsstat__tick(fs, want, out);
		if (r == -EAGAIN)
			break;
		assert_int_equal(r, 0);
		usleep(30000);
	}
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(kp_fsstat__stuck(fs), KP_FS_MAX_STUCK);
	pthread_mutex_lock(&mu);
	assert_int_equal(blocked_now, KP_FS_MAX_STUCK + 1);	/* threads bounded */
	pthread_mutex_unlock(&mu);
	assert_int_equal(kp_fsstat__tick(fs, want, out), -EAGAIN);
	set_released(true);
	wait_unblocked();
	assert_int_equal(kp_fsstat__stuck(fs), 0);
	for (ticks = 0; ticks < 100 && (r = kp_fsstat__tick(fs, want, out)) != 1; ticks++)
		usleep(10000);
	assert_int_equal(r, 1);
	assert_int_equal(out->n, KP_FS_MAX_STUCK + 3);
	for (unsigned int i = 0; i < out->n; i++)
		assert_int_equal(out->m[i].state, KP_FS_OK);
	kp_fsstat__free(fs);
	free(want);
	free(out);
}

static void test_free_while_hung(void **s)
{
	struct kp_node_fslist *want = calloc(1, sizeof(*want)), *out = calloc(1, sizeof(*out));
	struct kp_fsstat *fs = kp_fsstat__new(20000000ull, 300000000ull, fake_statfs);
	uint64_t t0;

	(void)s;
	set_released(false);
	add(want, "/block");
	assert_int_equal(kp_fsstat__tick(fs, want, out), 0);
	assert_int_equal(kp_fsstat__tick(fs, want, out), 1);	/* stuck: skipped */
	assert_int_equal(out->m[0].state, KP_FS_STUCK);
	t0 = now_ms();
	kp_fsstat__free(fs);	/* does not wait for the hung thread */
	assert_true(now_ms() - t0 < 1000);
	/* the thread returns into freed-by-the-daemon state: it must find its
	 * own (sanitizer or valgrind runs catch a use after free) */
	set_released(true);
	wait_unblocked();
	assert_int_equal(returned, 1);
	kp_fsstat__free(NULL);
	free(want);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_statfs),
		cmocka_unit_test(test_stuck_and_back),
		cmocka_unit_test(test_threads_bounded),
		cmocka_unit_test(test_free_while_hung),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
