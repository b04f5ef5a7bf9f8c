/* protocol.h: the "protocol =" negotiations and when each one speaks. */
#ifndef STUNNEL_PROTOCOL_H
#define STUNNEL_PROTOCOL_H

#include "client.h"

/*
 * One protocol's steps, each NULL where it has nothing to say; 0 to go
 * on, -1 when the connection is over (the step logged why). Server mode
 * runs before_tls on the accepted plain side, then the handshake, then
 * after_tls inside TLS (which may connect the remote side itself, as
 * SOCKS does), then after_connect toward the remote side. Client mode
 * runs before_tls on the accepted side before connecting anything
 * (capwinctrl), after_connect on the plain remote side, then the
 * handshake, then after_tls inside TLS.
 */
struct protocol_steps {
	int	(*before_tls)(struct client *);
	int	(*after_tls)(struct client *);
	int	(*after_connect)(struct client *);
};

struct protocol_def {
	struct protocol_steps server;
	struct protocol_steps client;
	int	 connects_first;	/* server: the remote side before TLS */
};

int	 protocol_connects_first(const struct service *);
int	 protocol_before_tls(struct client *);
int	 protocol_after_tls(struct client *);
int	 protocol_after_connect(struct client *);

#endif
