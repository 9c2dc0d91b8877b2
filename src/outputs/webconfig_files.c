/* webconfig_files.c - the web config as files: read it, then the
 * certificate, key and CA files it names (relative to its own folder, as
 * exporter-toolkit resolves them), and stamp them all so the server can
 * tell when one changed. The parsing is webconfig.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "outputs/webconfig.h"

/* Up to KP_WEBCFG_MAX_BYTES of @path, NUL-terminated, in *@out. */
static int slurp(const char *path, const char *what, char **out, size_t *len,
		 char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open %s: %s", what, path, strerror(errno));
		return ret;
	}
	buf = malloc(KP_WEBCFG_MAX_BYTES + 1);
	n = buf ? fread(buf, 1, KP_WEBCFG_MAX_BYTES + 1, f) : 0;
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", what);
	} else if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: cannot read %s", what, path);
	} else if (n > KP_WEBCFG_MAX_BYTES) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: %s is larger than %d bytes", what, path,
			 KP_WEBCFG_MAX_BYTES);
	}
	fclose(f);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* @file relative to @dir (absolute names kept), in place. */
static int resolve(const char *dir, char **file)
{
	char *joined;

	if (!*file || (*file)[0] == '/')
		return 0;
	if (asprintf(&joined, "%s/%s", dir, *file) < 0)
		return -ENOMEM;
	free(*file);
	*file = joined;
	return 0;
}

static int read_pem(const char *file, const char *what, char **pem, char *err, size_t errlen)
{
	if (!file)
		return 0;
	free(*pem);
	*pem = NULL;
	return slurp(file, what, pem, NULL, err, errlen);
}

int kp_webcfg_load(const char *path, struct kp_webcfg *c, char *err, size_t errlen)
{
	char *buf, *dir, *slash;
	size_t len;
	int ret = slurp(path, "web config", &buf, &len, err, errlen);

	if (ret)
		return ret;
	ret = kp_webcfg_parse(path, buf, len, c, err, errlen);
	free(buf);
	if (ret)
		return ret;
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (!dir) {
		kp_webcfg_free(c);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if (slash)
		*slash = 0;
	ret = resolve(slash ? dir : ".", &c->cert_file) ?:
	      resolve(slash ? dir : ".", &c->key_file) ?:
	      resolve(slash ? dir : ".", &c->client_ca_file);
	free(dir);
	if (ret)
		snprintf(err, errlen, "%s: out of memory", path);
	else
		ret = read_pem(c->cert_file, "cert_file", &c->cert_pem, err, errlen) ?:
		      read_pem(c->key_file, "key_file", &c->key_pem, err, errlen) ?:
		      read_pem(c->client_ca_file, "client_ca_file", &c->client_ca_pem, err, errlen);
	if (ret)
		kp_webcfg_free(c);
	return ret;
}

void kp_webcfg_stamp(const char *path, const struct kp_webcfg *c, struct kp_webcfg_stamp *s)
{
	const char *files[4] = { path, c ? c->cert_file : NULL, c ? c->key_file : NULL,
				 c ? c->client_ca_file : NULL };
	struct stat st;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 4; i++) {
		if (!files[i] || stat(files[i], &st))
			continue;
		s->f[i][0] = st.st_ino;
		s->f[i][1] = (unsigned long long)st.st_size;
		s->f[i][2] = (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
			     (unsigned long long)st.st_mtim.tv_nsec;
		s->f[i][3] = (unsigned long long)st.st_ctim.tv_sec * 1000000000ull +
			     (unsigned long long)st.st_ctim.tv_nsec;
		s->f[i][4] = st.st_dev;
	}
}
