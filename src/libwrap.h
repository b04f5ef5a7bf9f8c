/* libwrap.h: TCP Wrappers access control. */
#ifndef STUNNEL_LIBWRAP_H
#define STUNNEL_LIBWRAP_H

#include "client.h"

int	 libwrap_load(void);
int	 libwrap_check(struct client *);

#endif
