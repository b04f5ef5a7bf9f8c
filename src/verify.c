/*
 * verify.c: is the peer's certificate acceptable?
 *
 * Owns the meaning of verifyChain, verifyPeer, requireCert and the
 * legacy "verify = 0..4", the subject checks (checkHost, checkIP,
 * checkEmail: any one matching is enough) and stunnel's CERT log lines
 * for each certificate of the chain. Must never load trust files: ctx.c
 * does that while the configuration loads.
 */
#include "common.h"
#include "verify.h"
#include "client.h"
#include "log.h"
#include "ocsp.h"

#include <openssl/x509v3.h>

/* verify = 1, 2, 3 include the chain; 3 and 4 the local leaf */
int
verify_chain_wanted(const struct service *svc)
{
	return svc->verify_chain || (svc->verify >= 1 && svc->verify <= 3);
}

int
verify_peer_wanted(const struct service *svc)
{
	return svc->verify_peer || svc->verify >= 3;
}

/* verifyChain, verifyPeer and verify >= 2 set requireCert as they are read */
int
verify_cert_required(const struct service *svc)
{
	return svc->require_cert;
}

/* any of the configured subject checks matches the leaf */
static int
subject_ok(const struct service *svc, X509 *cert)
{
	char *peer = NULL;
	size_t i;

	if (svc->check_host.n + svc->check_email.n + svc->check_ip.n == 0) {
		log_msg(LOG_INFO, "CERT: No subject checks configured");
		return 1;
	}
	for (i = 0; i < svc->check_host.n; i++) {
		if (X509_check_host(cert, svc->check_host.v[i], 0, 0,
		    &peer) == 1) {
			log_msg(LOG_INFO, "CERT: Host name \"%s\" matched with "
			    "\"%s\"", svc->check_host.v[i], peer);
			OPENSSL_free(peer);
			return 1;
		}
	}
	for (i = 0; i < svc->check_email.n; i++) {
		if (X509_check_email(cert, svc->check_email.v[i], 0, 0) == 1) {
			log_msg(LOG_INFO, "CERT: Email address \"%s\" matched",
			    svc->check_email.v[i]);
			return 1;
		}
	}
	for (i = 0; i < svc->check_ip.n; i++) {
		if (X509_check_ip_asc(cert, svc->check_ip.v[i], 0) == 1) {
			log_msg(LOG_INFO, "CERT: IP address \"%s\" matched",
			    svc->check_ip.v[i]);
			return 1;
		}
	}
	log_msg(LOG_WARNING, "CERT: Subject checks failed");
	return 0;
}

/* verifyPeer: the leaf itself must be among the trusted certificates */
static int
locally_installed(X509_STORE_CTX *store_ctx, X509 *cert)
{
	X509_OBJECT *obj = X509_STORE_CTX_get_obj_by_subject(store_ctx,
	    X509_LU_X509, X509_get_subject_name(cert));
	int found = obj != NULL &&
	    X509_cmp(X509_OBJECT_get0_X509(obj), cert) == 0;

	X509_OBJECT_free(obj);
	if (found)
		log_msg(LOG_INFO, "CERT: Locally installed certificate matched");
	else
		log_msg(LOG_WARNING, "CERT: Certificate not found in local "
		    "repository");
	return found;
}

/* "C=PL, O=Test, CN=localhost": the form stunnel logs and exports */
char *
verify_dn(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text, *copy;
	long len;

	if (bio == NULL)
		fatal("Out of memory");
	X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(bio, &text);
	copy = xstrndup(text, len > 0 ? (size_t)len : 0);
	BIO_free(bio);
	return copy;
}

/* the peer certificate's subject (or issuer), or NULL without one */
char *
verify_peer_dn(const SSL *ssl, int issuer)
{
	X509 *cert = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;

	if (cert == NULL)
		return NULL;
	return verify_dn(issuer ? X509_get_issuer_name(cert) :
	    X509_get_subject_name(cert));
}

static int
reject(int depth, const char *dn)
{
	log_msg(LOG_WARNING, "Rejected by CERT at depth=%d: %s", depth, dn);
	return 0;
}

/*
 * A failed pre-verification is forgiven only where verifyPeer stands
 * alone and the leaf's chain merely could not be built or trusted: the
 * leaf itself is then looked up among the trusted certificates. Every
 * other error (revoked, expired, a bad signature...) refuses, as in
 * stunnel.
 */
static int
preverify_forgiven(const struct service *svc, X509_STORE_CTX *store,
    int depth)
{
	int err = X509_STORE_CTX_get_error(store);
	const char *text = X509_verify_cert_error_string(err);

	if (!verify_chain_wanted(svc) && depth == 0 &&
	    (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
	    err == X509_V_ERR_CERT_UNTRUSTED)) {
		log_msg(LOG_INFO, "CERT: Pre-verification error ignored: %s",
		    text);
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}
	log_msg(LOG_WARNING, "CERT: Pre-verification error: %s%s",
	    err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ?
	    "certificate not found in local repository: " : "", text);
	return 0;
}

/* in stunnel's order: pre-verification, subject, local copy, OCSP */
static int
check_cert(struct client *c, int preverify, X509_STORE_CTX *store,
    int depth, const char *dn)
{
	const struct service *svc = c->svc;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (preverify)
		log_msg(LOG_DEBUG, "CERT: Pre-verification succeeded");
	else if (!preverify_forgiven(svc, store, depth))
		return reject(depth, dn);
	if (depth == 0 && !subject_ok(svc, cert))
		return reject(depth, dn);
	if (depth == 0 && verify_peer_wanted(svc) &&
	    !locally_installed(store, cert)) {
		/* the peer hears bad_certificate, as from stunnel */
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return reject(depth, dn);
	}
	if (!verify_chain_wanted(svc))
		log_msg(LOG_INFO, "OCSP: Certificate chain verification "
		    "disabled");
	else if (!ocsp_check(c, store, cert, depth)) {
		log_msg(LOG_WARNING, "Rejected by OCSP at depth=%d: %s",
		    depth, dn);
		return 0;
	}
	return 1;
}

/*
 * Whether a session's client passed the certificate checks travels with
 * the session itself, as its "ticket application data": OpenSSL seals
 * it inside tickets and keeps it in the DER form that the shared cache
 * and sessiond store, so a resumed session is judged as it was judged
 * when it was new. A session without a mark counts as "no". An
 * "open" session was made where nothing was required: stunnel calls it
 * authenticated, but it passes no check where a certificate is required.
 */
enum mark { MARK_NO, MARK_YES, MARK_OPEN };

static const char *const mark_text[] = { "auth=no", "auth=yes", "auth=open" };

static void
mark_session(SSL *ssl, enum mark mark)
{
	SSL_SESSION *sess = SSL_get_session(ssl);

	if (sess != NULL && !SSL_SESSION_set1_ticket_appdata(sess,
	    mark_text[mark], strlen(mark_text[mark])))
		log_msg(LOG_ERR, "Failed to mark the session (%s)",
		    mark_text[mark]);
}

static enum mark
session_mark(const SSL_SESSION *sess)
{
	void *data = NULL;
	size_t len = 0;
	int m;

	if (sess == NULL ||
	    !SSL_SESSION_get0_ticket_appdata((SSL_SESSION *)sess, &data, &len))
		return MARK_NO;
	for (m = MARK_YES; m <= MARK_OPEN; m++)
		if (len == strlen(mark_text[m]) &&
		    memcmp(data, mark_text[m], len) == 0)
			return (enum mark)m;
	return MARK_NO;
}

/*
 * server: a ticket is about to be sealed. A PSKsecrets key authenticates;
 * a service that checks no certificate at all leaves an open session.
 */
static int
generate_ticket_callback(SSL *ssl, void *arg)
{
	struct client *c = client_of(ssl);

	(void)arg;
	log_msg(LOG_DEBUG, "Generate session ticket callback");
	if (c == NULL)
		return 1;
	if (c->psk_authenticated)
		mark_session(ssl, MARK_YES);
	else if (!verify_cert_required(c->svc) &&
	    !verify_chain_wanted(c->svc) && !verify_peer_wanted(c->svc))
		mark_session(ssl, MARK_OPEN);
	return 1;
}

/* server: OpenSSL opened one of our tickets; say what it carried */
static SSL_TICKET_RETURN
decrypt_ticket_callback(SSL *ssl, SSL_SESSION *sess,
    const unsigned char *keyname, size_t keyname_len,
    SSL_TICKET_STATUS status, void *arg)
{
	(void)ssl;
	(void)keyname;
	(void)keyname_len;
	(void)arg;
	log_msg(LOG_DEBUG, "Decrypt session ticket callback");
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		log_msg(LOG_INFO, "Decrypted ticket for an authenticated "
		    "session: %s", session_mark(sess) != MARK_NO ? "yes" :
		    "no");
		return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE :
		    SSL_TICKET_RETURN_USE_RENEW;
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
}

static int
verify_callback(int preverify, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct client *c = client_of(ssl);
	int depth = X509_STORE_CTX_get_error_depth(store);
	char *dn;
	int ok;

	if (c == NULL)		/* ctx.c's warm-up handshake */
		return preverify;
	if (!verify_chain_wanted(c->svc) && !verify_peer_wanted(c->svc)) {
		/* requireCert or verify = 0: any certificate will do */
		log_msg(LOG_INFO, "CERT: Certificate verification disabled");
		if (depth == 0)
			mark_session(ssl, MARK_YES);
		return 1;
	}
	dn = verify_dn(X509_get_subject_name(X509_STORE_CTX_get_current_cert(
	    store)));
	log_msg(LOG_DEBUG, "Verification started at depth=%d: %s", depth, dn);
	ok = check_cert(c, preverify, store, depth, dn);
	if (!ok && c->svc->redirect.n > 0 && !c->svc->client) {
		/* not refused: sent elsewhere once the handshake is done */
		c->redirect = 1;
		mark_session(ssl, MARK_NO);
		X509_STORE_CTX_set_error(store, X509_V_OK);
		free(dn);
		return 1;
	}
	if (ok) {
		log_msg(depth == 0 ? LOG_NOTICE : LOG_INFO,
		    "Certificate accepted at depth=%d: %s", depth, dn);
		if (depth == 0 && !c->redirect)
			mark_session(ssl, MARK_YES);
	}
	free(dn);
	return ok;
}

/* client: the server asked for a certificate; say whom it trusts */
static int
client_ca_callback(SSL *ssl, void *arg)
{
	const STACK_OF(X509_NAME) *cas = SSL_get_client_CA_list(ssl);
	char *dn;
	int i;

	(void)arg;
	if (cas == NULL) {
		log_msg(LOG_INFO, "Received trusted client CA list not found");
		return 1;
	}
	if (sk_X509_NAME_num(cas) == 0)
		log_msg(LOG_INFO, "Received trusted client CA list is empty");
	for (i = 0; i < sk_X509_NAME_num(cas); i++) {
		dn = verify_dn(sk_X509_NAME_value(cas, i));
		log_msg(LOG_INFO, "Received trusted client CA: %s", dn);
		free(dn);
	}
	return 1;
}

void
verify_set_mode(const struct service *svc, SSL_CTX *ctx)
{
	int mode = SSL_VERIFY_NONE;

	if (verify_cert_required(svc) || svc->verify >= 0 ||
	    verify_chain_wanted(svc) || verify_peer_wanted(svc))
		mode = SSL_VERIFY_PEER;
	/* with "redirect", a client without a certificate is redirected */
	if (!svc->client && verify_cert_required(svc) && svc->redirect.n == 0)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (svc->client && !verify_chain_wanted(svc) &&
	    !verify_peer_wanted(svc))
		mode = SSL_VERIFY_NONE;
	SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL :
	    verify_callback);
	if (svc->client)
		SSL_CTX_set_cert_cb(ctx, client_ca_callback, NULL);
	else
		SSL_CTX_set_session_ticket_cb(ctx, generate_ticket_callback,
		    decrypt_ticket_callback, NULL);
}

/*
 * After the handshake, new or resumed alike: a client whose session is
 * not marked authenticated goes to "redirect". Without "redirect" a
 * resumed session that was never authenticated (made before a reload
 * turned verification on, or by another server sharing the ticket keys
 * or the cache) is refused: it would skip the checks. 0 or -1.
 */
int
verify_session_outcome(struct client *c)
{
	const struct service *svc;
	int authenticated;

	CLIENT_CHECK(c);
	svc = c->svc;
	authenticated = c->psk_authenticated ||
	    session_mark(SSL_get_session(c->ssl)) == MARK_YES;
	if (svc->client || authenticated)
		return 0;
	if (svc->redirect.n > 0) {
		c->redirect = 1;
		return 0;
	}
	if (verify_cert_required(svc) && SSL_session_reused(c->ssl)) {
		log_msg(LOG_ERR, "Resumed session was not authenticated: "
		    "refused");
		return -1;
	}
	return 0;
}

/* the per-connection lines stunnel writes before a handshake */
void
verify_log_mode(const struct service *svc)
{
	log_msg(LOG_INFO, "Peer certificate %srequired",
	    verify_cert_required(svc) ? "" : "not ");
	if (!verify_chain_wanted(svc) && !verify_peer_wanted(svc))
		log_msg(LOG_INFO, "CERT: Certificate verification disabled");
}
