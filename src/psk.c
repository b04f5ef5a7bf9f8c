/*
 * psk.c: reading a PSKsecrets file.
 *
 * Owns the file format: one "IDENTITY:KEY" per line, the key taken as
 * hexadecimal when it is an even number of hex digits and as text
 * otherwise, at least 16 bytes after that; a file others may read or
 * write is loaded with a warning, as stunnel does. Keys are wiped when
 * freed. Must never log a key.
 */
#include "common.h"
#include "psk.h"
#include "log.h"
#include "util.h"
#include "client.h"

#include <openssl/ssl.h>

#include <openssl/crypto.h>
#include <sys/stat.h>

#define PSK_IDENTITY_MAX	256
#define PSK_KEY_MAX		512
#define PSK_KEY_MIN		16

static int
all_hex(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 != 0)
		return 0;
	return strspn(s, "0123456789abcdefABCDEF") == n;
}

static struct psk *
parse_line(int line, char *text)
{
	char *colon = strchr(text, ':'), *key;
	unsigned char buf[PSK_KEY_MAX];
	struct psk *p;
	size_t len;
	int hex;

	if (colon == NULL) {
		log_msg(LOG_ERR, "PSKsecrets line %d: Not in identity:key format",
		    line);
		return NULL;
	}
	*colon = '\0';
	key = colon + 1;
	if (strlen(text) > PSK_IDENTITY_MAX) {
		log_msg(LOG_ERR, "PSKsecrets line %d: Identity longer than %d "
		    "characters", line, PSK_IDENTITY_MAX);
		return NULL;
	}
	hex = all_hex(key);
	len = hex ? strlen(key) / 2 : strlen(key);
	if (len > PSK_KEY_MAX) {
		log_msg(LOG_ERR, "PSKsecrets line %d: Key longer than %d bytes",
		    line, PSK_KEY_MAX);
		return NULL;
	}
	if (len < PSK_KEY_MIN) {
		log_msg(LOG_ERR, "PSKsecrets line %d: Key shorter than %d bytes",
		    line, PSK_KEY_MIN);
		return NULL;
	}
	if (hex && str_hex_decode(key, buf, sizeof(buf), &len) < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->identity = xstrdup(text);
	p->key = xmalloc(len);
	memcpy(p->key, hex ? buf : (unsigned char *)key, len);
	p->key_len = len;
	OPENSSL_cleanse(buf, sizeof(buf));
	log_msg(LOG_INFO, "PSKsecrets line %d: %zu-byte %s key configured for "
	    "identity \"%s\"", line, len, hex ? "hexadecimal" : "ASCII",
	    p->identity);
	return p;
}

static void
warn_permissions(FILE *f, const char *path)
{
	struct stat st;

	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 07) != 0)
		log_msg(LOG_WARNING, "Insecure file permissions on %s", path);
}

/* the whole file, or NULL after logging the first problem */
struct psk *
psk_load(const char *path)
{
	struct psk *head = NULL, **tail = &head, *p;
	char buf[PSK_IDENTITY_MAX + 2 * PSK_KEY_MAX + 8], *text;
	int line = 0, count = 0, failed = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		log_errno("%s", path);
		log_msg(LOG_ERR, "Cannot open PSKsecrets file");
		return NULL;
	}
	warn_permissions(f, path);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		text = str_trim(buf);
		if (*text == '\0')
			continue;
		p = parse_line(line, text);
		if (p == NULL) {
			failed = 1;
			break;
		}
		*tail = p;
		tail = &p->next;
		count++;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	fclose(f);
	if (!failed && count == 0) {
		/* stunnel's error is the caller's "Failed to read PSK secrets" */
		log_msg(LOG_INFO, "No PSK identities found in %s", path);
		failed = 1;
	}
	if (failed) {
		psk_free(head);
		return NULL;
	}
	log_msg(LOG_INFO, "PSK identities: %d retrieved", count);
	return head;
}

struct psk *
psk_dup(const struct psk *src)
{
	struct psk *head = NULL, **tail = &head, *p;

	for (; src != NULL; src = src->next) {
		p = xcalloc(1, sizeof(*p));
		p->identity = xstrdup(src->identity);
		p->key = xmalloc(src->key_len);
		memcpy(p->key, src->key, src->key_len);
		p->key_len = src->key_len;
		*tail = p;
		tail = &p->next;
	}
	return head;
}

const struct psk *
psk_find(const struct psk *list, const char *identity)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->identity, identity) == 0)
			return list;
	return NULL;
}

void
psk_free(struct psk *p)
{
	struct psk *next;

	for (; p != NULL; p = next) {
		next = p->next;
		OPENSSL_cleanse(p->key, p->key_len);
		free(p->key);
		free(p->identity);
		free(p);
	}
}

/* printable ASCII only, as stunnel judges an identity worth logging */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* server: the key of the identity the client named, or 0 */
static unsigned int
server_callback(SSL *ssl, const char *identity, unsigned char *psk,
    unsigned int max_len)
{
	struct client *c = client_of(ssl);
	const struct psk *found;

	if (c == NULL)
		return 0;
	found = psk_find(c->svc->psk, identity);
	if (found == NULL) {
		/* a TLS 1.3 ticket comes here too: binary, and no name */
		if (printable(identity))
			log_msg(LOG_INFO, "PSK identity not found: %s", identity);
		else
			log_msg(LOG_INFO, "PSK identity not found (session "
			    "resumption?)");
		return 0;
	}
	if (found->key_len > max_len) {
		log_msg(LOG_ERR, "PSK too long (%zu>%u)", found->key_len,
		    max_len);
		return 0;
	}
	memcpy(psk, found->key, found->key_len);
	log_msg(LOG_NOTICE, "Key configured for PSK identity \"%s\"", identity);
	c->psk_authenticated = 1;
	return (unsigned int)found->key_len;
}

/* client: PSKidentity, or the first identity of the file */
static unsigned int
client_callback(SSL *ssl, const char *hint, char *identity,
    unsigned int max_identity_len, unsigned char *psk, unsigned int max_len)
{
	struct client *c = client_of(ssl);
	const struct psk *use;

	(void)hint;
	if (c == NULL)
		return 0;
	use = c->svc->psk_identity != NULL ?
	    psk_find(c->svc->psk, c->svc->psk_identity) : c->svc->psk;
	if (use == NULL) {
		log_msg(LOG_ERR, "INTERNAL ERROR: No PSK identity selected");
		return 0;
	}
	if (strlen(use->identity) + 1 > max_identity_len) {
		log_msg(LOG_ERR, "PSK identity too long (%zu>%u bytes)",
		    strlen(use->identity) + 1, max_identity_len);
		return 0;
	}
	if (use->key_len > max_len) {
		log_msg(LOG_ERR, "PSK too long (%zu>%u bytes)", use->key_len,
		    max_len);
		return 0;
	}
	strcpy(identity, use->identity);
	memcpy(psk, use->key, use->key_len);
	log_msg(LOG_INFO, "PSK client configured for identity \"%s\"",
	    use->identity);
	return (unsigned int)use->key_len;
}

/* PSKsecrets configured: let the context use them */
void
psk_attach(SSL_CTX *ctx, int client)
{
	if (client)
		SSL_CTX_set_psk_client_callback(ctx, client_callback);
	else
		SSL_CTX_set_psk_server_callback(ctx, server_callback);
}
