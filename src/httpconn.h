/* httpconn.h: HTTP CONNECT (see httpconn.c). */
#ifndef STUNNEL_HTTPCONN_H
#define STUNNEL_HTTPCONN_H

#include "protocol.h"

extern const struct protocol_def httpconn_connect;

#endif
