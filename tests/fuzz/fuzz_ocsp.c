/*
 * fuzz_ocsp.c: what ocsp.c reads from others about a certificate: the
 * OCSP responder's HTTP reply (status line, headers, body, DER) and the
 * OCSP response a TLS server staples, each parsed and judged during a
 * real handshake that tls_start() runs.
 *
 * The input: its first byte chooses the section (modulo the table
 * below), the rest is split at "=====\n" into
 *   1. the responder's reply, handed (then EOF) to the first connect()
 *      of the run by fuzz_common.c's stand-in; any other is refused;
 *   2. the DER response the peer server staples (client sections; none
 *      when empty).
 * The sections: servers verifying the client's certificate with the
 * configured responder ("OCSP = URL"), with OCSPnonce, with the
 * certificate's own responder (OCSPaia, OCSPrequire = no), and with
 * OCSPflag NOSIGS + NOVERIFY (so that mutated responses reach the
 * status and time checks); a verifying client with a responder after
 * the stapled answer, one with the stapled answer alone; a server that
 * staples its own status from its AIA responder.
 * The peer runs in a thread of its own on the other end of a socketpair,
 * with a certificate of a test CA of this file's (EC P-256, valid until
 * 2126; generated once with openssl(1), never used outside these
 * tests). The CA's key is here too: the self-test signs its responses
 * with it, and mkseeds.py reads these certificates and keys from this
 * file to make the seeds with "openssl ocsp".
 */
#include "common.h"
#include "client.h"
#include "tls.h"
#include "fuzz_common.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define PART_MARK	"=====\n"

static const char *const names[] = {
	"server", "server-nonce", "server-aia", "server-nosigs",
	"client", "client-staple", "staple-server"
};

static const char pem_ocsp_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBYjCCAQigAwIBAgICT0MwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMZnV6eiBP\n"
    "Q1NQIENBMCAXDTI2MTIwNzE0MzEwNVoYDzIxMjYxMTEzMTQzMTA1WjAXMRUwEwYD\n"
    "VQQDDAxmdXp6IE9DU1AgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASxL53c\n"
    "xeBUH1OHW1nkIOsNVxrdyHC5Z3ba5OyjI2wuj1QBzoAY5E62IMPb+785oVDrxavt\n"
    "ToeogElCQEE0Ui2Jo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIB\n"
    "BjAdBgNVHQ4EFgQUdh77KKDf3Jz+LUv8Ft7WEi9FtwAwCgYIKoZIzj0EAwIDSAAw\n"
    "RQIgJHB1uWHqZsmmCY8MfvRS8n4rgzO7AC8oaHY6oKdrorUCIQDDdkEvgQGKkatM\n"
    "SMnfrjI6mizQA96eBgXHRIl0d1zNYQ==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char pem_ocsp_ca_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgd5AiCNY9/9qJMsT/\n"
    "hDZOaTmz8/Vk2QGXFX0uWkFgQIWhRANCAASxL53cxeBUH1OHW1nkIOsNVxrdyHC5\n"
    "Z3ba5OyjI2wuj1QBzoAY5E62IMPb+785oVDrxavtToeogElCQEE0Ui2J\n"
    "-----END PRIVATE KEY-----\n"
    ;
/* localhost, serial 0x1001, both TLS usages, OCSP AIA http://127.0.0.1:9/aia */
static const char pem_ocsp_leaf[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB6zCCAZGgAwIBAgICEAEwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMZnV6eiBP\n"
    "Q1NQIENBMCAXDTI2MTIwNzE0MzEwNVoYDzIxMjYxMTEzMTQzMTA1WjAUMRIwEAYD\n"
    "VQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATEYX17y+FE\n"
    "y+8ocIEmas7wLkp+jsHT2qv1kC2A6ylrCgN8xglZTRDF5iosQZra9UrPI0W6vd34\n"
    "dwLxIIBr86tuo4HNMIHKMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMB0GA1Ud\n"
    "JQQWMBQGCCsGAQUFBwMBBggrBgEFBQcDAjAaBgNVHREEEzARgglsb2NhbGhvc3SH\n"
    "BH8AAAEwMgYIKwYBBQUHAQEEJjAkMCIGCCsGAQUFBzABhhZodHRwOi8vMTI3LjAu\n"
    "MC4xOjkvYWlhMB0GA1UdDgQWBBRE/PGFWIWdyq7vzdaoQiHnzeucITAfBgNVHSME\n"
    "GDAWgBR2HvsooN/cnP4tS/wW3tYSL0W3ADAKBggqhkjOPQQDAgNIADBFAiARa2Sh\n"
    "pLttK7ZWOMBamjNQ625f1P1JNEN4RwzgJ2YG+wIhAOE3eArbBovS3pLoLaCBmyc1\n"
    "CNbGLXXXIFbOguBlUfWY\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char pem_ocsp_leaf_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDPL0PhYNgcfG23lR\n"
    "ptiU9k03D77ymBqhgz6W+T9DxQChRANCAATEYX17y+FEy+8ocIEmas7wLkp+jsHT\n"
    "2qv1kC2A6ylrCgN8xglZTRDF5iosQZra9UrPI0W6vd34dwLxIIBr86tu\n"
    "-----END PRIVATE KEY-----\n"
    ;

/* TIMEOUTbusy: nothing waits for it, but a busy machine slows a peer */
static const char config[] =
    "foreground = yes\n"
    "debug = debug\n"
    "TIMEOUTbusy = 5\n"
    "TIMEOUTconnect = 1\n"
    "TIMEOUTocsp = 1\n"
    "[server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nCAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\n"
    "OCSP = http://127.0.0.1:9/ocsp\n"
    "[server-nonce]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nCAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\n"
    "OCSP = http://127.0.0.1:9/ocsp\nOCSPnonce = yes\n"
    "[server-aia]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nCAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\n"
    "OCSPaia = yes\nOCSPrequire = no\n"
    "[server-nosigs]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nCAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\n"
    "OCSP = http://127.0.0.1:9/ocsp\nOCSPflag = NOSIGS\nOCSPflag = NOVERIFY\n"
    "[client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "CAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\nsessionResume = no\n"
    "OCSP = http://127.0.0.1:9/ocsp\n"
    "[client-staple]\nclient = yes\naccept = 127.0.0.1:0\n"
    "connect = 127.0.0.1:9\nCAfile = %1$s/ocsp-ca.pem\nverifyChain = yes\n"
    "sessionResume = no\n"
    "[staple-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/ocsp-leaf.pem\nkey = %1$s/ocsp-leaf-key.pem\n";

static struct global *g;
static struct service *services[ARRAY_SIZE(names)];
static SSL_CTX *peer_client, *peer_server;
static X509 *ca, *leaf;
static EVP_PKEY *ca_key;

/* what the peer server staples in this run (read by the peer's thread) */
static const uint8_t *staple;
static size_t staple_len;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void self_test(void);

static int
staple_cb(SSL *ssl, void *arg)
{
	unsigned char *copy;

	(void)arg;
	if (staple_len == 0)
		return SSL_TLSEXT_ERR_NOACK;
	copy = OPENSSL_memdup(staple, staple_len);
	if (copy == NULL || !SSL_set_tlsext_status_ocsp_resp(ssl, copy,
	    (long)staple_len)) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *
peer_ctx(const SSL_METHOD *method)
{
	char *chain = fuzz_path("ocsp-leaf.pem");
	char *key = fuzz_path("ocsp-leaf-key.pem");
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		abort();
	free(chain);
	free(key);
	return ctx;
}

static void *
pem_read(const char *pem, int is_key)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	void *p;

	if (bio == NULL)
		abort();
	p = is_key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
	    (void *)PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (p == NULL)
		abort();
	BIO_free(bio);
	return p;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *text;
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_init();
	text = xasprintf("%s%s", pem_ocsp_leaf, pem_ocsp_ca);
	fuzz_write("ocsp-leaf.pem", text, strlen(text));
	free(text);
	fuzz_write("ocsp-leaf-key.pem", pem_ocsp_leaf_key,
	    strlen(pem_ocsp_leaf_key));
	fuzz_write("ocsp-ca.pem", pem_ocsp_ca, strlen(pem_ocsp_ca));
	g = fuzz_load_config(config);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		services[i] = fuzz_section(g, names[i]);
	peer_client = peer_ctx(TLS_client_method());
	peer_server = peer_ctx(TLS_server_method());
	SSL_CTX_set_tlsext_status_cb(peer_server, staple_cb);
	ca = pem_read(pem_ocsp_ca, 0);
	leaf = pem_read(pem_ocsp_leaf, 0);
	ca_key = pem_read(pem_ocsp_ca_key, 1);
	self_test();
	return 0;
}

/* the peer: its handshake, then whatever comes until EOF */
static void *
peer_main(void *arg)
{
	SSL *ssl = arg;
	char buf[256];

	if (SSL_do_handshake(ssl) == 1)
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			continue;
	shutdown(SSL_get_fd(ssl), SHUT_RDWR);
	ERR_clear_error();
	return NULL;
}

/* one input: the outcome of our handshake */
static enum client_error
run(const uint8_t *data, size_t size)
{
	static const uint8_t nothing[1];
	struct fuzz_part parts[2] = { { nothing, 0 }, { nothing, 0 } };
	struct service *svc;
	struct client c;
	enum client_error rc;
	pthread_t peer_thread;
	SSL *peer;
	int tp[2];

	if (size < 1)
		return CERR_RESET;
	svc = services[data[0] % ARRAY_SIZE(names)];
	(void)fuzz_split(data + 1, size - 1, PART_MARK, parts, 2);
	fuzz_peer_arm(parts[0].p, parts[0].len);
	staple = parts[1].p;
	staple_len = parts[1].len;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tp) < 0)
		abort();
	fcntl(tp[0], F_SETFL, O_NONBLOCK);
	peer = SSL_new(svc->client ? peer_server : peer_client);
	if (peer == NULL || !SSL_set_fd(peer, tp[1]))
		abort();
	if (svc->client)
		SSL_set_accept_state(peer);
	else
		SSL_set_connect_state(peer);
	if (strcmp(svc->name, "staple-server") == 0 &&
	    !SSL_set_tlsext_status_type(peer, TLSEXT_STATUSTYPE_ocsp))
		abort();
	if (pthread_create(&peer_thread, NULL, peer_main, peer) != 0)
		abort();

	memset(&c, 0, sizeof(c));
	c.magic = CLIENT_MAGIC;
	c.g = g;
	c.svc = svc;
	c.local_rfd = c.local_wfd = svc->client ? -1 : tp[0];
	c.remote_fd = svc->client ? tp[0] : -1;
	c.tls_rfd = c.tls_wfd = tp[0];
	rc = tls_start(&c);

	shutdown(tp[0], SHUT_RDWR);	/* the peer reads EOF and ends */
	if (pthread_join(peer_thread, NULL) != 0)
		abort();
	SSL_free(c.ssl);
	SSL_free(peer);
	close(tp[0]);
	close(tp[1]);
	fuzz_peer_reset();
	ERR_clear_error();
	return rc;
}

/* a fresh response of the test CA about the peer's certificate (DER) */
static unsigned char *
make_response(int status, int *len)
{
	OCSP_BASICRESP *basic = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, ca);
	ASN1_TIME *now = X509_gmtime_adj(NULL, -60);
	ASN1_TIME *next = X509_gmtime_adj(NULL, 3600);
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;

	if (basic == NULL || id == NULL || now == NULL || next == NULL ||
	    OCSP_basic_add1_status(basic, id, status,
	    OCSP_REVOKED_STATUS_KEYCOMPROMISE, now, now, next) == NULL ||
	    !OCSP_basic_sign(basic, ca, ca_key, EVP_sha256(), NULL, 0) ||
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    basic)) == NULL || (*len = i2d_OCSP_RESPONSE(resp, &der)) <= 0)
		abort();
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(basic);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	return der;
}

/* an input: section, responder's reply (HTTP around DER), staple */
static uint8_t *
make_input(size_t section, const unsigned char *reply, int reply_len,
    const unsigned char *staple_der, int staple_der_len, size_t *size)
{
	char *head = xasprintf("HTTP/1.0 200 OK\r\nContent-Type: "
	    "application/ocsp-response\r\nContent-Length: %d\r\n\r\n",
	    reply_len);
	size_t hlen = reply != NULL ? strlen(head) : 0;
	size_t rlen = reply != NULL ? (size_t)reply_len : 0;
	size_t slen = staple_der != NULL ? (size_t)staple_der_len : 0;
	uint8_t *in = xmalloc(1 + hlen + rlen + strlen(PART_MARK) + slen), *p;

	p = in;
	*p++ = (uint8_t)section;
	memcpy(p, head, hlen);
	p += hlen;
	if (rlen > 0)
		memcpy(p, reply, rlen);
	p += rlen;
	if (slen > 0) {
		memcpy(p, PART_MARK, strlen(PART_MARK));
		p += strlen(PART_MARK);
		memcpy(p, staple_der, slen);
		p += slen;
	}
	free(head);
	*size = (size_t)(p - in);
	return in;
}

static size_t
section(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(names[i], name) == 0)
			return i;
	abort();
}

/*
 * Answers with a known verdict, each checked by the handshake's outcome
 * and the log lines: should the harness stop reaching the judgement (a
 * section that no longer asks, a responder that is no longer the
 * stand-in, a staple that never arrives), it stops here instead of
 * fuzzing failures only.
 */
static void
self_test(void)
{
	unsigned char *good, *revoked;
	int good_len, revoked_len;
	const struct {
		const char	*section;
		int		 reply;		/* 1 good, 2 revoked */
		int		 stapled;	/* 1 good */
		int		 ok;
		const char	*lines[2];
	} cases[] = {
	    { "server", 1, 0, 1, { "OCSP: Certificate accepted",
	      "OCSP: Accepted (good)" } },
	    { "server", 2, 0, 0, { "OCSP: Certificate revoked",
	      "OCSP: Rejected (revoked)" } },
	    { "server-nonce", 1, 0, 0, { "OCSP: Invalid or unsupported nonce",
	      "OCSP: Rejected (OCSPrequire = yes)" } },
	    { "client", 1, 0, 1, { "OCSP: No OCSP stapling response received",
	      "OCSP: Accepted (good)" } },
	    { "client-staple", 0, 1, 1, { "OCSP: OCSP stapling response "
	      "received", "OCSP: Accepted (good)" } },
	    { "staple-server", 1, 0, 1, { "OCSP: Connecting the AIA responder",
	      "OCSP stapling: OCSP response sent back" } },
	};
	const unsigned char *reply;
	int reply_len;
	uint8_t *in;
	size_t i, j, size;
	char *log;
	int failed;

	good = make_response(V_OCSP_CERTSTATUS_GOOD, &good_len);
	revoked = make_response(V_OCSP_CERTSTATUS_REVOKED, &revoked_len);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		reply = cases[i].reply == 1 ? good :
		    cases[i].reply == 2 ? revoked : NULL;
		reply_len = cases[i].reply == 1 ? good_len : revoked_len;
		in = make_input(section(cases[i].section), reply, reply_len,
		    cases[i].stapled ? good : NULL, good_len, &size);
		fuzz_log_begin();
		failed = (run(in, size) == CERR_NONE) != cases[i].ok;
		log = fuzz_log_end();
		for (j = 0; j < ARRAY_SIZE(cases[i].lines); j++)
			if (strstr(log, cases[i].lines[j]) == NULL)
				failed = 1;
		if (failed) {
			fprintf(stderr, "fuzz: case %zu of the self-test ([%s]) "
			    "did not end as expected; its log:\n%s", i,
			    cases[i].section, log);
			abort();
		}
		free(log);
		free(in);
	}
	OPENSSL_free(good);
	OPENSSL_free(revoked);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}
