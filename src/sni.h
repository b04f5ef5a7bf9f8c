/* sni.h: server-side SNI: virtual services chosen by the server name. */
#ifndef STUNNEL_SNI_H
#define STUNNEL_SNI_H

#include <openssl/ssl.h>

void	 sni_attach(SSL_CTX *);

#endif
