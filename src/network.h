/* network.h: connecting to the remote side. */
#ifndef STUNNEL_NETWORK_H
#define STUNNEL_NETWORK_H

#include "client.h"

int	 net_connect(struct client *);
int	 net_connect_to(struct client *, const struct addr *, unsigned);
int	 net_connect_list(struct client *, const struct addrlist *, size_t);
int	 net_wait(int, short, int, const char *);

#endif
