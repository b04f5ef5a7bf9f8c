/*
 * ctx.c: the TLS context of each service.
 *
 * Owns building a service's SSL_CTX from its options before anything is
 * bound or forked: protocol versions, ciphers, options, identity, trust
 * and the warnings stunnel gives about weak set-ups, so that a broken
 * certificate stops the configuration instead of the first connection.
 * Must never handle a connection: that is tls.c.
 */
#include "common.h"
#include "ctx.h"
#include "engine.h"
#include "keys.h"
#include "ocsp.h"
#include "client.h"
#include "log.h"
#include "sslerr.h"
#include "verify.h"
#include "sesscache.h"
#include "util.h"

#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <unistd.h>

/* stunnel's floor, applied only where OpenSSL's own default is lower */
#define DEFAULT_SECURITY_LEVEL	2

static const char *
section_name(const struct service *svc)
{
	return svc->name != NULL ? svc->name : "stunnel";
}

static int
verification_wanted(const struct service *svc)
{
	return verify_chain_wanted(svc) || verify_peer_wanted(svc);
}

static void
set_security_level(const struct service *svc, SSL_CTX *ctx)
{
	int current = SSL_CTX_get_security_level(ctx);

	if (svc->security_level != DEFAULT_SECURITY_LEVEL) {
		SSL_CTX_set_security_level(ctx, (int)svc->security_level);
		log_msg(LOG_INFO, "User-specified security level set: %u",
		    svc->security_level);
	} else if (current < DEFAULT_SECURITY_LEVEL) {
		SSL_CTX_set_security_level(ctx, DEFAULT_SECURITY_LEVEL);
		log_msg(LOG_INFO, "stunnel default security level set: %d",
		    DEFAULT_SECURITY_LEVEL);
	} else {
		log_msg(LOG_INFO, "OpenSSL security level is used: %d",
		    current);
	}
}

static int
set_protocol(const struct service *svc, SSL_CTX *ctx)
{
	unsigned long before = (unsigned long)SSL_CTX_get_options(ctx);
	unsigned long after;

	if (svc->versions.min != 0 &&
	    !SSL_CTX_set_min_proto_version(ctx, svc->versions.min)) {
		log_msg(LOG_ERR, "Failed to set the minimum protocol version "
		    "0x%X", (unsigned)svc->versions.min);
		return -1;
	}
	if (svc->versions.max != 0 &&
	    !SSL_CTX_set_max_proto_version(ctx, svc->versions.max)) {
		log_msg(LOG_ERR, "Failed to set the maximum protocol version "
		    "0x%X", (unsigned)svc->versions.max);
		return -1;
	}
	if (!SSL_CTX_set_cipher_list(ctx, svc->ciphers)) {
		sslerr_log("SSL_CTX_set_cipher_list");
		return -1;
	}
	log_msg(LOG_DEBUG, "Ciphers: %s", svc->ciphers);
	if (!SSL_CTX_set_ciphersuites(ctx, svc->ciphersuites)) {
		sslerr_log("SSL_CTX_set_ciphersuites");
		return -1;
	}
	log_msg(LOG_DEBUG, "TLSv1.3 ciphersuites: %s", svc->ciphersuites);
	SSL_CTX_set_options(ctx, svc->options.set);
	SSL_CTX_clear_options(ctx, svc->options.clear);
	if (!svc->renegotiation)
		SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	after = (unsigned long)SSL_CTX_get_options(ctx);
	log_msg(LOG_DEBUG, "TLS options: 0x%lX (+0x%lX, -0x%lX)", after,
	    after & ~before, before & ~after);
	return 0;
}

/* a key name both instances sharing the secrets compute alike */
static void
ticket_key_name(const struct service *svc, unsigned char name[16])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	unsigned char both[64];

	memcpy(both, svc->ticket_key.data, svc->ticket_key.len);
	memcpy(both + svc->ticket_key.len, svc->ticket_mac.data,
	    svc->ticket_mac.len);
	SHA256(both, svc->ticket_key.len + svc->ticket_mac.len, digest);
	OPENSSL_cleanse(both, sizeof(both));
	memcpy(name, digest, 16);
}

/*
 * ticketKeySecret/ticketMacSecret: tickets encrypted with configured
 * keys, so that they survive restarts and work across instances.
 */
static int
ticket_callback(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct client *c = client_of(ssl);
	const struct service *svc;
	unsigned char ours[16];
	OSSL_PARAM params[3];
	const EVP_CIPHER *cipher;

	if (c == NULL)
		return 0;
	svc = c->svc;
	cipher = svc->ticket_key.len == 32 ? EVP_aes_256_cbc() :
	    EVP_aes_128_cbc();
	ticket_key_name(svc, ours);
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)svc->ticket_mac.data, svc->ticket_mac.len);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (enc) {
		memcpy(name, ours, 16);
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) {
			log_msg(LOG_ERR, "RAND_bytes failed");
			return -1;
		}
		if (!EVP_EncryptInit_ex(cctx, cipher, NULL,
		    svc->ticket_key.data, iv)) {
			log_msg(LOG_ERR, "EVP_EncryptInit_ex failed");
			return -1;
		}
	} else {
		if (memcmp(name, ours, 16) != 0)
			return 0;	/* not one of ours: full handshake */
		if (!EVP_DecryptInit_ex(cctx, cipher, NULL,
		    svc->ticket_key.data, iv)) {
			log_msg(LOG_ERR, "EVP_DecryptInit_ex failed");
			return -1;
		}
	}
	if (!EVP_MAC_CTX_set_params(hctx, params)) {
		log_msg(LOG_ERR, "HMAC_Init_ex failed");
		return -1;
	}
	return 1;
}

/*
 * Resumption across children: tickets work by themselves (their keys
 * are made here, in the parent); session ids need the shared cache.
 */
static int
set_sessions(struct service *svc, SSL_CTX *ctx)
{
	log_msg(LOG_INFO, "Session resumption %s",
	    svc->session_resume ? "enabled" : "disabled");
	if (!svc->session_resume) {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		return 0;
	}
	SSL_CTX_set_timeout(ctx, (long)svc->session_cache_timeout);
	if (svc->ticket_key.len > 0 && svc->client) {
		log_msg(LOG_NOTICE, "ticketKeySecret is ignored in the client "
		    "mode");
		log_msg(LOG_NOTICE, "ticketMacSecret is ignored in the client "
		    "mode");
	} else if (svc->ticket_key.len > 0) {
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback);
	}
	svc->cache = sesscache_new(svc);
	if (svc->cache == NULL)
		return -1;
	sesscache_attach(svc->cache, ctx, svc->client);
	return 0;
}

static void
log_trusted(const struct service *svc, X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	X509 *cert;
	char *dn;
	int i;

	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (cert == NULL)
			continue;
		dn = verify_dn(X509_get_subject_name(cert));
		log_msg(LOG_INFO, "Configured trusted %s CA: %s",
		    svc->client ? "server" : "client", dn);
		free(dn);
	}
}

static int
load_crls(const struct service *svc, X509_STORE *store)
{
	X509_LOOKUP *lookup;

	if (svc->crl_file != NULL) {
		lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
		if (lookup == NULL || !X509_load_crl_file(lookup, svc->crl_file,
		    X509_FILETYPE_PEM)) {
			log_msg(LOG_ERR, "Failed to load %s revocation lookup "
			    "file", svc->crl_file);
			sslerr_log("X509_load_crl_file");
			return -1;
		}
		log_msg(LOG_DEBUG, "Loaded %s revocation lookup file",
		    svc->crl_file);
	}
	if (svc->crl_path != NULL) {
		lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
		if (lookup == NULL || !X509_LOOKUP_add_dir(lookup,
		    svc->crl_path, X509_FILETYPE_PEM)) {
			log_msg(LOG_ERR, "Failed to add %s revocation lookup "
			    "directory", svc->crl_path);
			sslerr_log("X509_LOOKUP_add_dir");
			return -1;
		}
		log_msg(LOG_DEBUG, "Added %s revocation lookup directory",
		    svc->crl_path);
	}
	/* as in stunnel, the peer's own certificate only: an intermediate
	 * CA without a CRL of its own does not refuse the chain */
	if (svc->crl_file != NULL || svc->crl_path != NULL)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

/* "CAengine = ID": trusted CAs kept by the service's engine */
static void
load_ca_engine(const struct service *svc, SSL_CTX *ctx)
{
	X509 *ca;
	size_t i;

	for (i = 0; i < svc->ca_engine.n; i++) {
		ca = engine_load_cert(svc->engine, svc->ca_engine.v[i]);
		if (ca == NULL || !X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx),
		    ca)) {
			log_msg(LOG_ERR, "CAengine failed to retrieve \"%s\"",
			    svc->ca_engine.v[i]);
		} else if (!svc->client) {
			/* named in the server's certificate request */
			SSL_CTX_add_client_CA(ctx, ca);
		}
		X509_free(ca);
		ERR_clear_error();
	}
}

static int
load_trust(const struct service *svc, SSL_CTX *ctx)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int found;

	if ((svc->ca_file != NULL || svc->ca_path != NULL) &&
	    !SSL_CTX_load_verify_locations(ctx, svc->ca_file, svc->ca_path))
		ERR_clear_error();
	load_ca_engine(svc, ctx);
	if (svc->ca_store != NULL && !SSL_CTX_load_verify_store(ctx,
	    svc->ca_store)) {
		sslerr_log("SSL_CTX_load_verify_store");
		return -1;
	}
	/* directories and stores are searched per handshake, not preloaded */
	found = sk_X509_OBJECT_num(X509_STORE_get0_objects(store)) > 0 ||
	    (svc->ca_path != NULL && access(svc->ca_path, R_OK | X_OK) == 0) ||
	    svc->ca_store != NULL;
	if (!found) {
		if (verification_wanted(svc)) {
			log_msg(LOG_ERR, "No trusted certificates found");
			return -1;
		}
		log_msg(LOG_INFO, "No trusted certificates found");
	} else {
		log_trusted(svc, store);
	}
	return load_crls(svc, store);
}

/* the first cipher of CTX that needs DH parameters, or NULL */
static const char *
dh_cipher(const SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *ciphers = SSL_CTX_get_ciphers(ctx);
	const SSL_CIPHER *c;
	int i, kx;

	for (i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
		c = sk_SSL_CIPHER_value(ciphers, i);
		kx = SSL_CIPHER_get_kx_nid(c);
		if (kx == NID_kx_dhe || kx == NID_kx_dhe_psk)
			return SSL_CIPHER_get_name(c);
	}
	return NULL;
}

/* "openssl dhparam 2048 >> stunnel.pem": parameters in the cert file */
static int
load_dh(const char *path, SSL_CTX *ctx)
{
	EVP_PKEY *dh = NULL;
	BIO *bio = BIO_new_file(path, "r");
	int bits;

	if (bio != NULL)
		dh = PEM_read_bio_Parameters(bio, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (dh == NULL ||
	    !(EVP_PKEY_is_a(dh, "DH") || EVP_PKEY_is_a(dh, "DHX"))) {
		EVP_PKEY_free(dh);
		log_msg(LOG_DEBUG, "Could not load DH parameters from %s", path);
		return -1;
	}
	log_msg(LOG_DEBUG, "Using DH parameters from %s", path);
	bits = EVP_PKEY_get_bits(dh);
	if (!SSL_CTX_set0_tmp_dh_pkey(ctx, dh)) {
		EVP_PKEY_free(dh);
		sslerr_log("SSL_CTX_set0_tmp_dh_pkey");
		return -1;
	}
	log_msg(LOG_INFO, "%d-bit DH parameters loaded", bits);
	return 0;
}

/*
 * stunnel's "dynamic" parameters are a 2048-bit group of its own; ours
 * is the well-known RFC 7919 group of that size (the same size to the
 * peer, and a prime anyone can check)
 */
static int
set_dynamic_dh(SSL_CTX *ctx)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *dh = NULL;

	if (pctx == NULL || EVP_PKEY_paramgen_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_dh_nid(pctx, NID_ffdhe2048) <= 0 ||
	    EVP_PKEY_paramgen(pctx, &dh) <= 0 ||
	    !SSL_CTX_set0_tmp_dh_pkey(ctx, dh)) {
		EVP_PKEY_free(dh);
		EVP_PKEY_CTX_free(pctx);
		ERR_clear_error();
		log_msg(LOG_ERR, "Failed to get default DH parameters");
		return -1;
	}
	EVP_PKEY_CTX_free(pctx);
	log_msg(LOG_INFO, "Using dynamic DH parameters");
	return 0;
}

/*
 * DH for a server whose cipher list has a DHE cipher (ciphers = PSK
 * has DHE-PSK ones), as stunnel decides it; then the ECDH groups
 */
static int
set_dh_curves(const struct service *svc, SSL_CTX *ctx)
{
	const char *cipher = svc->client ? NULL : dh_cipher(ctx);

	if (svc->client) {
		log_msg(LOG_INFO, "DH initialization skipped: client section");
	} else if (cipher == NULL) {
		log_msg(LOG_INFO,
		    "DH initialization skipped: no DH ciphersuites");
	} else {
		log_msg(LOG_INFO, "DH initialization needed for %s", cipher);
		log_msg(LOG_DEBUG, "DH initialization");
		if (svc->cert == NULL)
			log_msg(LOG_DEBUG, "No certificate available to load "
			    "DH parameters");
		if ((svc->cert == NULL || load_dh(svc->cert, ctx) < 0) &&
		    set_dynamic_dh(ctx) < 0)
			return -1;
	}
	log_msg(LOG_DEBUG, "ECDH initialization");
	if (!SSL_CTX_set1_groups_list(ctx, svc->curves)) {
		ERR_clear_error();
		log_msg(LOG_ERR, "Invalid groups list in 'curves'");
		return -1;
	}
	log_msg(LOG_DEBUG, "ECDH initialized with curves %s", svc->curves);
	return 0;
}

/* config = Command:value, handed to SSL_CONF_cmd */
static int
run_config(const struct service *svc, SSL_CTX *ctx)
{
	SSL_CONF_CTX *cctx;
	char *cmd, *param;
	size_t i;
	int rc = 0, r;

	if (svc->config.n == 0)
		return 0;
	cctx = SSL_CONF_CTX_new();
	if (cctx == NULL) {
		sslerr_log("SSL_CONF_CTX_new");
		return -1;
	}
	SSL_CONF_CTX_set_flags(cctx, SSL_CONF_FLAG_FILE |
	    SSL_CONF_FLAG_CERTIFICATE | (svc->client ? SSL_CONF_FLAG_CLIENT :
	    SSL_CONF_FLAG_SERVER));
	SSL_CONF_CTX_set_ssl_ctx(cctx, ctx);
	for (i = 0; i < svc->config.n && rc == 0; i++) {
		cmd = xstrdup(svc->config.v[i]);
		param = strchr(cmd, ':');
		if (param != NULL)
			*param++ = '\0';
		r = SSL_CONF_cmd(cctx, cmd, param);
		if (r == -2) {
			log_msg(LOG_ERR, "OpenSSL config command \"%s\" was not "
			    "recognised", cmd);
			rc = -1;
		} else if (r == -3) {
			log_msg(LOG_ERR, "OpenSSL config command \"%s\" requires "
			    "a parameter", cmd);
			rc = -1;
		} else if (r <= 0) {
			sslerr_log("SSL_CONF_cmd");
			rc = -1;
		} else {
			log_msg(LOG_DEBUG, "OpenSSL config \"%s\" set to \"%s\"",
			    cmd, param != NULL ? param : "");
		}
		free(cmd);
	}
	if (rc == 0 && !SSL_CONF_CTX_finish(cctx)) {
		sslerr_log("SSL_CONF_CTX_finish");
		rc = -1;
	}
	SSL_CONF_CTX_free(cctx);
	return rc;
}

static void
warn_weak(const struct service *svc)
{
	if (!svc->client)
		return;
	if (!verification_wanted(svc)) {
		log_msg(LOG_WARNING, "Service [%s] needs authentication to "
		    "prevent MITM attacks", section_name(svc));
	} else if (svc->verify_chain && svc->check_host.n == 0 &&
	    svc->check_ip.n == 0 && svc->check_email.n == 0) {
		log_msg(LOG_WARNING, "Service [%s] uses \"verifyChain\" without "
		    "subject checks", section_name(svc));
		log_msg(LOG_WARNING, "Use \"checkHost\" or \"checkIP\" to "
		    "restrict trusted certificates");
	}
}

/*
 * Sessions belong to the service, by name, as in stunnel: a session is
 * resumed only by a service of the same name, which may be another
 * instance's (shared ticket keys, a shared sessiond), even stunnel's.
 */
static void
set_session_context(const struct service *svc, SSL_CTX *ctx)
{
	const char *name = svc->name != NULL ? svc->name : "stunnel";
	size_t len = strlen(name);

	if (len > SSL_MAX_SID_CTX_LENGTH)
		len = SSL_MAX_SID_CTX_LENGTH;
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)name,
	    (unsigned)len);
}

/* the client's first flight, as it waits in SERVER's read side */
static void
keep_hello(struct service *svc, SSL *server)
{
	char *p;
	int n = BIO_nread0(SSL_get_rbio(server), &p);

	if (n <= 0)
		return;
	svc->hello = xmalloc((size_t)n);
	memcpy(svc->hello, p, (size_t)n);
	svc->hello_len = (size_t)n;
}

/*
 * In a process that will serve a connection of SVC, before it comes:
 * its first flight once more (a server answers warm_up()'s ClientHello,
 * up to waiting for the client's Finished; a client writes its
 * ClientHello), so that the code and the pages a handshake needs are at
 * hand. Its session, its log and its errors are nobody's.
 */
void
ctx_rehearse(const struct service *svc)
{
	SSL *s;
	BIO *in, *out;

	if (svc->ctx == NULL || (!svc->client && svc->hello == NULL) ||
	    (s = SSL_new(svc->ctx)) == NULL)
		return;
	in = svc->client ? BIO_new(BIO_s_mem()) :
	    BIO_new_mem_buf(svc->hello, (int)svc->hello_len);
	out = BIO_new(BIO_s_mem());
	if (in != NULL && out != NULL) {
		BIO_set_mem_eof_return(in, -1);
		SSL_set_bio(s, in, out);
		in = out = NULL;
		if (svc->client)
			SSL_set_connect_state(s);
		else
			SSL_set_accept_state(s);
		SSL_do_handshake(s);
	}
	BIO_free(in);
	BIO_free(out);
	SSL_free(s);
	ERR_clear_error();
}

/*
 * One handshake in memory with the new context, in the parent: OpenSSL 3
 * fetches and caches its algorithms on first use, and doing that once
 * here means every forked child inherits the caches instead of building
 * (and dirtying) them for each connection.  Its session is nobody's: the
 * session caches (and a sessiond) are off meanwhile.  Its ClientHello
 * is kept for ctx_rehearse().
 */
static void
warm_up(struct service *svc)
{
	SSL_CTX *server_ctx = svc->ctx;
	SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
	SSL *server = NULL, *client = NULL;
	BIO *sbio = NULL, *cbio = NULL;
	int i, done_s = 0, done_c = 0;
	long cache_mode = SSL_CTX_get_session_cache_mode(server_ctx);

	SSL_CTX_set_session_cache_mode(server_ctx, SSL_SESS_CACHE_OFF);

	if (client_ctx == NULL || !BIO_new_bio_pair(&sbio, 0, &cbio, 0))
		goto out;
	server = SSL_new(server_ctx);
	client = SSL_new(client_ctx);
	if (server == NULL || client == NULL)
		goto out;
	SSL_set_bio(server, sbio, sbio);
	SSL_set_bio(client, cbio, cbio);
	sbio = cbio = NULL;
	SSL_set_accept_state(server);
	SSL_set_connect_state(client);
	for (i = 0; i < 16 && !(done_s && done_c); i++) {
		done_c = SSL_do_handshake(client) == 1;
		if (i == 0)
			keep_hello(svc, server);
		done_s = SSL_do_handshake(server) == 1;
	}
	/* as if closed cleanly: freeing it must not "remove" the session */
	if (server != NULL)
		SSL_set_shutdown(server, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
out:
	SSL_free(server);
	SSL_free(client);
	BIO_free(sbio);
	BIO_free(cbio);
	SSL_CTX_free(client_ctx);
	SSL_CTX_set_session_cache_mode(server_ctx, cache_mode);
	ERR_clear_error();
}

int
ctx_init(struct service *svc)
{
	SSL_CTX *ctx;

	log_msg(LOG_DEBUG, "Initializing context [%s]", section_name(svc));
	ctx = SSL_CTX_new(svc->client ? TLS_client_method() :
	    TLS_server_method());
	if (ctx == NULL) {
		sslerr_log("SSL_CTX_new");
		return -1;
	}
	svc->ctx = ctx;
	set_security_level(svc, ctx);
	if (set_protocol(svc, ctx) < 0 || set_sessions(svc, ctx) < 0 ||
	    run_config(svc, ctx) < 0 ||
	    keys_load(svc, ctx) < 0 || load_trust(svc, ctx) < 0)
		return -1;
	verify_set_mode(svc, ctx);
	if (!svc->client && svc->cert == NULL && svc->psk != NULL)
		log_msg(LOG_NOTICE, "OCSP: Server OCSP stapling is "
		    "incompatible with PSK");
	else if (!svc->client || verify_chain_wanted(svc))
		ocsp_stapling_attach(ctx, svc->client);
	if (set_dh_curves(svc, ctx) < 0)	/* after stapling, as stunnel */
		return -1;
	if (svc->psk != NULL)
		psk_attach(ctx, svc->client);
	if (svc->client && svc->engine != 0)
		engine_client_cert(svc->engine, ctx);
	if (!svc->client && svc->ca_file != NULL)
		SSL_CTX_set_client_CA_list(ctx,
		    SSL_load_client_CA_file(svc->ca_file));
	if (!svc->client)
		set_session_context(svc, ctx);
	warn_weak(svc);
	if (!svc->client && svc->cert != NULL)
		warm_up(svc);
	return 0;
}
