/* verify.h: checking the peer's certificate. */
#ifndef STUNNEL_VERIFY_H
#define STUNNEL_VERIFY_H

#include "options.h"
#include <openssl/ssl.h>

int	 verify_chain_wanted(const struct service *);
int	 verify_peer_wanted(const struct service *);
int	 verify_cert_required(const struct service *);
struct client;
int	 verify_session_outcome(struct client *);
void	 verify_set_mode(const struct service *, SSL_CTX *);
void	 verify_log_mode(const struct service *);
char	*verify_dn(const X509_NAME *);
char	*verify_peer_dn(const SSL *, int);

#endif
