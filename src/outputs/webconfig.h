/* webconfig.h - the web configuration file (--web-config, web_config:) in
 * the exporter-toolkit format node_exporter and Prometheus use: TLS
 * (server certificate, client certificates, protocol versions) and bcrypt
 * basic-auth users. The parser is pure (YAML bytes in, a struct out, every
 * error as "name:line:column: what"); kp_webcfg_load reads the file and the
 * files it names. */
#ifndef KPULSE_WEBCONFIG_H
#define KPULSE_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KP_WEBCFG_MAX_USERS 1024
#define KP_WEBCFG_MAX_SANS 64
#define KP_WEBCFG_MAX_BYTES (1 << 20)	/* the file, and each PEM file */

/* client_auth_type, as Go's crypto/tls names them */
enum kp_client_auth {
	KP_CLIENT_NONE,			/* NoClientCert (default) */
	KP_CLIENT_REQUEST,		/* RequestClientCert: asked, not checked */
	KP_CLIENT_REQUIRE_ANY,		/* RequireAnyClientCert: required, not verified */
	KP_CLIENT_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	KP_CLIENT_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

/* TLS protocol versions as on the wire: 0x0301 (TLS 1.0) .. 0x0304 (1.3) */
#define KP_TLS10 0x0301
#define KP_TLS13 0x0304

struct kp_webcfg_user {
	char *name;
	char *hash;		/* bcrypt: $2a$, $2b$ or $2y$ */
};

struct kp_webcfg {
	bool tls;		/* tls_server_config sets anything */
	/* as written: file names (relative to the web config's folder) or
	 * inline PEM; after kp_webcfg_load the *_pem hold the contents */
	char *cert_file, *key_file, *client_ca_file;
	char *cert_pem, *key_pem, *client_ca_pem;
	enum kp_client_auth client_auth;
	unsigned int min_version, max_version;	/* default TLS 1.2 .. 1.3 */
	char **allowed_sans;	/* client_allowed_sans; NULL: any */
	unsigned int n_sans;
	struct kp_webcfg_user *users;
	unsigned int n_users;
};

/* Parse @len bytes named @name into @out (zeroed first). 0, or -EINVAL
 * with one line in @err. An empty or comment-only file is refused: it
 * would turn TLS and authentication off; "{}" says so on purpose. */
int kp_webcfg_parse(const char *name, const char *buf, size_t len,
		    struct kp_webcfg *out, char *err, size_t errlen);

/* Read @path and parse it, then read the files it names (relative to its
 * folder) into the *_pem fields. 0, or a negative errno with one line. */
int kp_webcfg_load(const char *path, struct kp_webcfg *out, char *err, size_t errlen);

/* What tells whether the web config or a file it names changed: each
 * one's inode, size and modification and change times (a file replaced by
 * a rename, or a Kubernetes secret's symlink swap, shows too). */
struct kp_webcfg_stamp {
	unsigned long long f[4][5];
};
void kp_webcfg_stamp(const char *path, const struct kp_webcfg *c, struct kp_webcfg_stamp *s);

/* The same TLS settings (certificates, CA, policy, versions, SANs)? */
bool kp_webcfg_same_tls(const struct kp_webcfg *a, const struct kp_webcfg *b);

void kp_webcfg_free(struct kp_webcfg *c);

#endif
