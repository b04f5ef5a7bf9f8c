/* transfer.h: moving data between the TLS side and the plain side. */
#ifndef STUNNEL_TRANSFER_H
#define STUNNEL_TRANSFER_H

#include "client.h"

enum client_error transfer(struct client *);

#endif
