/*
 * cifs.c: "protocol = cifs", Samba's old TLS in the NetBIOS session
 * request.
 *
 * Not written yet: the section loads and validate.c says at start-up
 * that it has no effect.
 */
#include "common.h"
#include "cifs.h"

const struct protocol_def cifs_protocol = { .connects_first = 0 };
