/* client.c - see client.h (libcurl). */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "base/log.h"
#include "cmd/client.h"

struct membuf {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t n, void *arg)
{
	struct membuf *m = arg;
	char *p;

	if (m->n + sz * n > (64u << 20))	/* a sane bound on any answer */
		return 0;
	p = realloc(m->p, m->n + sz * n + 1);
	if (!p)
		return 0;
	memcpy(p + m->n, d, sz * n);
	m->p = p;
	m->n += sz * n;
	m->p[m->n] = 0;
	return sz * n;
}

char *kp_http_get(const char *base, const char *path)
{
	struct membuf m = { 0 };
	char url[2048];
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s%s%s", strncmp(base, "http", 4) ? "http://" : "",
		 base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || code != 200) {
		kp_err("--from %s: %s", base, rc != CURLE_OK ? curl_easy_strerror(rc)
							     : "the daemon answered with an error");
		free(m.p);
		return NULL;
	}
	return m.p ? m.p : strdup("");
}

