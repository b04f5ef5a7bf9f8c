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

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum verdict { OCSP_GOOD, OCSP_REVOKED, OCSP_UNKNOWN };

static int
connect_responder(struct client *c, const char *host, const char *port)
{
	struct addrlist addrs = { 0 };
	struct timeval tv = { (time_t)c->svc->timeout_busy, 0 };
	char spec[512], text[ADDR_TEXT_MAX];
	size_t i;
	int fd = -1;

	snprintf(spec, sizeof(spec), "%s:%s", host, port);
	if (addr_resolve(spec, "localhost", 0, &addrs) < 0) {
		log_msg(LOG_ERR, "OCSP: Failed to resolve the OCSP responder "
		    "address");
		return -1;
	}
	for (i = 0; i < addrs.n && fd < 0; i++) {
		fd = socket(addrs.v[i].sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0);
		if (fd < 0) {
			log_errno("OCSP: socket");
			continue;
		}
		log_msg(LOG_INFO, "s_connect: connecting %s",
		    addr_text(&addrs.v[i], text, sizeof(text)));
		tv.tv_sec = (time_t)c->svc->timeout_ocsp;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&addrs.v[i].sa,
		    addrs.v[i].len) < 0) {
			log_errno("s_connect: connect %s", text);
			close(fd);
			fd = -1;
			continue;
		}
		log_msg(LOG_DEBUG, "OCSP: Connected %s", text);
		tv.tv_sec = (time_t)c->svc->timeout_busy;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	addrlist_free(&addrs);
	return fd;
}

/* one request to one responder; NULL (logged) when there is no answer */
static OCSP_RESPONSE *
ask(struct client *c, const char *url, OCSP_REQUEST *req)
{
	char *host = NULL, *port = NULL, *path = NULL;
	OCSP_RESPONSE *resp = NULL;
	BIO *bio;
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
	if (fd < 0)
		goto out;
	bio = BIO_new_socket(fd, BIO_CLOSE);
	resp = OCSP_sendreq_bio(bio, path, req);
	if (resp == NULL)
		sslerr_log("OCSP: OCSP_sendreq_bio");
	else
		log_msg(LOG_DEBUG, "OCSP: Response received");
	BIO_free_all(bio);
out:
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	return resp;
}

static enum verdict
judge(struct client *c, OCSP_RESPONSE *resp, OCSP_REQUEST *req,
    OCSP_CERTID *id, X509_STORE_CTX *store)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
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
	if (c->svc->ocsp_nonce && OCSP_check_nonce(req, basic) <= 0) {
		log_msg(LOG_ERR, "OCSP: Invalid or unsupported nonce");
	} else if (OCSP_basic_verify(basic, chain,
	    X509_STORE_CTX_get0_store(store), c->svc->ocsp_flags) <= 0) {
		sslerr_log("OCSP: OCSP_basic_verify");
	} else if (!OCSP_resp_find_status(basic, id, &status, &reason, &rev,
	    &thisupd, &nextupd)) {
		log_msg(LOG_WARNING, "OCSP: OCSP_resp_find_status");
	} else if (!OCSP_check_validity(thisupd, nextupd, 300, -1)) {
		sslerr_log("OCSP: OCSP_check_validity");
	} else {
		log_msg(LOG_INFO, "OCSP: Status: %s",
		    OCSP_cert_status_str(status));
		v = status == V_OCSP_CERTSTATUS_GOOD ? OCSP_GOOD :
		    status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED :
		    OCSP_UNKNOWN;
	}
	OCSP_BASICRESP_free(basic);
	return v;
}

/* the configured responder first, then (OCSPaia) the certificate's own */
static enum verdict
query(struct client *c, X509_STORE_CTX *store, X509 *cert, X509 *issuer)
{
	STACK_OF(OPENSSL_STRING) *aia = NULL;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
	OCSP_RESPONSE *resp;
	enum verdict v = OCSP_UNKNOWN;
	int i;

	if (req == NULL || id == NULL || !OCSP_request_add0_id(req,
	    OCSP_CERTID_dup(id))) {
		log_msg(LOG_ERR, "OCSP: Can't create an OCSP_CERTID object");
		goto out;
	}
	if (c->svc->ocsp_nonce)
		OCSP_request_add1_nonce(req, NULL, -1);
	if (c->svc->ocsp_url != NULL) {
		log_msg(LOG_NOTICE, "OCSP: Connecting the configured responder "
		    "\"%s\"", c->svc->ocsp_url);
		resp = ask(c, c->svc->ocsp_url, req);
		if (resp != NULL) {
			v = judge(c, resp, req, id, store);
			OCSP_RESPONSE_free(resp);
		}
	}
	if (v == OCSP_UNKNOWN && c->svc->ocsp_aia) {
		aia = X509_get1_ocsp(cert);
		if (aia == NULL)
			log_msg(LOG_INFO, "OCSP: No AIA responder URL");
		for (i = 0; v == OCSP_UNKNOWN && i < sk_OPENSSL_STRING_num(aia);
		    i++) {
			log_msg(LOG_NOTICE, "OCSP: Connecting the AIA responder "
			    "\"%s\"", sk_OPENSSL_STRING_value(aia, i));
			resp = ask(c, sk_OPENSSL_STRING_value(aia, i), req);
			if (resp != NULL) {
				v = judge(c, resp, req, id, store);
				OCSP_RESPONSE_free(resp);
			}
		}
		X509_email_free(aia);
	}
out:
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return v;
}

/*
 * Is CERT (at DEPTH of the chain being verified) acceptable to OCSP?
 * 1 if so (or when OCSP is not configured), 0 if it is to be rejected.
 */
int
ocsp_check(struct client *c, X509_STORE_CTX *store, X509 *cert, int depth)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(store);
	X509 *issuer;
	enum verdict v;

	if (c->svc->ocsp_url == NULL && !c->svc->ocsp_aia)
		return 1;
	if (depth + 1 >= sk_X509_num(chain)) {
		log_msg(LOG_DEBUG, "OCSP: Ignoring the root certificate");
		return 1;
	}
	issuer = sk_X509_value(chain, depth + 1);
	v = query(c, store, cert, issuer);
	if (v == OCSP_GOOD) {
		log_msg(LOG_NOTICE, "OCSP: Accepted (good)");
		return 1;
	}
	if (v == OCSP_REVOKED) {
		log_msg(LOG_ERR, "OCSP: Rejected (revoked)");
		return 0;
	}
	if (!c->svc->ocsp_require) {
		log_msg(LOG_NOTICE, "OCSP: Accepted (OCSPrequire = no)");
		return 1;
	}
	log_msg(LOG_ERR, "OCSP: Rejected (OCSPrequire = yes)");
	return 0;
}
