/* ntlm.h: the NTLM messages of HTTP CONNECT's proxy login (see ntlm.c). */
#ifndef STUNNEL_NTLM_H
#define STUNNEL_NTLM_H

#include "common.h"

#define NTLM_CHALLENGE_LEN	8

int	 ntlm_available(void);
const unsigned char *ntlm_negotiate(size_t *);
void	 ntlm_challenge(const unsigned char *, size_t, unsigned char *);
unsigned char *ntlm_authenticate(const unsigned char *, const char *,
	    const char *, const char *, size_t *);

#endif
