/* cifs.h: "protocol = cifs" (see cifs.c). */
#ifndef STUNNEL_CIFS_H
#define STUNNEL_CIFS_H

#include "protocol.h"

extern const struct protocol_def cifs_protocol;

#endif
