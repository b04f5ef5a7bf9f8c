/* exec.h: the local program behind "exec =". */
#ifndef STUNNEL_EXEC_H
#define STUNNEL_EXEC_H

#include "client.h"

int	 exec_start(struct client *);
void	 exec_reap(struct client *);

#endif
