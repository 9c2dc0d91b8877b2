/* http_tls.h - TLS for the HTTP server as a web config asks: the MHD
 * options of a TLS daemon (its certificate and key, the client CAs, the
 * protocol versions) and, on each of its connections, the client
 * certificate policy, enforced in the handshake: a client that must show
 * a valid certificate and does not never reaches HTTP. */
#ifndef KPULSE_HTTP_TLS_H
#define KPULSE_HTTP_TLS_H

#include <stddef.h>
#include <microhttpd.h>
#include "outputs/webconfig.h"

#define KP_TLS_MAX_OPTIONS 6

/* Fill @o (at least KP_TLS_MAX_OPTIONS items) with @w's TLS options,
 * ended by MHD_OPTION_END; @prio receives the GnuTLS priority string they
 * point to (keep both until the daemon is started). */
void kp_http_tls_options(const struct kp_webcfg *w, struct MHD_OptionItem *o,
			 char *prio, size_t priolen);

/* A new connection of a daemon started with @w's options: ask for or
 * require a client certificate and check it, as @w says. @w must outlive
 * the daemon's connections; kp_http_tls_forget(@w) when it is stopped. */
void kp_http_tls_connection(const struct kp_webcfg *w, struct MHD_Connection *conn);
void kp_http_tls_forget(const struct kp_webcfg *w);

#endif
