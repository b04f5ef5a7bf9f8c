/*
 * client.c: one connection's whole life, in its own process.
 *
 * Owns the order of a connection: its log id, the accept line, then in
 * server mode the TLS handshake before the remote side (connect or
 * exec), in client mode the remote side before the handshake, then the
 * transfer, and one way out: client_finish() writes the closing line
 * ("Connection closed/reset: N byte(s) sent to TLS, M byte(s) sent to
 * socket"), resets or closes every descriptor and frees everything.
 * Must never return to the accept loop.
 */
#include "common.h"
#include "client.h"
#include "exec.h"
#include "ident.h"
#include "libwrap.h"
#include "log.h"
#include "network.h"
#include "protocol.h"
#include "sandbox.h"
#include "sockopt.h"
#include "tls.h"
#include "transfer.h"
#include "transparent.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *
service_name(const struct client *c)
{
	return c->svc->name != NULL ? c->svc->name : "stunnel";
}

/* record the first error: it decides the closing line; -1 if any */
static int
client_error(struct client *c, enum client_error err)
{
	if (c->error == CERR_NONE)
		c->error = err;
	return err == CERR_NONE ? 0 : -1;
}

static void
set_log_id(const struct service *svc, unsigned long seq)
{
	static const char alphabet[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[22];
	char id[32];
	size_t i;

	switch (svc->log_id) {
	case LOGID_UNIQUE:
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			memset(rnd, 0, sizeof(rnd));
		for (i = 0; i < sizeof(rnd); i++)
			id[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
		id[sizeof(rnd)] = '\0';
		break;
	case LOGID_THREAD:
	case LOGID_PROCESS:
		snprintf(id, sizeof(id), "%ld", (long)getpid());
		break;
	default:
		snprintf(id, sizeof(id), "%lu", seq);
		break;
	}
	log_set_id(id);
	log_set_level(svc->debug.level);
}

static void
nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* who is on the other end; then access control; then the accept line */
static int
accept_peer(struct client *c)
{
	c->peer.len = sizeof(c->peer.sa);
	if (getpeername(c->local_rfd, (struct sockaddr *)&c->peer.sa,
	    &c->peer.len) < 0) {
		c->peer.len = 0;
		if (transparent_needs_socket(c) < 0) {
			client_error(c, CERR_RESET);
			return -1;
		}
		log_msg(LOG_NOTICE, "Service [%s] accepted connection",
		    service_name(c));
		return 0;
	}
	addr_text(&c->peer, c->peer_text, sizeof(c->peer_text));
	if (c->peer.sa.ss_family != AF_UNIX &&
	    sockopt_apply(c->local_rfd, SOCK_LOCAL, &c->svc->socket_opts) < 0)
		log_msg(LOG_WARNING, "Failed to set local socket options");
	if (libwrap_check(c) < 0 || ident_check(c) < 0) {
		client_error(c, CERR_RESET);
		return -1;
	}
	log_msg(LOG_NOTICE, "Service [%s] accepted connection from %s",
	    service_name(c), c->peer_text);
	return 0;
}

/*
 * The remote side: the program or the connect target, with the
 * protocol's opening toward it; a redirected client gets the redirect
 * target alone, with nothing said on its behalf.
 */
static int
remote_start(struct client *c)
{
	int rc;

	if (c->redirect)
		rc = net_connect(c);
	else if (c->svc->exec != NULL && !c->exec_local)
		rc = exec_start(c);
	else
		rc = net_connect(c);
	if (rc == 0 && !c->redirect)
		rc = protocol_after_connect(c);
	if (rc < 0)
		client_error(c, CERR_RESET);
	else
		nonblocking(c->remote_fd);
	return rc;
}

/* which descriptors carry TLS: the accepted one in server mode */
static void
assign_sides(struct client *c)
{
	if (c->svc->client) {
		c->tls_rfd = c->tls_wfd = c->remote_fd;
		c->plain_rfd = c->local_rfd;
		c->plain_wfd = c->local_wfd;
	} else {
		c->tls_rfd = c->local_rfd;
		c->tls_wfd = c->local_wfd;
		c->plain_rfd = c->plain_wfd = c->remote_fd;
	}
}

static void
reset_fd(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* the words of the closing line: "closed", "reset", or remote/local */
static const char *
closing_words(const struct client *c, int *reset_remote, int *reset_local)
{
	*reset_remote = *reset_local = 0;
	if (c->error == CERR_NONE || c->error == CERR_QUIET || !c->svc->reset)
		return "closed";
	if (c->error == CERR_TLS_ALERT) {
		*reset_remote = !c->svc->client;
		*reset_local = c->svc->client;
		return c->svc->client ? "closed/reset" : "reset/closed";
	}
	*reset_remote = *reset_local = 1;
	return "reset";
}

/* the only way out of a connection */
static void
client_finish(struct client *c)
{
	int reset_remote, reset_local;
	const char *words = closing_words(c, &reset_remote, &reset_local);

	log_msg(LOG_NOTICE, "Connection %s: %llu byte(s) sent to TLS, "
	    "%llu byte(s) sent to socket", words, c->tls_bytes, c->sock_bytes);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->remote_fd >= 0) {
		if (reset_remote)
			reset_fd(c->remote_fd);
		close(c->remote_fd);
	}
	if (reset_local)
		reset_fd(c->local_rfd);
	close(c->local_rfd);
	if (c->local_wfd != c->local_rfd)
		close(c->local_wfd);
	exec_reap(c);
	log_msg(LOG_DEBUG, "Service [%s] finished", service_name(c));
	c->magic = 0;
}

static int
serve(struct client *c)
{
	if (c->svc->client) {
		/* capwinctrl: the accepted side alone, nothing connected */
		if (protocol_before_tls(c) < 0) {
			client_error(c, CERR_RESET);
			return -1;
		}
		if (remote_start(c) < 0)
			return -1;
		assign_sides(c);
		if (client_error(c, tls_start(c)) < 0)
			return -1;
		return protocol_after_tls(c);
	}
	/* the STARTTLS family relays the backend's greeting first */
	if (protocol_connects_first(c->svc) && remote_start(c) < 0)
		return -1;
	assign_sides(c);
	if (protocol_before_tls(c) < 0) {
		client_error(c, CERR_RESET);
		return -1;
	}
	if (client_error(c, tls_start(c)) < 0)
		return -1;
	/* SOCKS: the client names the remote side inside TLS */
	if (protocol_after_tls(c) < 0)
		return -1;
	if (c->remote_fd >= 0)
		nonblocking(c->remote_fd);
	else if (remote_start(c) < 0)
		return -1;
	assign_sides(c);
	return 0;
}

/* exec+connect: the program stands where an accepted socket would be */
static int
start_local_program(struct client *c)
{
	if (exec_start(c) < 0)
		return -1;
	c->local_rfd = c->local_wfd = c->remote_fd;
	c->remote_fd = -1;
	return 0;
}

/*
 * Serve one connection (the accepted socket, stdin and stdout in inetd
 * mode, or a program of its own for exec+connect). How it ended is in
 * the log; like stunnel, the process itself always ends with status 0.
 */
void
client_main(const struct client_start *start)
{
	struct client c;

	if (start->svc->magic != SERVICE_MAGIC)
		panic("Bad magic");
	memset(&c, 0, sizeof(c));
	c.magic = CLIENT_MAGIC;
	c.g = start->g;
	c.svc = start->svc;
	c.local_rfd = start->rfd;
	c.local_wfd = start->wfd;
	c.remote_fd = -1;
	c.failover_start = start->failover_start;
	c.exec_local = start->rfd < 0;
	set_log_id(c.svc, start->seq);
	log_msg(LOG_DEBUG, "Service [%s] started", service_name(&c));
	if (c.exec_local && start_local_program(&c) < 0)
		return;
	nonblocking(c.local_rfd);
	nonblocking(c.local_wfd);
	if (accept_peer(&c) == 0 && sandbox_enter(&c, SANDBOX_HANDSHAKE) == 0 &&
	    serve(&c) == 0 && sandbox_enter(&c, SANDBOX_TRANSFER) == 0)
		client_error(&c, transfer(&c));
	client_finish(&c);
}
