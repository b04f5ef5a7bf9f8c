/*
 * tls.c: the TLS session of one connection.
 *
 * Owns creating the SSL object on the side that speaks TLS (the
 * accepted socket in server mode, the remote one in client mode), the
 * client's SNI, the handshake under TIMEOUTbusy, and stunnel's lines
 * about its outcome (new or reused session, protocol and cipher, peer
 * key). Must never move application data: that is transfer.c.
 */
#include "common.h"
#include "tls.h"
#include "io.h"
#include "log.h"
#include "sesscache.h"
#include "sslerr.h"
#include "verify.h"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

static void
info_callback(const SSL *ssl, int where, int ret)
{
	struct client *c = client_of(ssl);

	if ((where & SSL_CB_ALERT) == 0)
		return;
	/* it decides which side the closing line spares from a reset */
	if (strcmp(SSL_alert_type_string_long(ret), "fatal") == 0)
		c->fatal_alert = 1;
	log_msg(LOG_DEBUG, "TLS alert (%s): %s: %s",
	    (where & SSL_CB_READ) ? "read" : "write",
	    SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

/* the client's server name: sni =, else protocolHost or the first target */
static char *
client_sni(const struct service *svc)
{
	const char *src = NULL, *colon;
	struct in6_addr ip;
	char *name;

	if (svc->sni.n > 0)
		src = svc->sni.v[svc->sni.n - 1];
	else if (svc->protocol_host != NULL)
		src = svc->protocol_host;
	else if (svc->connect.n > 0)
		src = svc->connect.v[0];
	if (src == NULL || *src == '/' || (svc->sni.n > 0 && *src == '\0'))
		return NULL;
	colon = strrchr(src, ':');
	if (svc->sni.n > 0)
		name = xstrdup(src);
	else if (colon == NULL || colon == src)	/* a port alone */
		name = xstrdup("localhost");
	else
		name = xstrndup(src, (size_t)(colon - src));
	if (svc->sni.n == 0 && (inet_pton(AF_INET6, name, &ip) == 1 ||
	    strchr(name, ':') != NULL)) {
		free(name);
		return NULL;
	}
	return name;
}

static int
set_up(struct client *c)
{
	char *sni;

	c->ssl = SSL_new(c->svc->ctx);
	if (c->ssl == NULL) {
		sslerr_log("SSL_new");
		return -1;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_info_callback(c->ssl, info_callback);
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* several records per read() in bulk transfers */
	SSL_set_read_ahead(c->ssl, 1);
	if (!SSL_set_rfd(c->ssl, c->tls_rfd) ||
	    !SSL_set_wfd(c->ssl, c->tls_wfd)) {
		sslerr_log("SSL_set_fd");
		return -1;
	}
	verify_log_mode(c->svc);
	if (!c->svc->client) {
		SSL_set_accept_state(c->ssl);
		return 0;
	}
	SSL_set_connect_state(c->ssl);
	if (verify_chain_wanted(c->svc) &&
	    !SSL_set_tlsext_status_type(c->ssl, TLSEXT_STATUSTYPE_ocsp))
		sslerr_log("OCSP: SSL_set_tlsext_status_type");
	if (c->svc->session_resume)
		sesscache_offer(c->ssl);
	sni = client_sni(c->svc);
	if (sni != NULL) {
		log_msg(LOG_INFO, "SNI: sending servername: %s", sni);
		if (!SSL_set_tlsext_host_name(c->ssl, sni)) {
			sslerr_log("SSL_set_tlsext_host_name");
			free(sni);
			return -1;
		}
		free(sni);
	} else {
		log_msg(LOG_INFO, "SNI: extension disabled");
	}
	return 0;
}

static void
log_peer_key(SSL *ssl)
{
	EVP_PKEY *key = NULL;
	char group[64];
	size_t len;

	if (!SSL_get_peer_tmp_key(ssl, &key)) {
		log_msg(LOG_INFO, "No peer temporary key received");
		return;
	}
	if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_utf8_string_param(key,
	    "group", group, sizeof(group), &len)) {
		/* stunnel names the NIST curves as NIST does: "P-384" */
		const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));

		log_msg(LOG_INFO, "Peer temporary key: ECDH, %s, %d bits",
		    nist != NULL ? nist : group, EVP_PKEY_get_bits(key));
	} else {
		log_msg(LOG_INFO, "Peer temporary key: %s, %d bits",
		    EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
	}
	EVP_PKEY_free(key);
}

static void
log_outcome(struct client *c)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
	int bits = 0;

	if (c->psk_authenticated)
		log_msg(LOG_INFO, "TLS accepted: PSK");
	else
		log_msg(LOG_INFO, "TLS %s: %s", c->svc->client ? "connected" :
		    "accepted", SSL_session_reused(c->ssl) ?
		    "previous session reused" : "new session negotiated");
	SSL_CIPHER_get_bits(cipher, &bits);
	log_msg(LOG_INFO, "%s ciphersuite: %s (%d-bit encryption)",
	    SSL_get_version(c->ssl), SSL_CIPHER_get_name(cipher), bits);
	log_peer_key(c->ssl);
	/* OpenSSL 3 as Debian builds it has no compression methods */
	log_msg(LOG_DEBUG, "Compression: null, expansion: null");
}

/* the reason a handshake step failed, in stunnel's words */
static enum client_error
handshake_failed(struct client *c, int err)
{
	const char *what = c->svc->client ? "SSL_connect" : "SSL_accept";

	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		if (errno != 0)
			log_errno("%s", what);
		else
			log_msg(LOG_ERR, "%s: Peer suddenly disconnected",
			    what);
	} else {
		sslerr_log(what);
	}
	return c->fatal_alert ? CERR_TLS_ALERT : CERR_RESET;
}

/* Create the session and complete the handshake: CERR_NONE on success. */
enum client_error
tls_start(struct client *c)
{
	int rc, err;
	short events;

	CLIENT_CHECK(c);
	if (set_up(c) < 0)
		return CERR_RESET;
	for (;;) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_do_handshake(c->ssl);
		if (rc == 1)
			break;
		err = SSL_get_error(c->ssl, rc);
		if (err == SSL_ERROR_WANT_READ)
			events = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			events = POLLOUT;
		else
			return handshake_failed(c, err);
		if (io_wait(c, events == POLLIN ? c->tls_rfd : c->tls_wfd,
		    events, "ssl_start") < 0)
			return CERR_RESET;
	}
	log_outcome(c);
	return verify_session_outcome(c) < 0 ? CERR_RESET : CERR_NONE;
}
