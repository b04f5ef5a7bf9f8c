/* keys.h: a service's own certificate chain and private key. */
#ifndef STUNNEL_KEYS_H
#define STUNNEL_KEYS_H

#include "options.h"
#include <openssl/ssl.h>

int	 keys_load(const struct service *, SSL_CTX *);

#endif
