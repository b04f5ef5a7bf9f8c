/*
 * ocsp.c: revocation checks against OCSP responders.
 *
 * Owns asking the responder of "OCSP = URL" (and, with "OCSPaia = yes",
 * those named in the certificate) about each certificate of the peer's
 * chain but the root, over plain HTTP with TIMEOUTocsp to connect and
 * TIMEOUTbusy to answer, checking the response (signature, OCSPflag,
 * OCSPnonce, validity) and deciding: good passes, revoked fails, no
 * conclusive answer fails unless "OCSPrequire = no". Must never accept a
 * certificate because the responder could not be reached, unless told so.
 */
#include "common.h"
#include "ocsp.h"
#include "log.h"
#include "network.h"
#include "sslerr.h"
#include "util.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum verdict { OCSP_GOOD, OCSP_REVOKED, OCSP_UNKNOWN, OCSP_NOT_ASKED };

/* the responder's first address that answers within TIMEOUTocsp */
static int
connect_responder(struct client *c, const char *host, const char *port)
{
	struct addrlist addrs = { 0 };
	char spec[512];
	size_t i;
	int fd = -1;

	snprintf(spec, sizeof(spec), "%s:%s", host, port);
	if (addr_resolve(spec, "localhost", 0, &addrs) < 0) {
		log_msg(LOG_ERR, "OCSP: Failed to resolve the OCSP responder "
		    "address");
		return -1;
	}
	for (i = 0; i < addrs.n && fd < 0; i++)
		fd = net_connect_to(c, &addrs.v[i], c->svc->timeout_ocsp);
	addrlist_free(&addrs);
	if (fd >= 0)
		log_msg(LOG_DEBUG, "OCSP: Connected %s", spec);
	return fd;
}

/*
 * Send REQ and read the answer on the connected FD (which this closes),
 * within TIMEOUTbusy: a responder that accepts and then stalls must not
 * hold the handshake forever.  NULL (logged) when there is no answer.
 */
static OCSP_RESPONSE *
exchange(struct client *c, int fd, const char *path, OCSP_REQUEST *req)
{
	long long deadline = now_ms() + 1000LL * c->svc->timeout_busy;
	OCSP_RESPONSE *resp = NULL;
	OSSL_HTTP_REQ_CTX *rctx = NULL;
	long long left;
	BIO *bio;
	int rc = 0, ready;

	bio = BIO_new_socket(fd, BIO_CLOSE);
	if (bio == NULL) {
		sslerr_log("OCSP: BIO_new_socket");
		close(fd);
		return NULL;
	}
	rctx = OCSP_sendreq_new(bio, path, req, -1);
	if (rctx == NULL)
		sslerr_log("OCSP: OCSP_sendreq_new");
	while (rctx != NULL && (rc = OCSP_sendreq_nbio(&resp, rctx)) == -1) {
		left = deadline - now_ms();
		ready = left > 0 ? net_wait(fd, BIO_should_write(bio) ?
		    POLLOUT : POLLIN, left > INT_MAX ? INT_MAX : (int)left,
		    "OCSP") : 0;
		if (ready == 0)
			log_msg(LOG_INFO, "OCSP: s_poll_wait: TIMEOUTbusy "
			    "exceeded");
		if (ready <= 0)
			break;
	}
	if (rc == 0)
		sslerr_log("OCSP: OCSP_sendreq_nbio");
	else if (rc == 1)
		log_msg(LOG_DEBUG, "OCSP: Response received");
	OSSL_HTTP_REQ_CTX_free(rctx);
	BIO_free_all(bio);
	return rc == 1 ? resp : NULL;
}

/* one request to one responder; NULL (logged) when there is no answer */
static OCSP_RESPONSE *
ask(struct client *c, const char *url, OCSP_REQUEST *req)
{
	char *host = NULL, *port = NULL, *path = NULL;
	OCSP_RESPONSE *resp = NULL;
	int ssl = 0, fd;

	if (!OCSP_parse_url(url, &host, &port, &path, &ssl)) {
		log_msg(LOG_ERR, "OCSP: Failed to parse the OCSP URL");
		goto out;
	}
	if (ssl) {
		log_msg(LOG_ERR, "OCSP: TLS not supported for OCSP - an "
		    "additional stunnel service needs to be defined");
		goto out;
	}
	fd = connect_responder(c, host, port);
	if (fd >= 0)
		resp = exchange(c, fd, path, req);
out:
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return resp;
}

/* "2026.12.07 04:36:30": an OCSP time as stunnel logs it; 0 if none */
static int
time_text(const ASN1_GENERALIZEDTIME *t, char *text, size_t size)
{
	struct tm tm;
	time_t when;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	when = timegm(&tm);
	localtime_r(&when, &tm);
	return strftime(text, size, "%Y.%m.%d %H:%M:%S", &tm) > 0;
}

static void
log_time(int level, const char *what, const ASN1_GENERALIZEDTIME *t)
{
	char text[32];

	if (time_text(t, text, sizeof(text)))
		log_msg(level, "OCSP: %s: %s", what, text);
}

/* what the certificate's status says, in stunnel's words */
static enum verdict
read_status(int status, const ASN1_GENERALIZEDTIME *revoked)
{
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		log_msg(LOG_NOTICE, "OCSP: Certificate accepted");
		return OCSP_GOOD;
	case V_OCSP_CERTSTATUS_REVOKED:
		log_msg(LOG_ERR, "OCSP: Certificate revoked");
		log_time(LOG_NOTICE, "Revoked at", revoked);
		return OCSP_REVOKED;
	default:
		log_msg(LOG_WARNING, "OCSP: Unknown verification status");
		return OCSP_UNKNOWN;
	}
}

/*
 * Is RESP a valid answer about ID, signed by someone the store trusts
 * (CHAIN: the peer's certificates, where the responder's may be), fresh
 * within five minutes of leeway, and answering REQ's nonce (no REQ for a
 * stapled answer, which has none)? Its verdict; unknown when unusable.
 */
static enum verdict
judge(struct client *c, OCSP_RESPONSE *resp, OCSP_REQUEST *req,
    OCSP_CERTID *id, STACK_OF(X509) *chain, X509_STORE *store)
{
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	OCSP_BASICRESP *basic;
	enum verdict v = OCSP_UNKNOWN;
	int status, reason, rc = OCSP_response_status(resp);

	if (rc != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		log_msg(LOG_ERR, "OCSP: OCSP responder error: %d: %s", rc,
		    OCSP_response_status_str(rc));
		return OCSP_UNKNOWN;
	}
	basic = OCSP_response_get1_basic(resp);
	if (basic == NULL) {
		log_msg(LOG_WARNING, "OCSP: OCSP_response_get1_basic");
		return OCSP_UNKNOWN;
	}
	log_msg(LOG_DEBUG, "OCSP: Validate the OCSP response");
	if (req != NULL && c->svc->ocsp_nonce &&
	    OCSP_check_nonce(req, basic) <= 0) {
		log_msg(LOG_ERR, "OCSP: Invalid or unsupported nonce");
	} else if (OCSP_basic_verify(basic, chain, store,
	    c->svc->ocsp_flags) <= 0) {
		sslerr_log("OCSP: OCSP_basic_verify");
	} else if (!OCSP_resp_find_status(basic, id, &status, &reason, &rev,
	    &thisupd, &nextupd)) {
		log_msg(LOG_WARNING, "OCSP: OCSP_resp_find_status");
	} else {
		log_msg(LOG_INFO, "OCSP: Status: %s",
		    OCSP_cert_status_str(status));
		log_time(LOG_INFO, "This update", thisupd);
		log_time(LOG_INFO, "Next update", nextupd);
		if (!OCSP_check_validity(thisupd, nextupd, 300, -1))
			sslerr_log("OCSP: OCSP_check_validity");
		else
			v = read_status(status, rev);
	}
	OCSP_BASICRESP_free(basic);
	return v;
}

static enum verdict
ask_and_judge(struct client *c, const char *url, OCSP_REQUEST *req,
    OCSP_CERTID *id, STACK_OF(X509) *chain, X509_STORE *store)
{
	OCSP_RESPONSE *resp = ask(c, url, req);
	enum verdict v = OCSP_UNKNOWN;

	if (resp != NULL) {
		v = judge(c, resp, req, id, chain, store);
		OCSP_RESPONSE_free(resp);
	}
	return v;
}

/*
 * The configured responder first, then (OCSPaia) the certificate's own.
 * OCSP_NOT_ASKED when none is configured, or the AIA names none.
 */
static enum verdict
query(struct client *c, STACK_OF(X509) *chain, X509_STORE *store,
    X509 *cert, X509 *issuer)
{
	STACK_OF(OPENSSL_STRING) *aia = NULL;
	OCSP_REQUEST *req;
	OCSP_CERTID *id;
	enum verdict v = OCSP_NOT_ASKED;
	const char *url;
	int i;

	if (c->svc->ocsp_url == NULL && !c->svc->ocsp_aia)
		return OCSP_NOT_ASKED;
	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(NULL, cert, issuer);
	if (req == NULL || id == NULL || !OCSP_request_add0_id(req,
	    OCSP_CERTID_dup(id))) {
		log_msg(LOG_ERR, "OCSP: Can't create an OCSP_CERTID object");
		v = OCSP_UNKNOWN;
		goto out;
	}
	if (c->svc->ocsp_nonce)
		OCSP_request_add1_nonce(req, NULL, -1);
	if (c->svc->ocsp_url != NULL) {
		log_msg(LOG_NOTICE, "OCSP: Connecting the configured responder "
		    "\"%s\"", c->svc->ocsp_url);
		v = ask_and_judge(c, c->svc->ocsp_url, req, id, chain, store);
	}
	if ((v == OCSP_UNKNOWN || v == OCSP_NOT_ASKED) && c->svc->ocsp_aia) {
		aia = X509_get1_ocsp(cert);
		if (aia == NULL)
			log_msg(LOG_INFO, "OCSP: No AIA responder URL");
		for (i = 0; i < sk_OPENSSL_STRING_num(aia) &&
		    (v == OCSP_UNKNOWN || v == OCSP_NOT_ASKED); i++) {
			url = sk_OPENSSL_STRING_value(aia, i);
			log_msg(LOG_NOTICE, "OCSP: Connecting the AIA responder "
			    "\"%s\"", url);
			v = ask_and_judge(c, url, req, id, chain, store);
		}
		X509_email_free(aia);
	}
out:
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return v;
}

/* the last word on a certificate: 1 to accept it, 0 to refuse */
static int
conclude(const struct client *c, enum verdict v)
{
	switch (v) {
	case OCSP_NOT_ASKED:
		return 1;
	case OCSP_GOOD:
		log_msg(LOG_NOTICE, "OCSP: Accepted (good)");
		return 1;
	case OCSP_REVOKED:
		log_msg(LOG_ERR, "OCSP: Rejected (revoked)");
		return 0;
	default:
		if (!c->svc->ocsp_require) {
			log_msg(LOG_NOTICE, "OCSP: Accepted (OCSPrequire = no)");
			return 1;
		}
		log_msg(LOG_ERR, "OCSP: Rejected (OCSPrequire = yes)");
		return 0;
	}
}

/*
 * Is CERT (at DEPTH of the chain being verified) acceptable to OCSP?
 * 1 if so (or when OCSP is not configured), 0 if it is to be rejected.
 * A client's server certificate waits for the stapled answer, which
 * OpenSSL hands to client_status() once the chain is verified.
 */
int
ocsp_check(struct client *c, X509_STORE_CTX *store, X509 *cert, int depth)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
	enum verdict v;

	CLIENT_CHECK(c);
	if (depth + 1 >= sk_X509_num(chain)) {
		log_msg(LOG_DEBUG, "OCSP: Ignoring the root certificate");
		return 1;
	}
	if (c->svc->client && depth == 0) {
		log_msg(LOG_DEBUG, "OCSP: Waiting for OCSP stapling response");
		return 1;
	}
	v = query(c, chain, X509_STORE_CTX_get0_store(store), cert,
	    sk_X509_value(chain, depth + 1));
	if (v == OCSP_REVOKED)	/* the peer hears certificate_revoked */
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
	return conclude(c, v);
}

/* ------------------------------------------------------------------ */
/* stapling: the server sends its own status, the client checks it   */

static X509 *
own_issuer(SSL *ssl, X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *store;
	X509 *issuer = NULL;
	int i;

	SSL_get0_chain_certs(ssl, &chain);
	for (i = 0; i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), cert) ==
		    X509_V_OK)
			return sk_X509_value(chain, i);
	store = X509_STORE_CTX_new();
	if (store != NULL && X509_STORE_CTX_init(store,
	    SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), cert, NULL) &&
	    X509_STORE_CTX_get1_issuer(&issuer, store, cert) == 1) {
		X509_STORE_CTX_free(store);
		X509_free(issuer);	/* the store keeps a reference */
		return issuer;
	}
	X509_STORE_CTX_free(store);
	return NULL;
}

/* server: fetch our certificate's status from its AIA responder */
static int
server_status(SSL *ssl, void *arg)
{
	struct client *c = client_of(ssl);
	X509 *cert = SSL_get_certificate(ssl), *issuer;
	STACK_OF(OPENSSL_STRING) *aia;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;
	int len = 0;

	(void)arg;
	if (c == NULL || cert == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	log_msg(LOG_DEBUG, "OCSP stapling: Server callback called");
	aia = X509_get1_ocsp(cert);
	issuer = own_issuer(ssl, cert);
	if (aia == NULL || issuer == NULL) {
		log_msg(LOG_INFO, aia == NULL ? "OCSP: No AIA responder URL" :
		    "OCSP: The root CA certificate was not found");
		goto out;
	}
	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(NULL, cert, issuer);
	if (req == NULL || id == NULL ||
	    !OCSP_request_add0_id(req, OCSP_CERTID_dup(id)))
		goto out;
	log_msg(LOG_NOTICE, "OCSP: Connecting the AIA responder \"%s\"",
	    sk_OPENSSL_STRING_value(aia, 0));
	resp = ask(c, sk_OPENSSL_STRING_value(aia, 0), req);
	if (resp != NULL && OCSP_response_status(resp) ==
	    OCSP_RESPONSE_STATUS_SUCCESSFUL)
		len = i2d_OCSP_RESPONSE(resp, &der);
out:
	X509_email_free(aia);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	if (len <= 0) {
		log_msg(LOG_INFO, "OCSP: No OCSP stapling response to send");
		return SSL_TLSEXT_ERR_NOACK;
	}
	SSL_set_tlsext_status_ocsp_resp(ssl, der, len);
	log_msg(LOG_DEBUG, "OCSP stapling: OCSP response sent back");
	return SSL_TLSEXT_ERR_OK;
}

/*
 * client: the server's stapled status of its certificate, or (missing or
 * unknown) the configured or AIA responder's, decides; nothing to ask
 * accepts, as in stunnel. 0 ends the handshake.
 */
static int
client_status(SSL *ssl, void *arg)
{
	struct client *c = client_of(ssl);
	STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
	X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	const unsigned char *p = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_CERTID *id = NULL;
	enum verdict v = OCSP_UNKNOWN;
	long len;

	(void)arg;
	/* asked for by tls.c only where the chain is verified */
	if (c == NULL)
		return 1;
	log_msg(LOG_DEBUG, "OCSP stapling: Client callback called");
	if (sk_X509_num(chain) < 2)
		return 1;	/* a trusted leaf: no issuer to ask about it */
	len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	if (len <= 0 || p == NULL) {
		log_msg(LOG_ERR, "OCSP: No OCSP stapling response received");
	} else {
		log_msg(LOG_INFO, "OCSP: OCSP stapling response received");
		resp = d2i_OCSP_RESPONSE(NULL, &p, len);
		id = OCSP_cert_to_id(NULL, sk_X509_value(chain, 0),
		    sk_X509_value(chain, 1));
		if (resp == NULL || id == NULL)
			log_msg(LOG_ERR, "OCSP: Failed to decode the stapled "
			    "response");
		else
			v = judge(c, resp, NULL, id, chain, store);
		OCSP_CERTID_free(id);
		OCSP_RESPONSE_free(resp);
	}
	if (v == OCSP_UNKNOWN)
		v = query(c, chain, store, sk_X509_value(chain, 0),
		    sk_X509_value(chain, 1));
	ERR_clear_error();
	return conclude(c, v);
}

/* servers staple when asked; verifying clients ask and check */
void
ocsp_stapling_attach(SSL_CTX *ctx, int client)
{
	if (client)
		SSL_CTX_set_tlsext_status_cb(ctx, client_status);
	else
		SSL_CTX_set_tlsext_status_cb(ctx, server_status);
	log_msg(LOG_DEBUG, "OCSP: %s OCSP stapling enabled",
	    client ? "Client" : "Server");
}
