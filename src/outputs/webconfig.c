/* webconfig.c - see webconfig.h.
 *
 * The keys and their meaning follow prometheus/exporter-toolkit
 * (web/tls_config.go), so a file written for node_exporter works here.
 * Where kpulse cannot do what a key asks (cipher_suites,
 * curve_preferences, custom headers, rate_limit), the file is refused with
 * a line saying so: a security setting silently ignored would be worse.
 * Unknown and repeated keys are refused as exporter-toolkit's strict YAML
 * decoding does.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "outputs/webconfig.h"

struct wp {
	const char *name;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

static int fail(struct wp *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct wp *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(p->err, p->errlen, "%s:%zu:%zu: ", p->name,
			 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);

	if (k < 0 || (size_t)k >= p->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A scalar's text, "" for null (unset, as exporter-toolkit reads it). */
static int scalar(struct wp *p, const yaml_node_t *n, const char *key, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(p, n, "%s: expected a single value", key);
	*out = text(n);
	if (strlen(*out) != n->data.scalar.length)
		return fail(p, n, "%s: NUL byte in the value", key);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (!strcmp(*out, "~") || !strcmp(*out, "null")))
		*out = "";
	return 0;
}

static int set_str(struct wp *p, const yaml_node_t *n, const char *key, char **dst)
{
	const char *s;
	int ret = scalar(p, n, key, &s);

	if (ret)
		return ret;
	free(*dst);
	*dst = s[0] ? strdup(s) : NULL;
	if (s[0] && !*dst)
		return fail(p, n, "out of memory");
	return 0;
}

static int set_bool(struct wp *p, const yaml_node_t *n, const char *key, bool *dst)
{
	const char *s;
	int ret = scalar(p, n, key, &s);

	if (ret)
		return ret;
	if (!strcmp(s, "true"))
		*dst = true;
	else if (!strcmp(s, "false"))
		*dst = false;
	else
		return fail(p, n, "%s: expected true or false, not '%s'", key, s);
	return 0;
}

static int set_version(struct wp *p, const yaml_node_t *n, const char *key, unsigned int *dst)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13" };
	const char *s;
	int ret = scalar(p, n, key, &s);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < 4; i++)
		if (!strcmp(s, names[i])) {
			*dst = KP_TLS10 + i;
			return 0;
		}
	return fail(p, n, "%s: expected TLS10, TLS11, TLS12 or TLS13, not '%s'", key, s);
}

static int set_auth(struct wp *p, const yaml_node_t *n, enum kp_client_auth *dst)
{
	static const struct { const char *name; enum kp_client_auth v; } types[] = {
		{ "", KP_CLIENT_NONE }, { "NoClientCert", KP_CLIENT_NONE },
		{ "RequestClientCert", KP_CLIENT_REQUEST },
		{ "RequireAnyClientCert", KP_CLIENT_REQUIRE_ANY },
		{ "RequireClientCert", KP_CLIENT_REQUIRE_ANY },	/* older name */
		{ "VerifyClientCertIfGiven", KP_CLIENT_VERIFY_IF_GIVEN },
		{ "RequireAndVerifyClientCert", KP_CLIENT_REQUIRE_VERIFY },
	};
	const char *s;
	int ret = scalar(p, n, "client_auth_type", &s);

	if (ret)
		return ret;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(s, types[i].name)) {
			*dst = types[i].v;
			return 0;
		}
	return fail(p, n, "client_auth_type: '%s' is not one of NoClientCert, RequestClientCert, "
		    "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert", s);
}

static int set_sans(struct wp *p, const yaml_node_t *n, struct kp_webcfg *c)
{
	yaml_node_item_t *it;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, "client_allowed_sans: expected a list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(p->doc, *it);
		char *s = NULL;
		int ret;

		if (c->n_sans == KP_WEBCFG_MAX_SANS)
			return fail(p, v, "client_allowed_sans: more than %d", KP_WEBCFG_MAX_SANS);
		ret = set_str(p, v, "client_allowed_sans", &s);
		if (ret)
			return ret;
		if (!s)
			return fail(p, v, "client_allowed_sans: empty name");
		c->allowed_sans[c->n_sans++] = s;
	}
	return 0;
}

/* The mapping @n's pairs, each key checked against @keys (NULL-ended):
 * calls @fn(p, key index, key node, value node, c). */
typedef int (*pair_fn)(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v,
		       struct kp_webcfg *c);

static int each_pair(struct wp *p, const yaml_node_t *n, const char *what,
		     const char *const *keys, pair_fn fn, struct kp_webcfg *c)
{
	yaml_node_pair_t *pr;
	unsigned long long seen = 0;

	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "%s: expected a mapping", what);
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *key = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		int k, ret;

		if (key->type != YAML_SCALAR_NODE)
			return fail(p, key, "%s: keys must be plain names", what);
		for (k = 0; keys[k] && strcmp(keys[k], text(key)); k++)
			;
		if (!keys[k])
			return fail(p, key, "%s: unknown key '%s'", what, text(key));
		if (seen & (1ull << k))
			return fail(p, key, "%s: '%s' given twice", what, text(key));
		seen |= 1ull << k;
		ret = fn(p, k, key, v, c);
		if (ret)
			return ret;
	}
	return 0;
}

enum { T_CERT_FILE, T_KEY_FILE, T_CERT, T_KEY, T_CA_FILE, T_CA, T_AUTH, T_MIN, T_MAX,
       T_SANS, T_PREFER, T_CIPHERS, T_CURVES };
static const char *const tls_keys[] = {
	[T_CERT_FILE] = "cert_file", [T_KEY_FILE] = "key_file", [T_CERT] = "cert",
	[T_KEY] = "key", [T_CA_FILE] = "client_ca_file", [T_CA] = "client_ca",
	[T_AUTH] = "client_auth_type", [T_MIN] = "min_version", [T_MAX] = "max_version",
	[T_SANS] = "client_allowed_sans", [T_PREFER] = "prefer_server_cipher_suites",
	[T_CIPHERS] = "cipher_suites", [T_CURVES] = "curve_preferences", NULL,
};

static int tls_pair(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v, struct kp_webcfg *c)
{
	bool ignored;

	switch (k) {
	case T_CERT_FILE: return set_str(p, v, tls_keys[k], &c->cert_file);
	case T_KEY_FILE: return set_str(p, v, tls_keys[k], &c->key_file);
	case T_CERT: return set_str(p, v, tls_keys[k], &c->cert_pem);
	case T_KEY: return set_str(p, v, tls_keys[k], &c->key_pem);
	case T_CA_FILE: return set_str(p, v, tls_keys[k], &c->client_ca_file);
	case T_CA: return set_str(p, v, tls_keys[k], &c->client_ca_pem);
	case T_AUTH: return set_auth(p, v, &c->client_auth);
	case T_MIN: return set_version(p, v, tls_keys[k], &c->min_version);
	case T_MAX: return set_version(p, v, tls_keys[k], &c->max_version);
	case T_SANS: return set_sans(p, v, c);
	case T_PREFER: return set_bool(p, v, tls_keys[k], &ignored);	/* GnuTLS decides */
	default:
		return fail(p, key, "tls_server_config: %s is not supported by kpulse (GnuTLS's "
			    "defaults for the versions allowed are used)", text(key));
	}
}

static int user_pair(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v, struct kp_webcfg *c);

static int parse_users(struct wp *p, const yaml_node_t *n, struct kp_webcfg *c)
{
	yaml_node_pair_t *pr;

	if (n->type == YAML_SCALAR_NODE && !text(n)[0])
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n, "basic_auth_users: expected a mapping of user: bcrypt hash");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		int ret = user_pair(p, 0, yaml_document_get_node(p->doc, pr->key),
				    yaml_document_get_node(p->doc, pr->value), c);

		if (ret)
			return ret;
	}
	return 0;
}

static bool is_bcrypt(const char *h)
{
	return (!strncmp(h, "$2a$", 4) || !strncmp(h, "$2b$", 4) || !strncmp(h, "$2y$", 4)) &&
	       crypt_checksalt(h) == CRYPT_SALT_OK && strlen(h) == 60;
}

static int user_pair(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v, struct kp_webcfg *c)
{
	struct kp_webcfg_user *u;
	const char *name, *hash;
	int ret;

	(void)k;
	ret = scalar(p, key, "basic_auth_users", &name);
	if (!ret)
		ret = scalar(p, v, name, &hash);
	if (ret)
		return ret;
	if (!name[0] || strchr(name, ':') || strlen(name) > 255)
		return fail(p, key, "basic_auth_users: a user name must be 1 to 255 characters "
			    "without ':'");
	for (unsigned int i = 0; i < c->n_users; i++)
		if (!strcmp(c->users[i].name, name))
			return fail(p, key, "basic_auth_users: '%s' given twice", name);
	if (!is_bcrypt(hash))
		return fail(p, v, "basic_auth_users: %s: not a bcrypt hash (make one with "
			    "htpasswd -nBC 10 %s)", name, name);
	if (c->n_users == KP_WEBCFG_MAX_USERS)
		return fail(p, key, "basic_auth_users: more than %d users", KP_WEBCFG_MAX_USERS);
	u = &c->users[c->n_users];
	u->name = strdup(name);
	u->hash = strdup(hash);
	c->n_users++;
	return u->name && u->hash ? 0 : fail(p, key, "out of memory");
}

enum { H_HTTP2, H_HEADERS };
static const char *const http_keys[] = { [H_HTTP2] = "http2", [H_HEADERS] = "headers", NULL };

static int http_pair(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v, struct kp_webcfg *c)
{
	bool ignored;

	(void)c;
	if (k == H_HTTP2)
		return set_bool(p, v, "http2", &ignored);	/* kpulse speaks HTTP/1.1 */
	return fail(p, key, "http_server_config: headers is not supported by kpulse");
}

enum { W_TLS, W_USERS, W_HTTP, W_RATE };
static const char *const top_keys[] = {
	[W_TLS] = "tls_server_config", [W_USERS] = "basic_auth_users",
	[W_HTTP] = "http_server_config", [W_RATE] = "rate_limit", NULL,
};

static int top_pair(struct wp *p, int k, yaml_node_t *key, yaml_node_t *v, struct kp_webcfg *c)
{
	switch (k) {
	case W_TLS:
		if (v->type == YAML_SCALAR_NODE && !text(v)[0])
			return 0;
		return each_pair(p, v, "tls_server_config", tls_keys, tls_pair, c);
	case W_USERS:
		return parse_users(p, v, c);
	case W_HTTP:
		if (v->type == YAML_SCALAR_NODE && !text(v)[0])
			return 0;
		return each_pair(p, v, "http_server_config", http_keys, http_pair, c);
	default:
		return fail(p, key, "rate_limit is not supported by kpulse (its HTTP server "
			    "limits connections per address instead)");
	}
}

/* What exporter-toolkit checks once the keys are read, and what kpulse
 * needs besides. */
static int validate(struct wp *p, const yaml_node_t *root, struct kp_webcfg *c)
{
	c->tls = c->cert_file || c->cert_pem || c->key_file || c->key_pem ||
		 c->client_ca_file || c->client_ca_pem || c->client_auth != KP_CLIENT_NONE;
	/* refused with or without TLS: a file that says so is wrong either way */
	if (c->min_version > c->max_version)
		return fail(p, root, "tls_server_config: min_version is above max_version");
	if (!c->tls)
		return 0;
	if (!c->cert_file == !c->cert_pem)
		return fail(p, root, "tls_server_config: give one of cert_file or cert");
	if (!c->key_file == !c->key_pem)
		return fail(p, root, "tls_server_config: give one of key_file or key");
	if (c->client_ca_file && c->client_ca_pem)
		return fail(p, root, "tls_server_config: give client_ca_file or client_ca, not both");
	if ((c->client_ca_file || c->client_ca_pem) && c->client_auth == KP_CLIENT_NONE)
		return fail(p, root, "tls_server_config: client CAs are configured without a "
			    "client_auth_type");
	if (c->client_auth != KP_CLIENT_NONE && !c->client_ca_file && !c->client_ca_pem)
		return fail(p, root, "tls_server_config: client_auth_type needs client_ca_file "
			    "(kpulse asks for client certificates by the CAs it trusts)");
	return 0;
}

static int parse_root(struct wp *p, yaml_parser_t *y, struct kp_webcfg *c)
{
	yaml_node_t *root = yaml_document_get_root_node(p->doc);
	yaml_document_t extra;
	int ret;

	if (!root || (root->type == YAML_SCALAR_NODE && !text(root)[0]))
		return fail(p, NULL, "empty web config: it would turn TLS and authentication off; "
			    "write {} to mean that");
	if (!yaml_parser_load(y, &extra))
		return fail(p, NULL, "YAML: %s", y->problem ? y->problem : "syntax error");
	ret = yaml_document_get_root_node(&extra) ?
		fail(p, yaml_document_get_root_node(&extra), "only one YAML document is allowed") : 0;
	yaml_document_delete(&extra);
	if (!ret)
		ret = each_pair(p, root, "web config", top_keys, top_pair, c);
	return ret ? ret : validate(p, root, c);
}

int kp_webcfg_parse(const char *name, const char *buf, size_t len,
		    struct kp_webcfg *c, char *err, size_t errlen)
{
	struct wp p = { .name = name, .err = err, .errlen = errlen };
	yaml_document_t doc;
	yaml_parser_t y;
	int ret;

	memset(c, 0, sizeof(*c));
	c->min_version = KP_TLS10 + 2;
	c->max_version = KP_TLS13;
	c->users = calloc(KP_WEBCFG_MAX_USERS, sizeof(*c->users));
	c->allowed_sans = calloc(KP_WEBCFG_MAX_SANS, sizeof(*c->allowed_sans));
	if (!c->users || !c->allowed_sans || !yaml_parser_initialize(&y)) {
		kp_webcfg_free(c);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&y, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&y, &doc)) {
		ret = fail(&p, NULL, "YAML at line %zu: %s", y.problem_mark.line + 1,
			   y.problem ? y.problem : "syntax error");
	} else {
		p.doc = &doc;
		ret = parse_root(&p, &y, c);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&y);
	if (ret)
		kp_webcfg_free(c);
	return ret;
}

void kp_webcfg_free(struct kp_webcfg *c)
{
	if (!c)
		return;
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->client_ca_pem);
	for (unsigned int i = 0; i < c->n_sans; i++)
		free(c->allowed_sans[i]);
	free(c->allowed_sans);
	for (unsigned int i = 0; c->users && i < c->n_users; i++) {
		free(c->users[i].name);
		if (c->users[i].hash)
			explicit_bzero(c->users[i].hash, strlen(c->users[i].hash));
		free(c->users[i].hash);
	}
	free(c->users);
	memset(c, 0, sizeof(*c));
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool kp_webcfg_same_tls(const struct kp_webcfg *a, const struct kp_webcfg *b)
{
	if (a->tls != b->tls || a->client_auth != b->client_auth ||
	    a->min_version != b->min_version || a->max_version != b->max_version ||
	    a->n_sans != b->n_sans || !same_str(a->cert_pem, b->cert_pem) ||
	    !same_str(a->key_pem, b->key_pem) || !same_str(a->client_ca_pem, b->client_ca_pem))
		return false;
	for (unsigned int i = 0; i < a->n_sans; i++)
		if (strcmp(a->allowed_sans[i], b->allowed_sans[i]))
			return false;
	return true;
}
