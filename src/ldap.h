/* ldap.h: "protocol = ldap" (see ldap.c). */
#ifndef STUNNEL_LDAP_H
#define STUNNEL_LDAP_H

#include "protocol.h"

extern const struct protocol_def ldap_protocol;

#endif
