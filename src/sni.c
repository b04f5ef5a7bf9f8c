/*
 * sni.c: virtual services chosen by the name the client asks for.
 *
 * Owns the server name callback of every server service: the requested
 * name is matched against the "sni = PRIMARY:PATTERN" lines of the
 * secondary sections (in file order; "*.example.org" matches any name
 * ending in ".example.org"), and on a match the connection takes the
 * secondary's TLS context (certificate, verification) and its remote
 * side. An unmatched name stays on the primary. As in stunnel, the name
 * a client sent is acknowledged (an empty server_name extension in the
 * ServerHello or EncryptedExtensions), virtual services or not. Must
 * never change the configuration: only the connection's view of it.
 */
#include "common.h"
#include "sni.h"
#include "client.h"
#include "log.h"

static int
pattern_matches(const char *pattern, const char *name)
{
	size_t plen, nlen;

	if (pattern[0] != '*')
		return strcasecmp(pattern, name) == 0;
	plen = strlen(pattern + 1);
	nlen = strlen(name);
	return nlen >= plen && strcasecmp(name + nlen - plen, pattern + 1) == 0;
}

static int
has_secondaries(const struct global *g, const struct service *primary)
{
	const struct service *svc;

	for (svc = g->services; svc != NULL; svc = svc->next)
		if (svc->sni_primary == primary)
			return 1;
	return 0;
}

/* the secondary of PRIMARY whose pattern matches NAME, or NULL */
static struct service *
find_secondary(const struct global *g, const struct service *primary,
    const char *name)
{
	struct service *svc;
	size_t i;

	for (svc = g->services; svc != NULL; svc = svc->next) {
		if (svc->sni_primary != primary)
			continue;
		for (i = 0; i < svc->sni.n; i++) {
			const char *pattern = strchr(svc->sni.v[i], ':') + 1;

			if (pattern_matches(pattern, name)) {
				log_msg(LOG_DEBUG, "SNI: matched pattern: %s",
				    pattern);
				return svc;
			}
		}
	}
	return NULL;
}

static void
switch_to(struct client *c, SSL *ssl, struct service *svc)
{
	SSL_set_SSL_CTX(ssl, svc->ctx);
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(svc->ctx),
	    SSL_CTX_get_verify_callback(svc->ctx));
	SSL_set_options(ssl, SSL_CTX_get_options(svc->ctx));
	c->svc = svc;
	log_msg(LOG_NOTICE, "SNI: switched to service [%s]", svc->name);
}

static int
servername_callback(SSL *ssl, int *alert, void *arg)
{
	struct client *c = client_of(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct service *secondary;

	(void)alert;
	(void)arg;
	if (c == NULL)		/* ctx.c's warm-up handshake */
		return SSL_TLSEXT_ERR_OK;
	/* OK, not NOACK: a name the client sent is acknowledged */
	if (!has_secondaries(c->g, c->svc)) {
		log_msg(LOG_DEBUG, "SNI: no virtual services defined");
		return SSL_TLSEXT_ERR_OK;
	}
	if (name == NULL) {
		log_msg(LOG_NOTICE, "SNI: no servername received");
		return SSL_TLSEXT_ERR_NOACK;
	}
	log_msg(LOG_INFO, "SNI: requested servername: %s", name);
	secondary = find_secondary(c->g, c->svc, name);
	if (secondary == NULL) {
		log_msg(LOG_ERR, "SNI: no pattern matched servername: %s", name);
		return SSL_TLSEXT_ERR_OK;
	}
	switch_to(c, ssl, secondary);
	return SSL_TLSEXT_ERR_OK;
}

/* a server context: look at the name of every client */
void
sni_attach(SSL_CTX *ctx)
{
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_callback);
}
