/* starttls.h: smtp, pop3, imap and nntp (see starttls.c). */
#ifndef STUNNEL_STARTTLS_H
#define STUNNEL_STARTTLS_H

#include "protocol.h"

extern const struct protocol_def starttls_smtp, starttls_pop3, starttls_imap,
    starttls_nntp;

#endif
