/*
 * protocol.c: "protocol =" negotiations.
 *
 * Owns what is said on the plain side around the TLS handshake. So far
 * "proxy" (server mode: the HAProxy PROXY v1 line that tells the backend
 * who the client is, sent before any client data) and, in client mode,
 * "connect" (an HTTP CONNECT through a proxy, with basic authentication)
 * and the STARTTLS of smtp, pop3, imap and nntp (the server's greeting
 * passed to the plain client, as stunnel 5.75 does); in server mode, the
 * STARTTLS dialogue of smtp, pop3 and imap with the client (the backend's
 * greeting, relayed with stunnel's marks); "pgsql" on both sides. The
 * SOCKS server and client are socks.c's; ldap, cifs and capwin are still
 * to be written (validate.c says so at start-up). Lines are read and
 * written as stunnel's helpers do (its limits, timeouts and log words).
 * Must never send client data itself.
 */
#include "common.h"
#include "protocol.h"
#include "log.h"

#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "network.h"
#include "util.h"

#define LINE_MAX_LEN	65536	/* stunnel's "Line too long" */

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

/*
 * Up to LEN bytes from FD within TIMEOUTbusy, as stunnel's s_read_eof():
 * the count, 0 at EOF, -1 after logging why not
 */
static ssize_t
read_eof(struct client *c, int fd, void *buf, size_t len)
{
	ssize_t n;
	int rc;

	for (;;) {
		rc = net_wait(fd, POLLIN, c->svc->timeout_busy, "s_read_eof");
		if (rc == 0)
			log_msg(LOG_INFO, "s_read_eof: s_poll_wait: TIMEOUTbusy "
			    "exceeded: sending reset");
		if (rc <= 0)
			return -1;
		n = read(fd, buf, len);
		if (n > 0)
			return n;
		if (n == 0) {
			log_msg(LOG_DEBUG, "s_read_eof: EOF");
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN) {
			log_errno("s_read_eof: readsocket");
			return -1;
		}
	}
}

/* exactly LEN bytes from FD, or -1 after logging why not */
static int
read_exact(struct client *c, int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read_eof(c, fd, (char *)buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0) {
			log_msg(LOG_ERR, "s_read: Received %zu out of requested "
			    "%zu byte(s)", got, len);
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* all LEN bytes to FD within TIMEOUTbusy, as stunnel's s_write() */
static int
write_all(struct client *c, int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;
	int rc;

	while (done < len) {
		rc = net_wait(fd, POLLOUT, c->svc->timeout_busy, "s_write");
		if (rc == 0)
			log_msg(LOG_INFO, "s_write: s_poll_wait: TIMEOUTbusy "
			    "exceeded: sending reset");
		if (rc <= 0)
			return -1;
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			log_errno("s_write: writesocket");
			return -1;
		}
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

/*
 * LINE and CRLF to FD in one write (peers that read a reply with one
 * read() must get all of it); LOGGED is what the log may show of LINE
 */
static int
put_line(struct client *c, int fd, const char *line, const char *logged)
{
	size_t len = strlen(line);
	char *buf = xmalloc(len + 2);
	int rc;

	log_msg(LOG_DEBUG, " -> %s", logged != NULL ? logged : line);
	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	rc = write_all(c, fd, buf, len + 2);
	OPENSSL_cleanse(buf, len + 2);	/* it may hold credentials */
	free(buf);
	return rc;
}

/*
 * One line from FD, a byte at a time (no read-ahead), as stunnel reads
 * it: it ends at LF or NUL, and every CR is dropped
 */
static int
get_line(struct client *c, int fd, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	for (;;) {
		if (read_exact(c, fd, &ch, 1) < 0)
			return -1;
		if (ch == '\n' || ch == '\0')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 >= len) {
			log_msg(LOG_ERR, "fd_getline: Line too long");
			return -1;
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
	log_msg(LOG_DEBUG, " <- %s", buf);
	return 0;
}

/* does LINE start with PREFIX (exactly, or whatever the case) */
static int
is_prefix(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

static int
is_prefix_ci(const char *line, const char *prefix)
{
	return strncasecmp(line, prefix, strlen(prefix)) == 0;
}

/* "Proxy-Authorization: basic BASE64" to the proxy, kept out of the log */
static int
proxy_authorization(struct client *c)
{
	const struct service *svc = c->svc;
	char creds[512], line[1024];
	unsigned char b64[700];
	int rc;

	snprintf(creds, sizeof(creds), "%s:%s", svc->protocol_username,
	    svc->protocol_password);
	EVP_EncodeBlock(b64, (const unsigned char *)creds, (int)strlen(creds));
	snprintf(line, sizeof(line), "Proxy-Authorization: basic %s",
	    (char *)b64);
	rc = put_line(c, c->remote_fd, line, "Proxy-Authorization: basic *");
	OPENSSL_cleanse(creds, sizeof(creds));
	OPENSSL_cleanse(b64, sizeof(b64));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/*
 * Client side of HTTP CONNECT (RFC 2817) through the configured proxy,
 * in stunnel 5.75's order: CONNECT, Host, Proxy-Authorization, the
 * protocolHeader lines. The answer's headers are read to the empty line
 * whatever the status, which is judged (and logged) first.
 */
static int
http_connect(struct client *c)
{
	const struct service *svc = c->svc;
	char line[LINE_MAX_LEN];
	size_t i;
	int ok;

	snprintf(line, sizeof(line), "CONNECT %s HTTP/1.1", svc->protocol_host);
	if (put_line(c, c->remote_fd, line, NULL) < 0)
		return -1;
	snprintf(line, sizeof(line), "Host: %s", svc->protocol_host);
	if (put_line(c, c->remote_fd, line, NULL) < 0)
		return -1;
	if (svc->protocol_auth != NULL &&
	    strcasecmp(svc->protocol_auth, "basic") != 0) {
		log_msg(LOG_ERR, "NTLM authentication is not available");
		return -1;
	}
	if (svc->protocol_username != NULL && svc->protocol_password != NULL &&
	    proxy_authorization(c) < 0)
		return -1;
	for (i = 0; i < svc->protocol_header.n; i++)
		if (put_line(c, c->remote_fd, svc->protocol_header.v[i],
		    NULL) < 0)
			return -1;
	if (put_line(c, c->remote_fd, "", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	ok = is_prefix_ci(line, "HTTP/1.0 2") || is_prefix_ci(line, "HTTP/1.1 2");
	if (ok)
		log_msg(LOG_INFO, "CONNECT request accepted");
	else
		log_msg(LOG_ERR, "CONNECT request rejected");
	do {		/* the headers of the answer, up to the empty line */
		if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	} while (line[0] != '\0');
	return ok ? 0 : -1;
}

/*
 * Client mode STARTTLS, as stunnel 5.75 does it: the server's greeting
 * is checked and passed to the plain client (smtp, pop3, nntp: its
 * lines; imap: a greeting of its own), then TLS is asked for.
 */

/* RFC 3207: every greeting line passed on unchecked, EHLO, STARTTLS */
static int
smtp_client(struct client *c)
{
	char line[LINE_MAX_LEN];
	const char *name = c->svc->protocol_host != NULL ?
	    c->svc->protocol_host : "localhost";

	do {	/* "220-" lines continue the greeting */
		if (get_line(c, c->remote_fd, line, sizeof(line)) < 0 ||
		    put_line(c, c->local_wfd, line, NULL) < 0)
			return -1;
	} while (is_prefix(line, "220-"));
	snprintf(line, sizeof(line), "EHLO %s", name);
	if (put_line(c, c->remote_fd, line, NULL) < 0)
		return -1;
	do {
		if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	} while (is_prefix(line, "250-"));
	if (!is_prefix(line, "250 ")) {
		log_msg(LOG_ERR, "Remote server is not RFC 1425 compliant");
		return -1;
	}
	if (put_line(c, c->remote_fd, "STARTTLS", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix(line, "220 ")) {
		log_msg(LOG_ERR, "Remote server is not RFC 2487 compliant");
		return -1;
	}
	return 0;
}

/* RFC 2595: POP3 STLS */
static int
pop3_client(struct client *c)
{
	char line[LINE_MAX_LEN];

	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "+OK ")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (put_line(c, c->local_wfd, line, NULL) < 0 ||
	    put_line(c, c->remote_fd, "STLS", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "+OK ")) {
		log_msg(LOG_ERR, "Server does not support TLS");
		return -1;
	}
	return 0;
}

/*
 * RFC 2595: IMAP STARTTLS. A server that refuses it is no error of the
 * connection: the client is told why and the connection closed.
 */
static int
imap_client(struct client *c)
{
	char line[LINE_MAX_LEN];

	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "* OK")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (put_line(c, c->local_wfd, "* OK Connected.", NULL) < 0 ||
	    put_line(c, c->remote_fd, "stunnel STARTTLS", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "stunnel OK")) {
		put_line(c, c->local_wfd,
		    "* BYE stunnel: Server does not support TLS", NULL);
		log_msg(LOG_ERR, "Server does not support TLS");
		c->error = CERR_QUIET;
		return -1;
	}
	return 0;
}

/* RFC 4642: NNTP STARTTLS */
static int
nntp_client(struct client *c)
{
	char line[LINE_MAX_LEN];

	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix(line, "200 ") && !is_prefix(line, "201 ")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (put_line(c, c->local_wfd, line, NULL) < 0 ||
	    put_line(c, c->remote_fd, "STARTTLS", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix(line, "382 ")) {
		log_msg(LOG_ERR, "Server does not support TLS");
		return -1;
	}
	return 0;
}

static const unsigned char pgsql_ssl_request[8] = {
	0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f	/* length 8, code 80877103 */
};

/* PostgreSQL client side: SSLRequest, then the server's 'S' */
static int
pgsql_client(struct client *c)
{
	unsigned char answer;

	if (write_all(c, c->remote_fd, pgsql_ssl_request,
	    sizeof(pgsql_ssl_request)) < 0)
		return -1;
	if (read_exact(c, c->remote_fd, &answer, 1) < 0)
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
	if (read_exact(c, c->local_rfd, request, sizeof(request)) < 0)
		return -1;
	if (memcmp(request, pgsql_gssenc_request, sizeof(request)) == 0) {
		log_msg(LOG_INFO, "GSSAPI encryption requested, rejecting "
		    "gracefully");
		/* sizeof includes the NUL that ends the message's fields */
		if (write_all(c, c->local_wfd, pgsql_ssl_expected,
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
	return write_all(c, c->local_wfd, "S", 1);
}

/*
 * Server side of the STARTTLS family: a client that sends something at
 * once speaks TLS already (smtps, imaps); one that waits gets the
 * dialogue. 1: the dialogue, 0: TLS at once, -1: error.
 */
static int
client_waits(struct client *c, const char *rfc)
{
	struct pollfd p = { .fd = c->local_rfd, .events = POLLIN };

	switch (poll(&p, 1, 200)) {
	case 0:
		log_msg(LOG_DEBUG, "RFC %s detected", rfc);
		return 1;
	case 1:
		log_msg(LOG_DEBUG, "RFC %s not detected", rfc);
		return 0;
	default:
		log_errno("RFC%s (s_poll_wait)", rfc);
		return -1;
	}
}

/*
 * The backend's greeting passed on as stunnel 5.75 rewrites it: its first
 * line "220 HOST TEXT" as "220 HOST stunnel for TEXT" ("220 HOST stunnel"
 * without TEXT; "220-" keeps its dash), the lines a "220-" continues
 * unchanged; then EHLO is answered for the backend's HOST.
 */
static int
smtp_server(struct client *c)
{
	char line[LINE_MAX_LEN], host[LINE_MAX_LEN];
	char out[2 * LINE_MAX_LEN + 32];
	const char *sp;
	int rc = client_waits(c, "2487");

	if (rc <= 0)
		return rc;
	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix(line, "220 ") && !is_prefix(line, "220-")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	sp = strchr(line + 4, ' ');
	snprintf(host, sizeof(host), "%.*s", sp != NULL ?
	    (int)(sp - (line + 4)) : (int)strlen(line + 4), line + 4);
	if (sp != NULL)
		snprintf(out, sizeof(out), "%.4s%s stunnel for %s", line, host,
		    sp + 1);
	else
		snprintf(out, sizeof(out), "%.4s%s stunnel", line, host);
	if (put_line(c, c->local_wfd, out, NULL) < 0)
		return -1;
	while (is_prefix(line, "220-"))
		if (get_line(c, c->remote_fd, line, sizeof(line)) < 0 ||
		    put_line(c, c->local_wfd, line, NULL) < 0)
			return -1;
	if (get_line(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "EHLO ")) {
		log_msg(LOG_ERR, "Unknown client EHLO");
		return -1;
	}
	snprintf(out, sizeof(out), "250-%s", host);
	if (put_line(c, c->local_wfd, out, NULL) < 0 ||
	    put_line(c, c->local_wfd, "250 STARTTLS", NULL) < 0 ||
	    get_line(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "STARTTLS")) {
		log_msg(LOG_ERR, "STARTTLS expected");
		return -1;
	}
	return put_line(c, c->local_wfd, "220 Go ahead", NULL);
}

/* the backend's greeting, whatever it says (as stunnel 5.75), + stunnel */
static int
pop3_server(struct client *c)
{
	char line[LINE_MAX_LEN], out[LINE_MAX_LEN + 16];

	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	snprintf(out, sizeof(out), "%s + stunnel", line);
	if (put_line(c, c->local_wfd, out, NULL) < 0 ||
	    get_line(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (strncasecmp(line, "CAPA", 4) == 0) {	/* RFC 2449 */
		if (put_line(c, c->local_wfd, "+OK Stunnel capability list follows",
		    NULL) < 0 || put_line(c, c->local_wfd, "STLS", NULL) < 0 ||
		    put_line(c, c->local_wfd, ".", NULL) < 0 ||
		    get_line(c, c->local_rfd, line, sizeof(line)) < 0)
			return -1;
	}
	if (strncasecmp(line, "STLS", 4) != 0) {
		log_msg(LOG_ERR, "Client does not want TLS");
		return -1;
	}
	return put_line(c, c->local_wfd, "+OK Stunnel starts TLS negotiation",
	    NULL);
}

/*
 * IMAP CAPABILITY through to the backend, as stunnel 5.75 relays it: an
 * untagged first answer gets " STARTTLS" added, and the next line must
 * be an OK (its second word). 0; 1 when it is not (the client told
 * why); -1 on a failure to read or write.
 */
static int
imap_capability(struct client *c, const char *request)
{
	char line[LINE_MAX_LEN], out[LINE_MAX_LEN + 16];
	const char *sp;

	if (put_line(c, c->remote_fd, request, NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (line[0] == '*') {
		snprintf(out, sizeof(out), "%s STARTTLS", line);
		if (put_line(c, c->local_wfd, out, NULL) < 0 ||
		    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	}
	if (put_line(c, c->local_wfd, line, NULL) < 0)
		return -1;
	sp = strchr(line, ' ');
	if (sp == NULL || !is_prefix_ci(sp + 1, "OK")) {
		put_line(c, c->local_wfd, "* BYE unexpected server response",
		    NULL);
		log_msg(LOG_ERR, "Unexpected server response: %s", line);
		return 1;
	}
	return 0;
}

/*
 * The backend is told the connection ends: "stunnel LOGOUT", and its
 * answer read (an untagged BYE and one line more). A refusal the client
 * was told of ends as "Connection closed", as in stunnel.
 */
static int
imap_logout(struct client *c)
{
	char line[LINE_MAX_LEN];

	if (put_line(c, c->remote_fd, "stunnel LOGOUT", NULL) < 0 ||
	    get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (line[0] == '*' && get_line(c, c->remote_fd, line,
	    sizeof(line)) < 0)
		return -1;
	c->error = CERR_QUIET;
	return -1;
}

/*
 * RFC 2595 server side: the greeting's capabilities are hidden
 * ("[KAPABILITY"), CAPABILITY is asked of the backend with STARTTLS
 * added, STARTTLS starts TLS; any other command (or a line without a
 * tag) ends the dialogue with the backend's LOGOUT.
 */
static int
imap_server(struct client *c)
{
	char line[LINE_MAX_LEN], out[2 * LINE_MAX_LEN + 32], *cap, *tail;
	int rc = client_waits(c, "2595");

	if (rc <= 0)
		return rc;
	if (get_line(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!is_prefix_ci(line, "* OK")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if ((cap = strcasestr(line, "[CAPABILITY")) != NULL)
		cap[1] = 'K';
	snprintf(out, sizeof(out), "%s (stunnel)", line);
	if (put_line(c, c->local_wfd, out, NULL) < 0)
		return -1;
	for (;;) {
		if (get_line(c, c->local_rfd, line, sizeof(line)) < 0)
			return -1;
		if ((tail = strchr(line, ' ')) == NULL)
			break;
		*tail++ = '\0';	/* line is the tag now */
		if (is_prefix_ci(tail, "CAPABILITY")) {
			tail[-1] = ' ';
			if ((rc = imap_capability(c, line)) < 0)
				return -1;
			if (rc > 0)
				break;
			continue;
		}
		if (is_prefix_ci(tail, "STARTTLS")) {
			snprintf(out, sizeof(out), "%s OK Begin TLS negotiation "
			    "now", line);
			return put_line(c, c->local_wfd, out, NULL);
		}
		put_line(c, c->local_wfd, "* BYE stunnel: unexpected command",
		    NULL);
		snprintf(out, sizeof(out), "%s BAD %s unexpected", line, tail);
		put_line(c, c->local_wfd, out, NULL);
		log_msg(LOG_ERR, "Unexpected client command %s", tail);
		break;
	}
	return imap_logout(c);
}

/* server mode: does the protocol talk to the backend before TLS? */
int
protocol_connects_first(const struct service *svc)
{
	return !svc->client && (svc->protocol == PROTO_SMTP ||
	    svc->protocol == PROTO_POP3 || svc->protocol == PROTO_IMAP);
}

/*
 * Server mode, before TLS: what the accepted side is told (with the
 * backend already connected when protocol_connects_first() says so).
 */
int
protocol_before_tls(struct client *c)
{
	if (c->svc->client)
		return 0;
	switch (c->svc->protocol) {
	case PROTO_PGSQL:
		return pgsql_server(c);
	case PROTO_SMTP:
		return smtp_server(c);
	case PROTO_POP3:
		return pop3_server(c);
	case PROTO_IMAP:
		return imap_server(c);
	default:
		return 0;
	}
}

/* the remote side is connected; say what the protocol says first */
int
protocol_after_connect(struct client *c)
{
	if (!c->svc->client)
		return c->svc->protocol == PROTO_PROXY ? send_proxy_header(c) : 0;
	switch (c->svc->protocol) {
	case PROTO_CONNECT:
		return http_connect(c);
	case PROTO_SMTP:
		return smtp_client(c);
	case PROTO_POP3:
		return pop3_client(c);
	case PROTO_IMAP:
		return imap_client(c);
	case PROTO_NNTP:
		return nntp_client(c);
	case PROTO_PGSQL:
		return pgsql_client(c);
	default:
		return 0;
	}
}
