/*
 * protocol.c: "protocol =": which negotiation speaks when.
 *
 * Owns the table from a section's protocol to its steps (protocol.h says
 * when each runs) and the two protocols that are a single message:
 * "proxy" (server mode: the HAProxy PROXY v1 line that tells the backend
 * who the client is, sent before any client data) and "pgsql" (the
 * PostgreSQL SSLRequest, both sides). The dialogues live in a file each:
 * starttls.c, httpconn.c, socks.c, ldap.c, cifs.c, capwin.c.
 * Must never send client data itself.
 */
#include "common.h"
#include "protocol.h"
#include "capwin.h"
#include "cifs.h"
#include "httpconn.h"
#include "io.h"
#include "ldap.h"
#include "log.h"
#include "socks.h"
#include "starttls.h"

#include <netdb.h>
#include <sys/socket.h>

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
	return io_write(c, c->remote_fd, line, (size_t)len);
}



static const unsigned char pgsql_ssl_request[8] = {
	0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f	/* length 8, code 80877103 */
};

/* PostgreSQL client side: SSLRequest, then the server's 'S' */
static int
pgsql_client(struct client *c)
{
	unsigned char answer;

	if (io_write(c, c->remote_fd, pgsql_ssl_request,
	    sizeof(pgsql_ssl_request)) < 0)
		return -1;
	if (io_read(c, c->remote_fd, &answer, 1) < 0)
		return -1;
	if (answer != 'S') {
		log_msg(LOG_ERR, "PostgreSQL server rejected TLS");
		return -1;
	}
	return 0;
}

static const unsigned char pgsql_gssenc_request[8] = {
	0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30	/* length 8, code 80877104 */
};

/* an ErrorResponse: severity ERROR, SQLSTATE XX000, and the message */
static const char pgsql_ssl_expected[] =
    "E\0\0\0\x3d" "SERROR\0" "CXX000\0"
    "MSSL expected but not requested by client\0";

/*
 * PostgreSQL server side, before TLS: the client's SSLRequest gets 'S';
 * a GSSENCRequest gets the error stunnel answers it with, and the
 * connection is closed
 */
static int
pgsql_server(struct client *c)
{
	unsigned char request[8];

	log_msg(LOG_DEBUG, "Started server-side psql protocol negotiation");
	if (io_read(c, c->local_rfd, request, sizeof(request)) < 0)
		return -1;
	if (memcmp(request, pgsql_gssenc_request, sizeof(request)) == 0) {
		log_msg(LOG_INFO, "GSSAPI encryption requested, rejecting "
		    "gracefully");
		/* sizeof includes the NUL that ends the message's fields */
		if (io_write(c, c->local_wfd, pgsql_ssl_expected,
		    sizeof(pgsql_ssl_expected)) < 0)
			return -1;
		c->error = CERR_QUIET;
		return -1;
	}
	if (memcmp(request, pgsql_ssl_request, sizeof(request)) != 0) {
		log_msg(LOG_ERR, "PostgreSQL client did not request TLS, "
		    "rejecting");
		return -1;
	}
	log_msg(LOG_DEBUG, "SSLRequest received");
	return io_write(c, c->local_wfd, "S", 1);
}


static const struct protocol_def proxy = {
	.server = { .after_connect = send_proxy_header }
};

static const struct protocol_def pgsql = {
	.server = { .before_tls = pgsql_server },
	.client = { .after_connect = pgsql_client }
};

static const struct protocol_def *
lookup(const struct service *svc)
{
	switch (svc->protocol) {
	case PROTO_CIFS:
		return &cifs_protocol;
	case PROTO_CAPWIN:
		return &capwin_protocol;
	case PROTO_CAPWINCTRL:
		return &capwin_ctrl_protocol;
	case PROTO_CONNECT:
		return &httpconn_connect;
	case PROTO_IMAP:
		return &starttls_imap;
	case PROTO_LDAP:
		return &ldap_protocol;
	case PROTO_NNTP:
		return &starttls_nntp;
	case PROTO_PGSQL:
		return &pgsql;
	case PROTO_POP3:
		return &starttls_pop3;
	case PROTO_PROXY:
		return &proxy;
	case PROTO_SMTP:
		return &starttls_smtp;
	case PROTO_SOCKS:
		return &socks_protocol;
	default:
		return NULL;
	}
}

enum step { BEFORE_TLS, AFTER_TLS, AFTER_CONNECT };

/* STEP of the section's protocol, on its side; 0 where it has none */
static int
run(struct client *c, enum step step)
{
	const struct protocol_def *p;
	const struct protocol_steps *s;
	int (*fn)(struct client *);

	CLIENT_CHECK(c);
	p = lookup(c->svc);
	if (p == NULL)
		return 0;
	s = c->svc->client ? &p->client : &p->server;
	fn = step == BEFORE_TLS ? s->before_tls : step == AFTER_TLS ?
	    s->after_tls : s->after_connect;
	return fn != NULL ? fn(c) : 0;
}

/* server mode: does the protocol talk to the backend before TLS? */
int
protocol_connects_first(const struct service *svc)
{
	const struct protocol_def *p = lookup(svc);

	return !svc->client && p != NULL && p->connects_first;
}

int
protocol_before_tls(struct client *c)
{
	return run(c, BEFORE_TLS);
}

int
protocol_after_tls(struct client *c)
{
	return run(c, AFTER_TLS);
}

int
protocol_after_connect(struct client *c)
{
	return run(c, AFTER_CONNECT);
}
