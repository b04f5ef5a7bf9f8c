/* tls.h: the TLS side of one connection. */
#ifndef STUNNEL_TLS_H
#define STUNNEL_TLS_H

#include "client.h"

int	 tls_start(struct client *);
char	*tls_peer_dn(struct client *, int);
char	*tls_dn(const X509_NAME *);
int	 tls_fatal_alert(void);

#endif
