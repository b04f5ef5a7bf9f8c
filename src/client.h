/* client.h: one connection, from accept to the closing log line. */
#ifndef STUNNEL_CLIENT_H
#define STUNNEL_CLIENT_H

#include "log.h"
#include "options.h"
#include <openssl/ssl.h>

#define CLIENT_MAGIC	0x434c4e54u	/* "CLNT" */

/* what went wrong, which decides the word in the closing line */
enum client_error {
	CERR_NONE,	/* "Connection closed" */
	CERR_QUIET,	/* a refusal the peer was told of: "closed" too */
	CERR_RESET,	/* an error: reset both sides when reset = yes */
	CERR_TLS_ALERT	/* a fatal TLS alert was exchanged: spare that side */
};

struct client {
	unsigned	 magic;
	struct service	*svc;
	struct global	*g;

	/* the accepted side: a socket, or stdin/stdout in inetd mode */
	int		 local_rfd;
	int		 local_wfd;
	struct addr	 peer;		/* len 0 when not a socket */
	char		 peer_text[ADDR_TEXT_MAX];

	/* the other side: a connected socket or the exec'd program */
	int		 remote_fd;
	pid_t		 exec_pid;
	unsigned	 failover_start;	/* chosen by the parent for rr */
	int		 exec_local;	/* exec+connect: the program is local */
	int		 redirect;	/* certificate refused: go to "redirect" */
	int		 fatal_alert;	/* a fatal TLS alert was sent or received */
	int		 psk_authenticated; /* by a PSKsecrets key, not a ticket */

	/* which descriptors carry TLS and which plain data */
	SSL		*ssl;
	int		 tls_rfd, tls_wfd;
	int		 plain_rfd, plain_wfd;

	/* milliseconds io_wait() has waited for peers: the handshake and
	 * the negotiations may wait TIMEOUTbusy in total, not per read */
	long long	 busy_waited;

	unsigned long long tls_bytes;	/* written into TLS */
	unsigned long long sock_bytes;	/* written to the plain socket */
	enum client_error error;
};

/* how a connection process starts */
struct client_start {
	struct global	*g;
	struct service	*svc;
	int		 rfd;		/* the accepted side, or -1 for exec+connect */
	int		 wfd;
	unsigned long	 seq;		/* its number in the log */
	unsigned	 failover_start;
};

void	 client_main(const struct client_start *);

/*
 * Each module checks the connection it is handed where it enters (its
 * public functions, and OpenSSL's callbacks through client_of()): a
 * pointer that is not a live connection is a bug, stopped there
 * before it steers TLS or a socket.
 */
#define CLIENT_CHECK(c) do {						\
	if ((c) == NULL || (c)->magic != CLIENT_MAGIC)			\
		panic("%s: bad connection magic", __func__);		\
} while (0)

/*
 * The connection an SSL object belongs to (set by tls.c), or NULL for
 * the one without: ctx.c's warm-up handshake with itself.
 */
static inline struct client *
client_of(const SSL *ssl)
{
	struct client *c = SSL_get_app_data(ssl);

	if (c != NULL)
		CLIENT_CHECK(c);
	return c;
}

#endif
