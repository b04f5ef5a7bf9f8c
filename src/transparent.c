/*
 * transparent.c: transparent proxying, as stunnel does it on Linux.
 *
 * Owns both halves of "transparent =". Source: the connection to the
 * remote side is made from the client's own address, on a socket with
 * IP_TRANSPARENT (IP_FREEBIND when that is refused, as for a daemon
 * without root privileges), bound to the client's port, or to an
 * ephemeral port when that one is taken; an exec'd program instead gets
 * libstunnel.so preloaded, which makes getpeername() on its standard
 * input name the client (REMOTE_HOST and REMOTE_PORT). Destination: the
 * original destination of a REDIRECTed or TPROXYed connection
 * (SO_ORIGINAL_DST) is the target. The routing and firewall rules that
 * make either work are the administrator's. Must never decide which
 * connections are transparent: the service says.
 */
#include "common.h"
#include "transparent.h"
#include "log.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

/*
 * In inetd mode the accepted side may be no socket at all: then there is
 * no client address to connect from. -1 (logged) in that case.
 */
int
transparent_needs_socket(const struct client *c)
{
	if (!(c->svc->transparent & TRANSPARENT_SOURCE))
		return 0;
	log_msg(LOG_ERR, "Transparent source needs a socket");
	return -1;
}

/* a non-local bind: refused without CAP_NET_ADMIN, then FREEBIND */
static void
allow_foreign_bind(int fd)
{
	int on = 1;

	if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof(on)) == 0) {
		log_msg(LOG_INFO, "IP_TRANSPARENT socket option set");
		return;
	}
	log_errno("setsockopt IP_TRANSPARENT");
	/* bind() says whether this was enough */
	if (setsockopt(fd, SOL_IP, IP_FREEBIND, &on, sizeof(on)) == 0)
		log_msg(LOG_INFO, "IP_FREEBIND socket option set");
	else
		log_errno("setsockopt IP_FREEBIND");
}

static void
clear_port(struct addr *a)
{
	if (a->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a->sa)->sin6_port = 0;
	else
		((struct sockaddr_in *)&a->sa)->sin_port = 0;
}

/*
 * Bind FD (of FAMILY), about to connect to the remote side, to the
 * client's address: 0, or -1 after logging why not.
 */
int
transparent_bind(const struct client *c, int fd, int family)
{
	struct addr a = c->peer;

	if (a.sa.ss_family != family) {
		log_msg(LOG_DEBUG, "Cannot assign an AF=%d address an AF=%d "
		    "socket", a.sa.ss_family, family);
		return -1;
	}
	allow_foreign_bind(fd);
	if (bind(fd, (const struct sockaddr *)&a.sa, a.len) == 0) {
		log_msg(LOG_INFO, "bind succeeded on the original port");
		return 0;
	}
	if (errno != EADDRINUSE) {
		log_errno("bind (original port)");
		return -1;
	}
	clear_port(&a);
	if (bind(fd, (const struct sockaddr *)&a.sa, a.len) == 0) {
		log_msg(LOG_INFO, "bind succeeded on an ephemeral port");
		return 0;
	}
	log_errno("bind (ephemeral port)");
	return -1;
}

/*
 * Where the client meant to go before netfilter redirected it to us:
 * 0 with ORIG set, or -1 (logged). A connection that was not redirected
 * has no such address.
 */
int
transparent_destination(const struct client *c, struct addr *orig)
{
	int rc;

	memset(orig, 0, sizeof(*orig));
	orig->len = sizeof(orig->sa);
	if (c->peer.sa.ss_family == AF_INET6)
		rc = getsockopt(c->local_rfd, SOL_IPV6, IP6T_SO_ORIGINAL_DST,
		    &orig->sa, &orig->len);
	else
		rc = getsockopt(c->local_rfd, SOL_IP, SO_ORIGINAL_DST,
		    &orig->sa, &orig->len);
	if (rc < 0) {
		log_errno("getsockopt SO_ORIGINAL_DST");
		return -1;
	}
	return 0;
}

/*
 * In the exec'd program, before exec: with transparent source it sees
 * the client (exported as REMOTE_HOST and REMOTE_PORT) as its peer.
 */
void
transparent_exec_env(const struct service *svc)
{
	if (svc->transparent & TRANSPARENT_SOURCE)
		setenv("LD_PRELOAD", TRANSPARENT_LIBRARY, 1);
}
