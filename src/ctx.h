/* ctx.h: one SSL_CTX per service, built while the configuration loads. */
#ifndef STUNNEL_CTX_H
#define STUNNEL_CTX_H

#include "options.h"

int	 ctx_init(struct service *);
void	 ctx_rehearse(const struct service *);

#endif
