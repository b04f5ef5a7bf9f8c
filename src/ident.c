/*
 * ident.c: "ident = USERNAME": ask the client's host who connected.
 *
 * Owns the RFC 1413 exchange: connect to the peer's ident service (port
 * 113, "auth"), send "PEER_PORT , OUR_PORT", read one "... : USERID :
 * OS : USER" line within TIMEOUTbusy, and refuse the connection unless
 * USER is the configured name. Must never trust an answer it cannot
 * parse: a malformed or missing answer refuses the connection.
 */
#include "common.h"
#include "ident.h"
#include "io.h"
#include "log.h"
#include "network.h"
#include "util.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int
port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

static int
ident_port(void)
{
	struct servent *se = getservbyname("auth", "tcp");

	if (se == NULL) {
		log_msg(LOG_WARNING, "Unknown service 'auth': using default 113");
		return 113;
	}
	return ntohs((unsigned short)se->s_port);
}

/*
 * "remote , local : USERID : OS : user" -> user, or NULL after logging
 * why not. As strict as stunnel: the type is " USERID " exactly, and
 * only the spaces before the user are cut (a tab or a trailing space is
 * part of a name that then does not match).
 */
static char *
parse_answer(char *line)
{
	char *type, *os, *user = NULL;

	if ((type = strchr(line, ':')) != NULL &&
	    (os = strchr(type + 1, ':')) != NULL) {
		*os = '\0';
		if (strcmp(type + 1, " USERID ") != 0) {
			log_msg(LOG_ERR, "Incorrect IDENT response type");
			return NULL;
		}
		user = strchr(os + 1, ':');
	}
	if (user == NULL) {
		log_msg(LOG_ERR, "Malformed IDENT response");
		return NULL;
	}
	for (user++; *user == ' '; user++)
		continue;
	return user;
}

/*
 * The line exchanged with the ident server: LINE (IO_LINE_MAX bytes)
 * comes from the heap, since a frame that large would have every
 * connection process touch 64 KiB of stack (the compiler probes each
 * page) whether or not the service asks ident. 0 if the server named
 * the configured user.
 */
static int
ask(struct client *c, int fd, const struct sockaddr_storage *local,
    char *line)
{
	const char *user;

	snprintf(line, IO_LINE_MAX, "%d , %d", port_of(&c->peer.sa),
	    port_of(local));
	if (io_putline(c, fd, line, NULL) < 0 ||
	    io_getline(c, fd, line, IO_LINE_MAX) < 0 ||
	    (user = parse_answer(line)) == NULL)
		return -1;
	if (strcmp(user, c->svc->ident) != 0) {
		log_msg(LOG_WARNING, "Connection from %s REFUSED by IDENT "
		    "(user \"%s\")", c->peer_text, user);
		return -1;
	}
	return 0;
}

/* 0 if the peer's user is the configured one, -1 (logged) if not */
int
ident_check(struct client *c)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct addr server;
	char *line;
	int fd, rc;

	CLIENT_CHECK(c);
	if (c->svc->ident == NULL || c->peer.len == 0)
		return 0;
	if (c->peer.sa.ss_family == AF_UNIX) {
		log_msg(LOG_INFO, "IDENT not supported on Unix sockets");
		return 0;
	}
	if (getsockname(c->local_rfd, (struct sockaddr *)&local, &len) < 0) {
		log_errno("getsockname");
		return -1;
	}
	server = c->peer;
	if (server.sa.ss_family == AF_INET)
		((struct sockaddr_in *)&server.sa)->sin_port =
		    htons((unsigned short)ident_port());
	else
		((struct sockaddr_in6 *)&server.sa)->sin6_port =
		    htons((unsigned short)ident_port());
	fd = net_connect_to(c, &server, c->svc->timeout_connect);
	if (fd < 0)
		return -1;
	log_msg(LOG_DEBUG, "IDENT server connected");
	line = xmalloc(IO_LINE_MAX);
	rc = ask(c, fd, &local, line);
	free(line);
	close(fd);
	if (rc == 0)
		log_msg(LOG_INFO, "IDENT authentication passed");
	return rc;
}
