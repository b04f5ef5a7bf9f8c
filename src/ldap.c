/*
 * ldap.c: "protocol = ldap", the StartTLS extended operation (RFC 2830).
 *
 * Not written yet: the section loads and validate.c says at start-up
 * that it has no effect.
 */
#include "common.h"
#include "ldap.h"

const struct protocol_def ldap_protocol = { .connects_first = 0 };
