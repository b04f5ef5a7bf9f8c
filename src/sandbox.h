/* sandbox.h: the seccomp filters of a connection process. */
#ifndef STUNNEL_SANDBOX_H
#define STUNNEL_SANDBOX_H

#include "client.h"

enum sandbox_stage {
	SANDBOX_HANDSHAKE,	/* after access control: negotiations, TLS, connect */
	SANDBOX_TRANSFER	/* everything connected: the pump and the end */
};

void	 sandbox_prepare(void);
int	 sandbox_enter(struct client *, enum sandbox_stage);

#endif
