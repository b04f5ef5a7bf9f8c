/* ident.h: RFC 1413 checks of the connecting user. */
#ifndef STUNNEL_IDENT_H
#define STUNNEL_IDENT_H

#include "client.h"

int	 ident_check(struct client *);

#endif
