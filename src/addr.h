/* addr.h: "[host:]port" and Unix socket paths to socket addresses. */
#ifndef STUNNEL_ADDR_H
#define STUNNEL_ADDR_H

#include "common.h"
#include <sys/socket.h>

struct addr {
	struct sockaddr_storage	sa;
	socklen_t		len;
};

struct addrlist {
	struct addr	*v;
	size_t		 n;
};

#define ADDR_TEXT_MAX	(108 + 16)	/* "localhost:" and a Unix path */

int	 addr_resolve(const char *, const char *, int, struct addrlist *);
int	 addr_resolve_host(const char *, struct addr *);
void	 addrlist_free(struct addrlist *);
const char *addr_text(const struct addr *, char *, size_t);

#endif
