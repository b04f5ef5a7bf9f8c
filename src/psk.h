/* psk.h: PSKsecrets files. */
#ifndef STUNNEL_PSK_H
#define STUNNEL_PSK_H

#include "common.h"

struct ssl_ctx_st;

struct psk {
	char		*identity;
	unsigned char	*key;
	size_t		 key_len;
	struct psk	*next;
};

struct psk	*psk_load(const char *);
struct psk	*psk_dup(const struct psk *);
const struct psk *psk_find(const struct psk *, const char *);
void		 psk_free(struct psk *);
void		 psk_attach(struct ssl_ctx_st *, int);

#endif
