/* transparent.h: "transparent = source | destination | both" on Linux. */
#ifndef STUNNEL_TRANSPARENT_H
#define STUNNEL_TRANSPARENT_H

#include "client.h"

/* the preloaded library an exec'd program gets with transparent source */
#ifndef LIBDIR
#define LIBDIR			"/usr/local/lib/stunnel"
#endif
#define TRANSPARENT_LIBRARY	LIBDIR "/libstunnel.so"

int	 transparent_needs_socket(const struct client *);
int	 transparent_bind(const struct client *, int, int);
int	 transparent_destination(const struct client *, struct addr *);
void	 transparent_exec_env(const struct service *);

#endif
