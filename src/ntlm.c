/*
 * ntlm.c: the NTLM messages that "protocolAuthentication = ntlm" sends
 * an HTTP proxy (httpconn.c carries them, in base64).
 *
 * The messages, as stunnel 5.75 builds them (NTLMv1, no LM response):
 *   negotiate: "NTLMSSP\0", type 1, flags 0x00000202 (OEM strings, NTLM),
 *     empty domain and workstation fields: 32 bytes, always the same.
 *   challenge (the proxy's): only its 8 bytes at offset 24 are used, and
 *     nothing else is checked; bytes the message lacks count as zeros.
 *   authenticate: "NTLMSSP\0", type 3, six (length, length, offset)
 *     fields (LM, NT, domain, user, workstation, session key), flags
 *     0x00000202, then the 24-byte NT response, the domain and the user
 *     as configured (OEM bytes, case kept). Empty fields point to the end.
 *   The NT response: MD4 of the password with a zero byte after each of
 *     its bytes (not a UTF-16 conversion: 5.75's, kept so that the same
 *     configuration logs in the same way), five zero bytes added, and the
 *     three 7-byte thirds of those 21 bytes each a DES key encrypting the
 *     challenge (MS-NLMP's NTLMv1 without extended session security).
 * MD4 and single DES exist in OpenSSL 3 only as deprecated low-level
 * functions or in the legacy provider. The provider is a module loaded
 * from disk at run time (not there after a chroot, absent from some
 * installations) and would have to be loaded into a library context of
 * its own; the low-level functions are part of libcrypto. So this file,
 * and only this file, uses them, with their deprecation warnings off.
 * Must never log: everything here is a secret or derived from one.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common.h"
#include "ntlm.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/md4.h>

#define NTLM_FLAGS		0x00000202	/* OEM | NTLM */
#define TYPE3_HEADER_LEN	64
#define NT_RESPONSE_LEN		24
#define CHALLENGE_OFFSET	24

static const unsigned char signature[8] = "NTLMSSP";	/* with its NUL */

static const unsigned char negotiate[32] = {
	'N', 'T', 'L', 'M', 'S', 'S', 'P', 0,
	1, 0, 0, 0,				/* type 1 */
	NTLM_FLAGS & 0xff, NTLM_FLAGS >> 8, 0, 0,
	/* domain and workstation: empty */
};

/* whether this libcrypto has what the NT response needs */
int
ntlm_available(void)
{
#if defined(OPENSSL_NO_MD4) || defined(OPENSSL_NO_DES)
	return 0;
#else
	return 1;
#endif
}

/* the type 1 message */
const unsigned char *
ntlm_negotiate(size_t *len)
{
	*len = sizeof(negotiate);
	return negotiate;
}

/* the server's challenge out of its type 2 MSG of LEN bytes */
void
ntlm_challenge(const unsigned char *msg, size_t len, unsigned char *challenge)
{
	size_t n = len > CHALLENGE_OFFSET ? len - CHALLENGE_OFFSET : 0;

	if (n > NTLM_CHALLENGE_LEN)
		n = NTLM_CHALLENGE_LEN;
	memset(challenge, 0, NTLM_CHALLENGE_LEN);
	if (n > 0)
		memcpy(challenge, msg + CHALLENGE_OFFSET, n);
}

/* one DES encryption of the challenge under 7 bytes of key */
static void
des_third(const unsigned char *key7, const unsigned char *challenge,
    unsigned char *out)
{
	DES_cblock key, in, res;
	DES_key_schedule ks;
	int i;

	/* 56 key bits, 7 to a byte, the low (parity) bit left 0 */
	for (i = 0; i < 8; i++)
		key[i] = (unsigned char)(((i > 0 ? key7[i - 1] << (8 - i) : 0) |
		    (i < 7 ? key7[i] >> i : 0)) & 0xfe);
	memcpy(in, challenge, sizeof(in));
	DES_set_key_unchecked(&key, &ks);
	DES_ecb_encrypt(&in, &res, &ks, DES_ENCRYPT);
	memcpy(out, res, sizeof(res));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(&ks, sizeof(ks));
}

/* the NTLMv1 NT response of PASSWORD to CHALLENGE */
static void
nt_response(const char *password, const unsigned char *challenge,
    unsigned char *out)
{
	size_t len = strlen(password), i;
	unsigned char *wide = xcalloc(len + 1, 2);
	unsigned char hash[21];

	for (i = 0; i < len; i++)
		wide[2 * i] = (unsigned char)password[i];
	memset(hash, 0, sizeof(hash));
	MD4(wide, 2 * len, hash);
	for (i = 0; i < 3; i++)
		des_third(hash + 7 * i, challenge, out + 8 * i);
	OPENSSL_cleanse(wide, 2 * len);
	OPENSSL_cleanse(hash, sizeof(hash));
	free(wide);
}

/* a (length, length, offset) field of the type 3 header */
static void
put_field(unsigned char *p, size_t len, size_t offset)
{
	p[0] = p[2] = (unsigned char)(len & 0xff);
	p[1] = p[3] = (unsigned char)(len >> 8);
	p[4] = (unsigned char)(offset & 0xff);
	p[5] = (unsigned char)(offset >> 8);
	p[6] = p[7] = 0;
}

/*
 * The type 3 message answering CHALLENGE, in a buffer of *LEN bytes for
 * the caller to wipe and free; NULL when the fields do not fit its
 * 16-bit lengths and offsets.
 */
unsigned char *
ntlm_authenticate(const unsigned char *challenge, const char *domain,
    const char *user, const char *password, size_t *len)
{
	size_t dlen = strlen(domain), ulen = strlen(user);
	size_t total = TYPE3_HEADER_LEN + NT_RESPONSE_LEN + dlen + ulen;
	size_t doff = TYPE3_HEADER_LEN + NT_RESPONSE_LEN, uoff = doff + dlen;
	unsigned char *m;

	if (total > 0xffff)
		return NULL;
	m = xcalloc(1, total);
	memcpy(m, signature, sizeof(signature));
	m[8] = 3;					/* type 3 */
	put_field(m + 12, 0, total);			/* LM response */
	put_field(m + 20, NT_RESPONSE_LEN, TYPE3_HEADER_LEN);
	put_field(m + 28, dlen, doff);
	put_field(m + 36, ulen, uoff);
	put_field(m + 44, 0, total);			/* workstation */
	put_field(m + 52, 0, total);			/* session key */
	m[60] = NTLM_FLAGS & 0xff;
	m[61] = NTLM_FLAGS >> 8;
	nt_response(password, challenge, m + TYPE3_HEADER_LEN);
	memcpy(m + doff, domain, dlen);
	memcpy(m + uoff, user, ulen);
	*len = total;
	return m;
}
