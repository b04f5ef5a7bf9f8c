/* protocol.h: negotiations on the plain side, before or after TLS. */
#ifndef STUNNEL_PROTOCOL_H
#define STUNNEL_PROTOCOL_H

#include "client.h"

int	 protocol_connects_first(const struct service *);
int	 protocol_before_tls(struct client *);
int	 protocol_after_connect(struct client *);

#endif
