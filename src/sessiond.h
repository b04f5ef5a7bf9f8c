/* sessiond.h: server sessions kept by an external sessiond cache. */
#ifndef STUNNEL_SESSIOND_H
#define STUNNEL_SESSIOND_H

#include "addr.h"
#include <openssl/ssl.h>

void	 sessiond_attach(const struct addr *, SSL_CTX *);

#endif
