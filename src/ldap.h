/* ldap.h: "protocol = ldap" and the LDAP messages capwin sends (see ldap.c). */
#ifndef STUNNEL_LDAP_H
#define STUNNEL_LDAP_H

#include "protocol.h"

extern const struct protocol_def ldap_protocol;

size_t	 ldap_bind_request(unsigned char *, size_t, const char *,
	    const char *);

#endif
