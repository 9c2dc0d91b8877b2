/* scrape_cache.c - see scrape_cache.h.
 *
 * Why shared: /metrics of a thousand containers is megabytes; a copy per
 * client let 64 clients that never read hold 654 MB. An encoding is
 * written once into its own anonymous mapping (grown with mremap, so
 * nothing is copied and the pages go back to the kernel the moment the
 * last client is done, whatever malloc's thresholds would do), handed to
 * the server as a shared body, and freed by the server when its last
 * response is sent and the cache has moved on to a newer one. gzip is
 * deflated on the fly (level 1: about a twentieth of the bytes for the
 * CPU of a second encoding), so the plain text never exists in full.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include "outputs/http.h"
#include "outputs/prom.h"
#include "outputs/scrape_cache.h"

#define MIN_MAP (64u << 10)
#define STDIO_BUF (64u << 10)

struct newest {
	struct kp_http_shared *s;	/* the cache's reference */
	uint64_t stamp;			/* the collection it encodes */
	uint64_t made_ns;
	size_t last_len;		/* to size the next mapping */
};

struct kp_scrape_cache {
	struct newest v[KP_SCRAPE_VARIANTS];
	uint64_t encodings;
	uint64_t stale;
};

/* One encoding being written: an anonymous mapping and, for gzip, the
 * deflate stream feeding it. */
struct sink {
	char *p;
	size_t len, cap;
	bool gzip;
	z_stream z;
	int err;
};

struct kp_scrape_cache *kp_scrape_cache__new(void)
{
	return calloc(1, sizeof(struct kp_scrape_cache));
}

void kp_scrape_cache__free(struct kp_scrape_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < KP_SCRAPE_VARIANTS; i++)
		kp_http_shared_put(c->v[i].s);
	free(c);
}

const char *kp_scrape_content_type(unsigned int variant)
{
	return variant & KP_SCRAPE_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

bool kp_scrape_cache__sharing(const struct kp_scrape_cache *c, unsigned int variant,
			      uint64_t now_ns)
{
	const struct newest *n = &c->v[variant % KP_SCRAPE_VARIANTS];

	return n->s && kp_http_shared_users(n->s) && now_ns - n->made_ns < KP_SCRAPE_SHARE_NS;
}

static int grow(struct sink *k, size_t need)
{
	size_t cap = k->cap;
	void *p;

	while (cap - k->len < need)
		cap *= 2;
	p = mremap(k->p, k->cap, cap, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return k->err = -ENOMEM;
	k->p = p;
	k->cap = cap;
	return 0;
}

/* Deflate @n bytes (or finish, with @flush Z_FINISH) into the mapping. */
static int deflate_into(struct sink *k, const char *buf, size_t n, int flush)
{
	int ret;

	k->z.next_in = (unsigned char *)buf;
	k->z.avail_in = (unsigned int)n;
	do {
		if (k->cap - k->len < 4096 && grow(k, 4096))
			return -1;
		k->z.next_out = (unsigned char *)k->p + k->len;
		k->z.avail_out = (unsigned int)(k->cap - k->len);
		ret = deflate(&k->z, flush);
		k->len = k->cap - k->z.avail_out;
		if (ret == Z_STREAM_ERROR)
			return k->err = -EIO;
	} while (k->z.avail_in || (flush == Z_FINISH && ret != Z_STREAM_END));
	return 0;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct sink *k = cookie;

	if (k->gzip)
		return deflate_into(k, buf, n, Z_NO_FLUSH) ? -1 : (ssize_t)n;
	if (k->cap - k->len < n && grow(k, n))
		return -1;
	memcpy(k->p + k->len, buf, n);
	k->len += n;
	return (ssize_t)n;
}

static void unmap(void *cls)
{
	struct sink *k = cls;

	munmap(k->p, k->cap);
	free(k);
}

static struct sink *sink_open(bool gzip, size_t hint)
{
	struct sink *k = calloc(1, sizeof(*k));
	long page = sysconf(_SC_PAGESIZE);

	if (!k)
		return NULL;
	k->cap = (hint + hint / 8 + (size_t)page - 1) / (size_t)page * (size_t)page;
	if (k->cap < MIN_MAP)
		k->cap = MIN_MAP;
	k->p = mmap(NULL, k->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->p == MAP_FAILED) {
		free(k);
		return NULL;
	}
	k->gzip = gzip;
	/* windowBits 15 + 16: a gzip wrapper; level 1: fast */
	if (gzip && deflateInit2(&k->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		unmap(k);
		return NULL;
	}
	return k;
}

/* Render one encoding of @variant; NULL on failure. */
static struct sink *render_sink(unsigned int variant, size_t hint,
				kp_scrape_render_fn render, void *ctx)
{
	cookie_io_functions_t io = { .write = sink_write };
	struct sink *k = sink_open(variant & KP_SCRAPE_GZIP, hint);
	FILE *f;
	int err;

	if (!k)
		return NULL;
	f = fopencookie(k, "w", io);
	if (!f) {
		unmap(k);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, STDIO_BUF);
	err = render(ctx, f, variant & KP_SCRAPE_OPENMETRICS);
	err |= fclose(f);
	if (k->gzip) {
		err |= deflate_into(k, NULL, 0, Z_FINISH);
		deflateEnd(&k->z);
	}
	if (err || k->err) {
		unmap(k);
		return NULL;
	}
	return k;
}

/* Nobody is being sent @s any more, and it is KP_SCRAPE_KEEP_NS old: let
 * it go, so an encoding lives only as long as clients read it, or a scrape
 * of the same collection may still come. */
static void idle(void *cls, struct kp_http_shared *s)
{
	struct kp_scrape_cache *c = cls;

	for (int i = 0; i < KP_SCRAPE_VARIANTS; i++)
		if (c->v[i].s == s) {
			c->v[i].s = NULL;
			kp_http_shared_put(s);
		}
}

struct kp_http_shared *kp_scrape_cache__get(struct kp_scrape_cache *c, struct kp_http *h,
					    unsigned int variant, uint64_t stamp,
					    uint64_t now_ns, kp_scrape_render_fn render,
					    void *ctx)
{
	struct newest *n = &c->v[variant % KP_SCRAPE_VARIANTS];
	struct kp_http_shared *s;
	struct sink *k;

	if (n->s && (n->stamp == stamp || kp_http_shared_alive(h) >= KP_SCRAPE_MAX_ALIVE)) {
		c->stale += n->stamp != stamp;
		return kp_http_shared_get(n->s);
	}
	if (kp_http_shared_alive(h) >= KP_SCRAPE_MAX_ALIVE)
		return NULL;
	c->encodings++;
	k = render_sink(variant, n->last_len, render, ctx);
	if (!k)
		return NULL;
	s = kp_http_shared_new(h, k->p, k->len, kp_scrape_content_type(variant),
			       variant & KP_SCRAPE_GZIP ? "gzip" : NULL, unmap, k);
	if (!s)
		return NULL;
	kp_http_shared_on_idle(s, idle, c, now_ns + KP_SCRAPE_KEEP_NS);
	kp_http_shared_put(n->s);
	*n = (struct newest){ .s = s, .stamp = stamp, .made_ns = now_ns,
			      .last_len = kp_http_shared_len(s) };
	return kp_http_shared_get(s);
}

void kp_scrape_cache__prom(const struct kp_scrape_cache *c, FILE *f)
{
	kp_prom_family(f, "kpulse_http_metrics_encodings_total", "counter",
		       "/metrics bodies encoded; each is sent to every scrape that asks for "
		       "it while it is current.");
	kp_prom_sample_u64(f, "kpulse_http_metrics_encodings_total", NULL, c->encodings);
	kp_prom_family(f, "kpulse_http_metrics_stale_total", "counter",
		       "Scrapes answered with an older encoding because "
		       "4 encodings were still being sent.");
	kp_prom_sample_u64(f, "kpulse_http_metrics_stale_total", NULL, c->stale);
}
