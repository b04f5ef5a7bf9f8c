/* sockopt.h: "socket = a|l|r:OPTION=VALUE" and the -sockets table. */
#ifndef STUNNEL_SOCKOPT_H
#define STUNNEL_SOCKOPT_H

#include "common.h"
#include "util.h"

/* which socket of a connection an option applies to */
enum sockopt_target { SOCK_ACCEPT, SOCK_LOCAL, SOCK_REMOTE };

int	 sockopt_check(const char *);
int	 sockopt_apply(int, enum sockopt_target, const struct strlist *);
void	 sockopt_print_table(void);

#endif
