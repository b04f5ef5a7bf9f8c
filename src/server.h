/* server.h: the parent process: listeners, accept, fork, reap, reload. */
#ifndef STUNNEL_SERVER_H
#define STUNNEL_SERVER_H

#include "options.h"

int	 server_bind(struct global *);
int	 server_run(struct global *, const char *, const char *);

#endif
