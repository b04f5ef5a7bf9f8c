/* socks.h: the SOCKS server of "protocol = socks" (see socks.c). */
#ifndef STUNNEL_SOCKS_H
#define STUNNEL_SOCKS_H

#include "client.h"

int	 socks_accept(struct client *);
int	 socks_connect(struct client *);

#endif
