/*
 * tlsopt.c: word tables for OpenSSL settings named in the configuration.
 *
 * Owns the names accepted by "options =" (SSL_OP_*; only those the
 * OpenSSL headers define at build time), "OCSPflag =" (OCSP_*) and the
 * protocol versions of "sslVersion*". Must never touch an SSL_CTX: it
 * only translates names to numbers.
 */
#include "common.h"
#include "tlsopt.h"
#include "log.h"

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

struct ulong_word {
	const char	*name;
	unsigned long	 value;
};

#define OP(n)	{ #n, SSL_OP_##n }

static const struct ulong_word ssl_options[] = {
	OP(ALL),
#ifdef SSL_OP_ALLOW_CLIENT_RENEGOTIATION
	OP(ALLOW_CLIENT_RENEGOTIATION),
#endif
#ifdef SSL_OP_ALLOW_NO_DHE_KEX
	OP(ALLOW_NO_DHE_KEX),
#endif
	OP(ALLOW_UNSAFE_LEGACY_RENEGOTIATION),
	OP(CIPHER_SERVER_PREFERENCE),
	OP(CISCO_ANYCONNECT),
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	OP(CLEANSE_PLAINTEXT),
#endif
	OP(COOKIE_EXCHANGE),
	OP(CRYPTOPRO_TLSEXT_BUG),
#ifdef SSL_OP_DISABLE_TLSEXT_CA_NAMES
	OP(DISABLE_TLSEXT_CA_NAMES),
#endif
	OP(DONT_INSERT_EMPTY_FRAGMENTS),
#ifdef SSL_OP_ENABLE_KTLS
	OP(ENABLE_KTLS),
#endif
#ifdef SSL_OP_ENABLE_MIDDLEBOX_COMPAT
	OP(ENABLE_MIDDLEBOX_COMPAT),
#endif
#ifdef SSL_OP_EPHEMERAL_RSA
	OP(EPHEMERAL_RSA),
#endif
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	OP(IGNORE_UNEXPECTED_EOF),
#endif
	OP(LEGACY_SERVER_CONNECT),
	OP(MICROSOFT_BIG_SSLV3_BUFFER),
	OP(MICROSOFT_SESS_ID_BUG),
	OP(MSIE_SSLV2_RSA_PADDING),
	OP(NETSCAPE_CA_DN_BUG),
	OP(NETSCAPE_CHALLENGE_BUG),
	OP(NETSCAPE_DEMO_CIPHER_CHANGE_BUG),
	OP(NETSCAPE_REUSE_CIPHER_CHANGE_BUG),
#ifdef SSL_OP_NO_ANTI_REPLAY
	OP(NO_ANTI_REPLAY),
#endif
	OP(NO_COMPRESSION),
	OP(NO_DTLS_MASK),
	OP(NO_DTLSv1),
	OP(NO_DTLSv1_2),
#ifdef SSL_OP_NO_ENCRYPT_THEN_MAC
	OP(NO_ENCRYPT_THEN_MAC),
#endif
#ifdef SSL_OP_NO_EXTENDED_MASTER_SECRET
	OP(NO_EXTENDED_MASTER_SECRET),
#endif
	OP(NO_QUERY_MTU),
#ifdef SSL_OP_NO_RENEGOTIATION
	OP(NO_RENEGOTIATION),
#endif
	OP(NO_SESSION_RESUMPTION_ON_RENEGOTIATION),
	OP(NO_SSL_MASK),
	OP(NO_SSLv2),
	OP(NO_SSLv3),
	OP(NO_TICKET),
	OP(NO_TLSv1),
	OP(NO_TLSv1_1),
	OP(NO_TLSv1_2),
#ifdef SSL_OP_NO_TLSv1_3
	OP(NO_TLSv1_3),
#endif
	OP(PKCS1_CHECK_1),
	OP(PKCS1_CHECK_2),
#ifdef SSL_OP_PRIORITIZE_CHACHA
	OP(PRIORITIZE_CHACHA),
#endif
	OP(SAFARI_ECDHE_ECDSA_BUG),
	OP(SINGLE_DH_USE),
	OP(SINGLE_ECDH_USE),
	OP(SSLEAY_080_CLIENT_DH_BUG),
	OP(SSLREF2_REUSE_CERT_TYPE_BUG),
	OP(TLS_BLOCK_PADDING_BUG),
	OP(TLS_D5_BUG),
	OP(TLSEXT_PADDING),
	OP(TLS_ROLLBACK_BUG),
	{ NULL, 0 }
};

#define OF(n)	{ #n, OCSP_##n }

static const struct ulong_word ocsp_flags[] = {
	OF(NOCERTS), OF(NOINTERN), OF(NOSIGS), OF(NOCHAIN), OF(NOVERIFY),
	OF(NOEXPLICIT), OF(NOCASIGN), OF(NODELEGATED), OF(NOCHECKS),
	OF(TRUSTOTHER), OF(RESPID_KEY), OF(NOTIME),
	{ NULL, 0 }
};

const struct word tlsopt_versions[] = {
	{ "all", 0 },
	{ "SSLv3", SSL3_VERSION },
	{ "TLSv1", TLS1_VERSION },
	{ "TLSv1.1", TLS1_1_VERSION },
	{ "TLSv1.2", TLS1_2_VERSION },
	{ "TLSv1.3", TLS1_3_VERSION },
	{ NULL, 0 }
};

static int
ulong_lookup(const struct ulong_word *w, const char *name,
    unsigned long *value)
{
	for (; w->name != NULL; w++) {
		if (strcasecmp(w->name, name) == 0) {
			*value = w->value;
			return 0;
		}
	}
	return -1;
}

int
tlsopt_option(const char *name, unsigned long *mask)
{
	return ulong_lookup(ssl_options, name, mask);
}

int
tlsopt_ocsp_flag(const char *name, unsigned long *flag)
{
	return ulong_lookup(ocsp_flags, name, flag);
}

/* -options */
void
tlsopt_print_options(void)
{
	const struct ulong_word *w;

	log_msg(LOG_NOTICE, " ");
	log_msg(LOG_NOTICE, "Supported TLS options:");
	for (w = ssl_options; w->name != NULL; w++)
		log_msg(LOG_NOTICE, "options = %s", w->name);
}
