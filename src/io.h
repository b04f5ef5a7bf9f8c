/* io.h: bounded reads and writes for negotiations, plain or inside TLS. */
#ifndef STUNNEL_IO_H
#define STUNNEL_IO_H

#include "client.h"

/* a line buffer: stunnel reads lines of up to 65536 characters */
#define IO_LINE_MAX	(65536 + 1)

/* the descriptor argument that means "inside TLS" (c->ssl) */
#define IO_TLS		(-2)

int	 io_wait(struct client *, int, short, const char *);
ssize_t	 io_read_some(struct client *, int, void *, size_t);
int	 io_read(struct client *, int, void *, size_t);
int	 io_write(struct client *, int, const void *, size_t);
int	 io_getline(struct client *, int, char *, size_t);
int	 io_putline(struct client *, int, const char *, const char *);
int	 io_putline_base64(struct client *, int, const char *, const void *,
	    size_t, int);

#endif
