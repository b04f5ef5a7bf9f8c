/* sessiond.h: server sessions kept by an external sessiond cache. */
#ifndef STUNNEL_SESSIOND_H
#define STUNNEL_SESSIOND_H

#include "addr.h"
#include <openssl/ssl.h>

void	 sessiond_store(const struct addr *, const unsigned char *, unsigned,
	    SSL_SESSION *);
SSL_SESSION *sessiond_fetch(const struct addr *, const unsigned char *,
	    unsigned);
void	 sessiond_drop(const struct addr *, const unsigned char *, unsigned);

#endif
