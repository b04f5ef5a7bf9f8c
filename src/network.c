/*
 * network.c: the remote side of a connection.
 *
 * Owns connecting to a service's targets: the addresses of every
 * "connect" line (resolved now when "delay = yes" or when loading could
 * not), the failover order (priority, or round-robin from the entry the
 * parent chose), the source address ("local", or the client's with
 * transparent source), the original destination instead of the targets
 * with transparent destination, remote socket options and
 * TIMEOUTconnect. Every failure names the target and the reason.
 * Must never read or write connection data.
 */
#include "common.h"
#include "network.h"
#include "log.h"
#include "sockopt.h"
#include "transparent.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Wait until FD is ready for EVENTS, at most MS milliseconds (-1: no
 * limit). Returns 1 when ready, 0 on timeout, -1 on error (logged with
 * WHAT).
 */
int
net_wait(int fd, short events, int ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do {
		rc = poll(&p, 1, ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		log_errno("%s: s_poll_wait", what);
	return rc;
}

static int connect_one(struct client *, const struct addr *, unsigned, int);

static int
set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/*
 * "local": the source address, bound to an ephemeral port. A target of
 * another family is skipped, as stunnel does.
 */
static int
bind_local(struct client *c, int fd, int family)
{
	const struct addr *local = &c->svc->local_addr;

	if (local->sa.ss_family != family) {
		log_msg(LOG_DEBUG, "Cannot assign an AF=%d address an AF=%d "
		    "socket", local->sa.ss_family, family);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&local->sa, local->len) < 0) {
		log_errno("bind (ephemeral port)");
		return -1;
	}
	log_msg(LOG_INFO, "bind succeeded on an ephemeral port");
	return 0;
}

/* the source of a service's own connection: the client's, or "local" */
static int
bind_source(struct client *c, int fd, int family)
{
	if (c->svc->transparent & TRANSPARENT_SOURCE)
		return transparent_bind(c, fd, family);
	if (c->svc->local != NULL)
		return bind_local(c, fd, family);
	return 0;
}

/* a helper connection (ident, OCSP) to A, with TIMEOUT seconds */
int
net_connect_to(struct client *c, const struct addr *a, unsigned timeout)
{
	return connect_one(c, a, timeout, 0);
}

/*
 * One attempt to connect to A within TIMEOUT seconds: the descriptor, or
 * -1 after logging why. REMOTE binds the "local" source address of a
 * service's own targets.
 */
static int
connect_one(struct client *c, const struct addr *a, unsigned timeout,
    int remote)
{
	char text[ADDR_TEXT_MAX];
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	addr_text(a, text, sizeof(text));
	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_errno("remote socket");
		return -1;
	}
	if (remote && bind_source(c, fd, a->sa.ss_family) < 0) {
		close(fd);
		return -1;
	}
	set_nonblocking(fd);
	log_msg(LOG_INFO, "s_connect: connecting %s", text);
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0) {
		log_msg(LOG_INFO, "s_connect: connected %s", text);
		return fd;
	}
	if (errno != EINPROGRESS) {
		log_errno("s_connect: connect %s", text);
		close(fd);
		return -1;
	}
	log_msg(LOG_DEBUG, "s_connect: s_poll_wait %s: waiting %u seconds",
	    text, timeout);
	rc = net_wait(fd, POLLOUT, timeout > INT_MAX / 1000 ? -1 :
	    (int)timeout * 1000, "s_connect");
	if (rc == 0) {
		log_msg(LOG_ERR, "s_connect: s_poll_wait %s: TIMEOUTconnect "
		    "exceeded", text);
		close(fd);
		return -1;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
	    err != 0) {
		errno = err;
		log_errno("s_connect: connect %s", text);
		close(fd);
		return -1;
	}
	log_msg(LOG_NOTICE, "s_connect: connected %s", text);
	return fd;
}

static int
resolve_now(const struct strlist *specs, struct addrlist *out)
{
	size_t i;

	for (i = 0; i < specs->n; i++)
		addr_resolve(specs->v[i], "localhost", 0, out);
	if (out->n == 0) {
		log_msg(LOG_ERR, "No remote host resolved");
		return -1;
	}
	return 0;
}

static void
log_connected(struct client *c, int fd)
{
	struct addr local;
	char text[ADDR_TEXT_MAX];

	local.len = sizeof(local.sa);
	if (getsockname(fd, (struct sockaddr *)&local.sa, &local.len) < 0)
		return;
	log_msg(LOG_NOTICE, "Service [%s] connected remote server from %s",
	    c->svc->name != NULL ? c->svc->name : "stunnel",
	    addr_text(&local, text, sizeof(text)));
}

/* Connect to the first target that answers; 0 on success. */
int
net_connect(struct client *c)
{
	struct addrlist delayed = { 0 }, original = { 0 };
	struct addr dst;
	const struct addrlist *targets = &c->svc->connect_addrs;
	const struct strlist *specs = &c->svc->connect;
	size_t start = 0;
	int rc;

	CLIENT_CHECK(c);
	if (c->redirect) {
		log_msg(LOG_NOTICE, "Redirecting connection");
		targets = &c->svc->redirect_addrs;
		specs = &c->svc->redirect;
	}
	if (!c->redirect && (c->svc->transparent & TRANSPARENT_DESTINATION)) {
		/* the target is where the client meant to go */
		if (transparent_destination(c, &dst) < 0)
			return -1;
		original.v = &dst;
		original.n = 1;
		return net_connect_list(c, &original, 0);
	}
	if (targets->n == 0 || (!c->redirect && c->svc->connect_delayed)) {
		if (resolve_now(specs, &delayed) < 0)
			return -1;
		targets = &delayed;
	}
	if (targets->n > 1) {
		if (c->svc->failover == FAILOVER_RR) {
			start = c->failover_start % targets->n;
			log_msg(LOG_INFO, "failover: round-robin, starting at "
			    "entry #%zu", start);
		} else {
			log_msg(LOG_INFO, "failover: priority, starting at "
			    "entry #0");
		}
	}
	rc = net_connect_list(c, targets, start);
	addrlist_free(&delayed);
	return rc;
}

/* the first of TARGETS, from entry START on, that answers is the remote */
int
net_connect_list(struct client *c, const struct addrlist *targets,
    size_t start)
{
	size_t i;
	int fd = -1;

	for (i = 0; i < targets->n && fd < 0; i++)
		fd = connect_one(c, &targets->v[(start + i) % targets->n],
		    c->svc->timeout_connect, 1);
	if (fd < 0) {
		log_msg(LOG_ERR, "No more addresses to connect");
		return -1;
	}
	log_connected(c, fd);
	/* once connected, as stunnel does (not per attempt) */
	if (sockopt_apply(fd, SOCK_REMOTE, &c->svc->socket_opts) < 0)
		log_msg(LOG_WARNING, "Failed to set remote socket options");
	c->remote_fd = fd;
	return 0;
}
