/* socks.h: "protocol = socks" (see socks.c). */
#ifndef STUNNEL_SOCKS_H
#define STUNNEL_SOCKS_H

#include "protocol.h"

extern const struct protocol_def socks_protocol;

#endif
