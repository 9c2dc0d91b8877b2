/* basic_auth.c - see basic_auth.h.
 *
 * The loop thread owns the users, the verdict cache and the callbacks;
 * the worker only sees jobs (copies of a name, a password and a hash) and
 * hands them back through a list under a mutex and an eventfd. A verdict
 * is remembered under SHA-256(random per-process salt, user, hash,
 * password), never the password itself; a changed hash is a new key. An
 * unknown user is checked against a fixed hash, as exporter-toolkit does,
 * so the time taken does not tell which users exist.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <gnutls/crypto.h>
#include "outputs/basic_auth.h"

/* bcrypt of "fakepassword" at cost 10 (exporter-toolkit's) */
static const char fake_hash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

struct job {
	struct job *next;
	uint8_t key[32];
	char *user, *pass, *hash;	/* one allocation after the struct */
	bool known;			/* the user exists */
	bool ok;			/* the worker's verdict on the hash */
	void (*done)(void *cls);
	void *cls;
};

struct entry {
	uint8_t key[32];
	bool used, ok;
};

struct kp_auth {
	struct kp_webcfg_user *users;
	unsigned int n_users;
	uint8_t salt[32];
	struct entry cache[KP_AUTH_CACHE];
	unsigned int next_slot;
	unsigned int pending;
	uint64_t checks, busy;
	int efd;
	bool started, stop;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *todo, *finished;	/* under mu */
};

struct kp_auth *kp_auth__new(void)
{
	struct kp_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0 || getrandom(a->salt, sizeof(a->salt), 0) != sizeof(a->salt)) {
		if (a->efd >= 0)
			close(a->efd);
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	return a;
}

static void free_users(struct kp_auth *a)
{
	for (unsigned int i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		explicit_bzero(a->users[i].hash, strlen(a->users[i].hash));
		free(a->users[i].hash);
	}
	free(a->users);
	a->users = NULL;
	a->n_users = 0;
}

static void free_jobs(struct job *j)
{
	while (j) {
		struct job *next = j->next;

		explicit_bzero(j->pass, strlen(j->pass));
		free(j);
		j = next;
	}
}

void kp_auth__free(struct kp_auth *a)
{
	if (!a)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	free_jobs(a->todo);
	free_jobs(a->finished);
	free_users(a);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	close(a->efd);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

int kp_auth__set_users(struct kp_auth *a, const struct kp_webcfg_user *users, unsigned int n)
{
	struct kp_webcfg_user *copy = n ? calloc(n, sizeof(*copy)) : NULL;

	if (n && !copy)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		copy[i].name = strdup(users[i].name);
		copy[i].hash = strdup(users[i].hash);
		if (!copy[i].name || !copy[i].hash) {
			a->n_users = 0;
			for (unsigned int k = 0; k <= i; k++) {
				free(copy[k].name);
				free(copy[k].hash);
			}
			free(copy);
			return -ENOMEM;
		}
	}
	free_users(a);
	a->users = copy;
	a->n_users = n;
	memset(a->cache, 0, sizeof(a->cache));
	return 0;
}

bool kp_auth__enabled(const struct kp_auth *a)
{
	return a && a->n_users;
}

/* bcrypt, compared in constant time */
static bool bcrypt_ok(const char *pass, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out = cd ? crypt_r(pass, hash, cd) : NULL;
	size_t n = strlen(hash);
	unsigned char diff = 0;
	bool ok = out && strlen(out) == n;

	for (size_t i = 0; ok && i < n; i++)
		diff |= (unsigned char)(out[i] ^ hash[i]);
	if (cd)
		explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok && !diff;
}

static void *worker(void *arg)
{
	struct kp_auth *a = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct job *j;

		while (!a->todo && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		j = a->todo;
		a->todo = j->next;
		pthread_mutex_unlock(&a->mu);
		j->ok = bcrypt_ok(j->pass, j->hash);
		explicit_bzero(j->pass, strlen(j->pass));
		pthread_mutex_lock(&a->mu);
		j->next = a->finished;
		a->finished = j;
		if (write(a->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow here; nothing to do */
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void cache_key(const struct kp_auth *a, const char *user, const char *hash,
		      const char *pass, uint8_t key[32])
{
	size_t nu = strlen(user) + 1, nh = strlen(hash) + 1, np = strlen(pass);
	size_t n = sizeof(a->salt) + nu + nh + np;
	unsigned char *buf = malloc(n);

	memset(key, 0, 32);
	if (!buf)
		return;		/* an all-zero key matches no remembered verdict */
	memcpy(buf, a->salt, sizeof(a->salt));
	memcpy(buf + sizeof(a->salt), user, nu);
	memcpy(buf + sizeof(a->salt) + nu, hash, nh);
	memcpy(buf + sizeof(a->salt) + nu + nh, pass, np);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, n, key);
	explicit_bzero(buf, n);
	free(buf);
}

static const struct entry *cached(const struct kp_auth *a, const uint8_t key[32])
{
	static const uint8_t zero[32];

	if (!memcmp(key, zero, 32))
		return NULL;
	for (unsigned int i = 0; i < KP_AUTH_CACHE; i++)
		if (a->cache[i].used && !memcmp(a->cache[i].key, key, 32))
			return &a->cache[i];
	return NULL;
}

static struct job *new_job(const char *user, const char *pass, const char *hash)
{
	size_t nu = strlen(user) + 1, np = strlen(pass) + 1, nh = strlen(hash) + 1;
	struct job *j = calloc(1, sizeof(*j) + nu + np + nh);

	if (!j)
		return NULL;
	j->user = (char *)(j + 1);
	j->pass = j->user + nu;
	j->hash = j->pass + np;
	memcpy(j->user, user, nu);
	memcpy(j->pass, pass, np);
	memcpy(j->hash, hash, nh);
	return j;
}

static enum kp_auth_verdict submit(struct kp_auth *a, struct job *j)
{
	pthread_mutex_lock(&a->mu);
	if (!a->started) {
		if (pthread_create(&a->thread, NULL, worker, a)) {
			pthread_mutex_unlock(&a->mu);
			free_jobs(j);
			return KP_AUTH_BUSY;
		}
		a->started = true;
	}
	j->next = a->todo;
	a->todo = j;
	a->pending++;
	a->checks++;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return KP_AUTH_PENDING;
}

enum kp_auth_verdict kp_auth__check(struct kp_auth *a, const char *user, const char *pass,
				    void (*done)(void *cls), void *cls)
{
	const char *hash = fake_hash;
	const struct entry *e;
	struct job *j;
	bool known = false;

	if (!kp_auth__enabled(a))
		return KP_AUTH_OK;
	if (!user || !pass)
		return KP_AUTH_DENIED;
	for (unsigned int i = 0; i < a->n_users; i++)
		if (!strcmp(a->users[i].name, user)) {
			hash = a->users[i].hash;
			known = true;
			break;
		}
	j = a->pending < KP_AUTH_MAX_PENDING ? new_job(user, pass, hash) : NULL;
	if (!j) {
		uint8_t key[32];

		cache_key(a, user, hash, pass, key);
		e = cached(a, key);
		if (e)
			return e->ok && known ? KP_AUTH_OK : KP_AUTH_DENIED;
		a->busy++;
		return KP_AUTH_BUSY;
	}
	cache_key(a, user, hash, pass, j->key);
	e = cached(a, j->key);
	if (e) {
		free_jobs(j);
		return e->ok && known ? KP_AUTH_OK : KP_AUTH_DENIED;
	}
	j->known = known;
	j->done = done;
	j->cls = cls;
	return submit(a, j);
}

int kp_auth__fd(const struct kp_auth *a)
{
	return a->efd;
}

void kp_auth__poll(struct kp_auth *a)
{
	struct job *j, *next;
	uint64_t n;

	if (read(a->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&a->mu);
	j = a->finished;
	a->finished = NULL;
	pthread_mutex_unlock(&a->mu);
	for (; j; j = next) {
		struct entry *e = &a->cache[a->next_slot++ % KP_AUTH_CACHE];

		next = j->next;
		memcpy(e->key, j->key, 32);
		e->used = true;
		e->ok = j->ok;
		a->pending--;
		if (j->done)
			j->done(j->cls);
		j->next = NULL;
		free_jobs(j);
	}
}

void kp_auth__counts(const struct kp_auth *a, uint64_t *checks, uint64_t *busy)
{
	*checks = a ? a->checks : 0;
	*busy = a ? a->busy : 0;
}
