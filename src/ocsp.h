/* ocsp.h: asking an OCSP responder about a peer certificate. */
#ifndef STUNNEL_OCSP_H
#define STUNNEL_OCSP_H

#include "client.h"
#include <openssl/x509.h>

int	 ocsp_check(struct client *, X509_STORE_CTX *, X509 *, int);
void	 ocsp_stapling_attach(SSL_CTX *, int);

#endif
