/*
 * protocol.c: "protocol =" negotiations.
 *
 * Owns what is said on the plain side around the TLS handshake. So far
 * only "proxy" (server mode): the HAProxy PROXY v1 line that tells the
 * backend who the client is, sent before any client data. The STARTTLS
 * family, connect, socks, pgsql, ldap and cifs are still to be written
 * (validate.c says so at start-up). Must never send client data itself.
 */
#include "common.h"
#include "protocol.h"
#include "log.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

static int
numeric(const struct sockaddr_storage *sa, socklen_t len, char *host,
    size_t hlen, char *port, size_t plen)
{
	int rc = getnameinfo((const struct sockaddr *)sa, len, host,
	    (socklen_t)hlen, port, (socklen_t)plen,
	    NI_NUMERICHOST | NI_NUMERICSERV);

	if (rc != 0)
		log_msg(LOG_ERR, "getnameinfo: %s", gai_strerror(rc));
	return rc == 0 ? 0 : -1;
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n" to the backend */
static int
send_proxy_header(struct client *c)
{
	struct sockaddr_storage dst;
	socklen_t dlen = sizeof(dst);
	char shost[NI_MAXHOST], sport[NI_MAXSERV], dhost[NI_MAXHOST];
	char dport[NI_MAXSERV], line[256];
	const char *family;
	int len;

	if (getsockname(c->local_rfd, (struct sockaddr *)&dst, &dlen) < 0) {
		log_errno("getsockname");
		return -1;
	}
	if (c->peer.len == 0 || (c->peer.sa.ss_family != AF_INET &&
	    c->peer.sa.ss_family != AF_INET6)) {
		len = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		if (numeric(&c->peer.sa, c->peer.len, shost, sizeof(shost),
		    sport, sizeof(sport)) < 0 || numeric(&dst, dlen, dhost,
		    sizeof(dhost), dport, sizeof(dport)) < 0)
			return -1;
		family = c->peer.sa.ss_family == AF_INET ? "TCP4" : "TCP6";
		len = snprintf(line, sizeof(line), "PROXY %s %s %s %s %s\r\n",
		    family, shost, dhost, sport, dport);
	}
	log_msg(LOG_DEBUG, " -> %.*s", len - 2, line);
	if (write(c->remote_fd, line, (size_t)len) != len) {
		log_errno("s_write: writesocket");
		return -1;
	}
	return 0;
}

/* the remote side is connected; say what the protocol says first */
int
protocol_after_connect(struct client *c)
{
	if (c->svc->protocol == PROTO_PROXY && !c->svc->client)
		return send_proxy_header(c);
	return 0;
}
