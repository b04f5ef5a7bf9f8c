/*
 * keys.c: the service's identity.
 *
 * Owns loading "cert" (a PEM chain, leaf first, a PKCS#12 bundle, or a
 * URI such as "pkcs11:..." served by a loaded provider) and "key" (PEM
 * or URI; it defaults to the cert file), asking the service's engine
 * first when it has one ("engineId"), the passphrase of an
 * encrypted key (asked on the terminal when the daemon runs in the
 * foreground with one, refused with a clear message otherwise), the
 * check that key and certificate belong together (DH parameters in the
 * certificate file are ctx.c's, read only when needed). Runs in the
 * parent, before any privilege drop. Must never log a passphrase or key material.
 */
#include "common.h"
#include "keys.h"
#include "engine.h"
#include "log.h"
#include "sslerr.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASS_TRIES	3

/* the passphrase of an encrypted key: only from a person at a terminal */
static int
passphrase(char *buf, int size, int rwflag, void *userdata)
{
	const char *path = userdata;
	char prompt[PATH_MAX + 64];

	(void)rwflag;
	static const char *told;

	if (!isatty(STDIN_FILENO)) {
		/* OpenSSL may ask once per format it tries: say it once */
		if (told != path)
			log_msg(LOG_ERR, "%s is encrypted and no passphrase can "
			    "be asked for (no terminal): decrypt it, or start "
			    "the daemon in the foreground on a terminal", path);
		told = path;
		return -1;
	}
	snprintf(prompt, sizeof(prompt), "Enter pass phrase for %s:", path);
	if (EVP_read_pw_string(buf, size, prompt, 0) != 0)
		return -1;
	return (int)strlen(buf);
}

/* "pkcs11:token=...", "file:/etc/...": served by an OpenSSL store loader */
static int
is_uri(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':' && p - s > 1 && access(s, F_OK) != 0;
}

/*
 * The first object of TYPE at URI (a certificate or a private key),
 * through whichever provider serves the scheme. NULL after logging.
 */
static void *
store_load(const char *uri, int type)
{
	OSSL_STORE_CTX *store = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
	OSSL_STORE_INFO *info;
	void *found = NULL;
	int objects = 0;

	if (store == NULL) {
		sslerr_log("OSSL_STORE_open");
		return NULL;
	}
	while (found == NULL && !OSSL_STORE_eof(store) && objects++ < 64) {
		info = OSSL_STORE_load(store);
		if (info == NULL)
			continue;	/* an object no decoder understood */
		if (OSSL_STORE_INFO_get_type(info) == type)
			found = type == OSSL_STORE_INFO_CERT ?
			    (void *)OSSL_STORE_INFO_get1_CERT(info) :
			    (void *)OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	OSSL_STORE_close(store);
	if (found == NULL)
		sslerr_log("OSSL_STORE_load");
	ERR_clear_error();
	return found;
}

static int
load_uri_cert(const char *uri, SSL_CTX *ctx)
{
	X509 *cert = store_load(uri, OSSL_STORE_INFO_CERT);
	int ok = cert != NULL && SSL_CTX_use_certificate(ctx, cert);

	X509_free(cert);
	return ok ? 0 : -1;
}

static int
load_uri_key(const char *uri, SSL_CTX *ctx)
{
	EVP_PKEY *key = store_load(uri, OSSL_STORE_INFO_PKEY);
	int ok = key != NULL && SSL_CTX_use_PrivateKey(ctx, key);

	EVP_PKEY_free(key);
	if (!ok) {
		log_msg(LOG_ERR, "Failed to load private key from: %s", uri);
		return -1;
	}
	log_msg(LOG_INFO, "Private key loaded from: %s", uri);
	return 0;
}

static int
is_pkcs12(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot != NULL && (strcasecmp(dot, ".p12") == 0 ||
	    strcasecmp(dot, ".pfx") == 0);
}

/* a PKCS#12 bundle: certificate, key and chain in one file */
static int
load_pkcs12(const char *path, SSL_CTX *ctx)
{
	char pass[256] = "";
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	PKCS12 *p12;
	FILE *f = fopen(path, "rb");
	int ok = 0;

	if (f == NULL) {
		log_errno("%s", path);
		return -1;
	}
	p12 = d2i_PKCS12_fp(f, NULL);
	fclose(f);
	if (p12 == NULL) {
		sslerr_log("d2i_PKCS12_fp");
		return -1;
	}
	if (!PKCS12_verify_mac(p12, "", 0) && !PKCS12_verify_mac(p12, NULL, 0)) {
		ERR_clear_error();
		if (passphrase(pass, sizeof(pass), 0, (void *)path) < 0) {
			PKCS12_free(p12);
			return -1;
		}
	}
	if (PKCS12_parse(p12, pass, &key, &cert, &chain) &&
	    SSL_CTX_use_certificate(ctx, cert) &&
	    SSL_CTX_use_PrivateKey(ctx, key) &&
	    (chain == NULL || SSL_CTX_set1_chain(ctx, chain)))
		ok = 1;
	else
		sslerr_log("PKCS12_parse");
	OPENSSL_cleanse(pass, sizeof(pass));
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	PKCS12_free(p12);
	return ok ? 0 : -1;
}

/*
 * A key file that other users may read (or write) is worth a word:
 * stunnel 5.68 said it in these words; 5.75 no longer does, we still do.
 */
static void
warn_insecure(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
		log_msg(LOG_WARNING, "Insecure file permissions on %s", path);
}

static int
load_key(const char *path, SSL_CTX *ctx)
{
	int tries;

	warn_insecure(path);
	SSL_CTX_set_default_passwd_cb(ctx, passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)path);
	for (tries = 0; tries < PASS_TRIES; tries++) {
		if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM))
			break;
		if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_BAD_DECRYPT ||
		    !isatty(STDIN_FILENO)) {
			tries = PASS_TRIES;
			break;
		}
		ERR_clear_error();
		log_msg(LOG_WARNING, "Wrong password or PIN: retrying");
	}
	SSL_CTX_set_default_passwd_cb(ctx, NULL);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (tries == PASS_TRIES) {
		sslerr_log(ERR_GET_REASON(ERR_peek_last_error()) ==
		    X509_R_KEY_VALUES_MISMATCH ?
		    "Private key does not match the certificate" :
		    "SSL_CTX_use_PrivateKey_file");
		log_msg(LOG_ERR, "Failed to load private key from: %s", path);
		return -1;
	}
	log_msg(LOG_INFO, "Private key loaded from: %s", path);
	return 0;
}

/* the certificate (a chain, a bundle or a URI); 0 or -1 after logging */
static int
load_cert(const char *cert, SSL_CTX *ctx)
{
	int rc;

	if (is_uri(cert)) {
		rc = load_uri_cert(cert, ctx);
	} else if (is_pkcs12(cert)) {
		rc = load_pkcs12(cert, ctx);
	} else {
		rc = SSL_CTX_use_certificate_chain_file(ctx, cert) ? 0 : -1;
		if (rc < 0)
			sslerr_log("SSL_CTX_use_certificate_chain_file");
	}
	if (rc < 0)
		log_msg(LOG_ERR, "Failed to load certificate from: %s", cert);
	else
		log_msg(LOG_INFO, "Certificate loaded from: %s", cert);
	return rc;
}

/* "engineId": the certificate from the engine; 0, or -1 to try a file */
static int
load_engine_cert(int engine, const char *id, SSL_CTX *ctx)
{
	X509 *cert;
	int ok;

	log_msg(LOG_INFO, "Loading certificate from engine ID: %s", id);
	cert = engine_load_cert(engine, id);
	ok = cert != NULL && SSL_CTX_use_certificate(ctx, cert);
	X509_free(cert);
	ERR_clear_error();
	if (!ok)
		return -1;
	log_msg(LOG_INFO, "Certificate loaded from engine ID: %s", id);
	return 0;
}

/*
 * "engineId": a key that stays in the engine, its PIN (when the engine
 * has none configured) asked on the terminal; 0, or -1 to try a file
 */
static int
load_engine_key(int engine, const char *id, SSL_CTX *ctx)
{
	UI_METHOD *ui = UI_UTIL_wrap_read_pem_callback(passphrase, 0);
	EVP_PKEY *key = NULL;
	int tries, ok;

	log_msg(LOG_INFO, "Initializing private key on engine ID: %s", id);
	for (tries = 0; tries < PASS_TRIES && key == NULL; tries++) {
		key = engine_load_key(engine, id, ui, (void *)id);
		if (key == NULL && tries + 1 < PASS_TRIES &&
		    isatty(STDIN_FILENO))
			log_msg(LOG_ERR, "Wrong PIN: retrying");
		else if (key == NULL)
			break;
	}
	UI_destroy_method(ui);
	ok = key != NULL && SSL_CTX_use_PrivateKey(ctx, key);
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (!ok)
		return -1;
	log_msg(LOG_INFO, "Private key initialized on engine ID: %s", id);
	return 0;
}

int
keys_load(const struct service *svc, SSL_CTX *ctx)
{
	const char *key = svc->key != NULL ? svc->key : svc->cert;
	int cert_in_file, key_loaded;

	if (svc->cert == NULL) {
		log_msg(LOG_DEBUG, "No certificate or private key specified");
		return 0;
	}
	/* with an engine, as stunnel: the engine first, then the files */
	cert_in_file = svc->engine == 0 ||
	    load_engine_cert(svc->engine, svc->cert, ctx) < 0;
	if (cert_in_file && load_cert(svc->cert, ctx) < 0)
		return -1;
	/* the key stays in the engine, or a PKCS#12 bundle brought it along */
	key_loaded = is_pkcs12(svc->cert) || (svc->engine != 0 &&
	    load_engine_key(svc->engine, key, ctx) == 0);
	if (!key_loaded && (is_uri(key) ? load_uri_key(key, ctx) :
	    load_key(key, ctx)) < 0)
		return -1;
	if (!SSL_CTX_check_private_key(ctx)) {
		sslerr_log("Private key does not match the certificate");
		return -1;
	}
	log_msg(LOG_DEBUG, "Private key check succeeded");
	return 0;
}
