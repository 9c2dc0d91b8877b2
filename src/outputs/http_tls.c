/* http_tls.c - see http_tls.h.
 *
 * libmicrohttpd asks for a client certificate (GnuTLS's CERT_REQUEST)
 * when it has a CA list, and checks nothing. The session exists before MHD
 * tells us of the connection and its handshake starts only later, so the
 * notification is where the policy goes in: CERT_REQUIRE for the
 * Require* types, and a verify function on the daemon's credentials that
 * GnuTLS runs as soon as the client's certificate arrives, failing the
 * handshake on a bad chain or a SAN that is not allowed. GnuTLS's verify
 * functions take no argument of ours, so the credentials are mapped back
 * to their web config through a small table (a few daemons at most: the
 * current one and those draining after a certificate change).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include "outputs/http_tls.h"

#define MAX_BOUND 16

static struct {
	gnutls_certificate_credentials_t cred;
	const struct kp_webcfg *w;
} bound[MAX_BOUND];

void kp_http_tls_options(const struct kp_webcfg *w, struct MHD_OptionItem *o,
			 char *prio, size_t priolen)
{
	static const char *const vers[] = { "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3" };
	size_t k = 0;
	int n = snprintf(prio, priolen, "NORMAL:-VERS-ALL");

	for (unsigned int v = w->max_version; v >= w->min_version && v >= KP_TLS10; v--)
		n += snprintf(prio + n, priolen - (size_t)n, ":+VERS-%s", vers[v - KP_TLS10]);
	o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key_pem };
	o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert_pem };
	if (w->client_auth != KP_CLIENT_NONE)
		o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, w->client_ca_pem };
	o[k++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, prio };
	o[k] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

static const struct kp_webcfg *policy_of(gnutls_session_t s)
{
	void *cred = NULL;

	if (gnutls_credentials_get(s, GNUTLS_CRD_CERTIFICATE, &cred) < 0)
		return NULL;
	for (int i = 0; i < MAX_BOUND; i++)
		if (bound[i].w && bound[i].cred == cred)
			return bound[i].w;
	return NULL;
}

/* One subject alternative name as Go's x509 prints it. */
static void san_text(int type, const char *buf, size_t len, char *out, size_t outlen)
{
	if (type == GNUTLS_SAN_IPADDRESS && (len == 4 || len == 16))
		inet_ntop(len == 4 ? AF_INET : AF_INET6, buf, out, (socklen_t)outlen);
	else
		snprintf(out, outlen, "%.*s", (int)len, buf);
}

static bool san_allowed(const struct kp_webcfg *w, gnutls_session_t s)
{
	unsigned int n = 0, critical;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &n);
	gnutls_x509_crt_t crt;
	bool ok = false;

	if (!peers || !n || gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) >= 0) {
		for (unsigned int seq = 0; !ok; seq++) {
			char buf[1024], txt[1024];
			size_t len = sizeof(buf);
			int t = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &len, &critical);

			if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
				break;
			if (t < 0)
				continue;
			san_text(t, buf, len, txt, sizeof(txt));
			for (unsigned int i = 0; i < w->n_sans && !ok; i++)
				ok = !strcmp(txt, w->allowed_sans[i]);
		}
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* In the handshake, once the client's certificate is in: 0 goes on,
 * anything else fails the handshake. */
static int verify(gnutls_session_t s)
{
	const struct kp_webcfg *w = policy_of(s);
	unsigned int status = 0, n = 0;

	if (!w)
		return -1;
	if (w->client_auth == KP_CLIENT_REQUEST || w->client_auth == KP_CLIENT_REQUIRE_ANY)
		return 0;
	if (!gnutls_certificate_get_peers(s, &n) || !n)
		return w->client_auth == KP_CLIENT_VERIFY_IF_GIVEN ? 0 : -1;
	if (gnutls_certificate_verify_peers2(s, &status) < 0 || status)
		return -1;
	return w->n_sans && !san_allowed(w, s) ? -1 : 0;
}

static void bind_cred(gnutls_certificate_credentials_t cred, const struct kp_webcfg *w)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_BOUND; i++) {
		if (bound[i].w && bound[i].cred == cred)
			return;
		if (!bound[i].w && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return;		/* verify() then finds no policy and refuses */
	bound[free_slot].cred = cred;
	bound[free_slot].w = w;
	gnutls_certificate_set_verify_function(cred, verify);
}

void kp_http_tls_connection(const struct kp_webcfg *w, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	gnutls_session_t s;
	void *cred = NULL;

	if (!w->tls || w->client_auth == KP_CLIENT_NONE)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return;
	s = ci->tls_session;
	if (w->client_auth == KP_CLIENT_REQUIRE_ANY || w->client_auth == KP_CLIENT_REQUIRE_VERIFY)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	if (gnutls_credentials_get(s, GNUTLS_CRD_CERTIFICATE, &cred) >= 0 && cred)
		bind_cred(cred, w);
}

void kp_http_tls_forget(const struct kp_webcfg *w)
{
	for (int i = 0; i < MAX_BOUND; i++)
		if (bound[i].w == w)
			bound[i].w = NULL;
}
