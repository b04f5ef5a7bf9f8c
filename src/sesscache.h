/* sesscache.h: TLS sessions shared by every connection process. */
#ifndef STUNNEL_SESSCACHE_H
#define STUNNEL_SESSCACHE_H

#include "options.h"
#include <openssl/ssl.h>

struct sesscache;

struct sesscache *sesscache_new(const struct service *);
void	 sesscache_free(struct sesscache *);
void	 sesscache_attach(struct sesscache *, SSL_CTX *, int);
void	 sesscache_offer(SSL *);

#endif
