/* tls.h: the TLS side of one connection. */
#ifndef STUNNEL_TLS_H
#define STUNNEL_TLS_H

#include "client.h"

enum client_error tls_start(struct client *);

#endif
