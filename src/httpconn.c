/*
 * httpconn.c: "protocol = connect", HTTP CONNECT (RFC 2817).
 *
 * Owns both sides, in stunnel 5.75's order and words.
 * Client mode: asking an HTTP proxy for a tunnel to protocolHost, with
 * basic authentication, or NTLM (ntlm.c builds the messages): the
 * request carries "Proxy-Connection: keep-alive" and the type 1
 * message; the proxy must answer 407 with "Proxy-Authenticate: NTLM
 * <type 2>" (its Content-Length body is skipped); the request is sent
 * again with the type 3 message and the protocolHeader lines.
 * Credentials never reach the log.
 * Server mode: the section is an HTTP proxy in front of TLS. On the plain
 * accepted connection, before the handshake, the client's "CONNECT
 * HOST:PORT HTTP/x" and its headers are read; the answer is "HTTP/1.0
 * 200 OK", "400 Bad Request Method" (not CONNECT), "400 Bad Request
 * Protocol" (no " HTTP/" after the destination) or "404 Not Found" (the
 * destination does not resolve), with "Server: stunnel/5.75", and a
 * refusal resets the connection. After the handshake the destination is
 * connected instead of "connect" (which 5.75 requires all the same;
 * "exec" takes precedence over the destination). As in 5.75, nothing
 * restricts the destination: loopback addresses, and a Unix socket
 * named by its path, are allowed.
 * Must never send client data itself.
 */
#include "common.h"
#include "httpconn.h"
#include "addr.h"
#include "io.h"
#include "log.h"
#include "network.h"
#include "ntlm.h"
#include "util.h"

#include <ctype.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define BODY_CHUNK	8192	/* 5.75 skips a body in reads of this size */

/* the server side's destination, from request to connection: each
 * connection is a process of its own */
static struct addrlist destination;

/*
 * TEXT decoded as 5.75 decodes the proxy's challenge: whole groups of
 * four characters, up to the padding; a character out of the alphabet
 * anywhere gives nothing. -1 if OpenSSL could not make its BIOs.
 */
static int
b64_decode(const char *text, unsigned char **out, size_t *len)
{
	size_t size = strlen(text) + 1;
	BIO *mem = BIO_new_mem_buf(text, -1), *b64 = BIO_new(BIO_f_base64());
	int n;

	if (mem == NULL || b64 == NULL) {
		BIO_free(mem);
		BIO_free(b64);
		return -1;
	}
	BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
	BIO_push(b64, mem);
	*out = xmalloc(size);
	*len = 0;
	while (*len < size && (n = BIO_read(b64, *out + *len,
	    (int)(size - *len))) > 0)
		*len += (size_t)n;
	BIO_free_all(b64);
	return 0;
}

/* "Proxy-Authorization: basic BASE64" to the proxy, kept out of the log */
static int
basic_login(struct client *c)
{
	const struct service *svc = c->svc;
	char *creds;
	int rc;

	creds = xasprintf("%s:%s", svc->protocol_username,
	    svc->protocol_password);
	rc = io_putline_base64(c, c->remote_fd, "Proxy-Authorization: basic ",
	    creds, strlen(creds), 1);
	OPENSSL_cleanse(creds, strlen(creds));
	free(creds);
	return rc;
}

/* the headers of an answer, up to the empty line */
static int
skip_headers(struct client *c)
{
	char line[IO_LINE_MAX];

	do {
		if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	} while (line[0] != '\0');
	return 0;
}

/*
 * A Content-Length value as 5.75 takes it (strtol's): blanks and a sign
 * before the digits, blanks after; -1 if it is not a length
 */
static int
content_length(const char *text, long *length)
{
	char *end;

	*length = strtol(text, &end, 10);
	if (end == text)
		return -1;
	while (*end != '\0' && isspace((unsigned char)*end))
		end++;
	return *end != '\0' || *length < 0 ? -1 : 0;
}

/* skip LENGTH bytes of body */
static int
skip_body(struct client *c, long length)
{
	char buf[BODY_CHUNK];
	size_t n;

	while (length > 0) {
		n = length < BODY_CHUNK ? (size_t)length : BODY_CHUNK;
		if (io_read(c, c->remote_fd, buf, n) < 0)
			return -1;
		length -= (long)n;
	}
	return 0;
}

/*
 * The proxy's answer to the type 1 message: 407, with the type 2
 * message (the last "Proxy-Authenticate: NTLM" header) into *TYPE2 and
 * the body skipped
 */
static int
read_challenge(struct client *c, char **type2)
{
	char line[IO_LINE_MAX];
	long length = 0;

	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "HTTP/1.0 407") &&
	    !str_prefix_ci(line, "HTTP/1.1 407")) {
		log_msg(LOG_ERR, "Proxy-Authenticate: NTLM authorization "
		    "request rejected");
		skip_headers(c);
		return -1;
	}
	do {
		if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
		if (str_prefix_ci(line, "Proxy-Authenticate: NTLM ")) {
			free(*type2);
			*type2 = xstrdup(line + 25);
		} else if (str_prefix_ci(line, "Content-Length: ") &&
		    content_length(line + 16, &length) < 0) {
			log_msg(LOG_ERR, "Proxy-Authenticate: Invalid "
			    "Content-Length");
			return -1;
		}
	} while (line[0] != '\0');
	if (*type2 == NULL) {
		log_msg(LOG_ERR, "Proxy-Authenticate: NTLM header not found");
		return -1;
	}
	return skip_body(c, length);
}

/* "Proxy-Authorization: NTLM <type 3>", answering TYPE2 (base64) */
static int
send_response(struct client *c, const char *type2)
{
	const struct service *svc = c->svc;
	unsigned char challenge[NTLM_CHALLENGE_LEN], *msg, *type3 = NULL;
	size_t len, type3_len = 0;
	int rc;

	if (b64_decode(type2, &msg, &len) == 0) {
		ntlm_challenge(msg, len, challenge);
		free(msg);
		type3 = ntlm_authenticate(challenge, svc->protocol_domain != NULL ?
		    svc->protocol_domain : "", svc->protocol_username,
		    svc->protocol_password, &type3_len);
	}
	if (type3 == NULL) {
		log_msg(LOG_ERR, "Proxy-Authenticate: Failed to build NTLM "
		    "response");
		return -1;
	}
	rc = io_putline_base64(c, c->remote_fd, "Proxy-Authorization: NTLM ",
	    type3, type3_len, 1);
	OPENSSL_cleanse(type3, type3_len);
	free(type3);
	return rc;
}

/*
 * NTLM: the type 1 message (no secret: logged as sent), the challenge,
 * then the request again, this time with the type 3 message
 */
static int
ntlm_login(struct client *c)
{
	const char *host = c->svc->protocol_host;
	const unsigned char *type1;
	char *line, *type2 = NULL;
	size_t len;
	int rc;

	if (!ntlm_available()) {
		log_msg(LOG_ERR, "NTLM authentication is not available");
		return -1;
	}
	if (io_putline(c, c->remote_fd, "Proxy-Connection: keep-alive",
	    NULL) < 0)
		return -1;
	type1 = ntlm_negotiate(&len);
	rc = io_putline_base64(c, c->remote_fd, "Proxy-Authorization: NTLM ",
	    type1, len, 0);
	if (rc < 0 || io_putline(c, c->remote_fd, "", NULL) < 0 ||
	    read_challenge(c, &type2) < 0) {
		free(type2);
		return -1;
	}
	line = xasprintf("CONNECT %s HTTP/1.1", host);
	rc = io_putline(c, c->remote_fd, line, NULL);
	free(line);
	line = xasprintf("Host: %s", host);
	if (rc == 0)
		rc = io_putline(c, c->remote_fd, line, NULL);
	free(line);
	if (rc == 0)
		rc = send_response(c, type2);
	free(type2);
	return rc;
}

/*
 * Client side of HTTP CONNECT (RFC 2817) through the configured proxy,
 * in stunnel 5.75's order: CONNECT, Host, Proxy-Authorization (when both
 * protocolUsername and protocolPassword are set: NTLM if
 * protocolAuthentication says so in any case, else basic), the
 * protocolHeader lines. The answer's headers are read to the empty line
 * whatever the status, which is judged (and logged) first.
 */
static int
http_connect(struct client *c)
{
	const struct service *svc = c->svc;
	char line[IO_LINE_MAX];
	size_t i;
	int ok;

	snprintf(line, sizeof(line), "CONNECT %s HTTP/1.1", svc->protocol_host);
	if (io_putline(c, c->remote_fd, line, NULL) < 0)
		return -1;
	snprintf(line, sizeof(line), "Host: %s", svc->protocol_host);
	if (io_putline(c, c->remote_fd, line, NULL) < 0)
		return -1;
	if (svc->protocol_username != NULL && svc->protocol_password != NULL &&
	    (svc->protocol_auth != NULL &&
	    strcasecmp(svc->protocol_auth, "ntlm") == 0 ?
	    ntlm_login(c) : basic_login(c)) < 0)
		return -1;
	for (i = 0; i < svc->protocol_header.n; i++)
		if (io_putline(c, c->remote_fd, svc->protocol_header.v[i],
		    NULL) < 0)
			return -1;
	if (io_putline(c, c->remote_fd, "", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	ok = str_prefix_ci(line, "HTTP/1.0 2") || str_prefix_ci(line, "HTTP/1.1 2");
	if (ok)
		log_msg(LOG_INFO, "CONNECT request accepted");
	else
		log_msg(LOG_ERR, "CONNECT request rejected");
	if (skip_headers(c) < 0)
		return -1;
	return ok ? 0 : -1;
}

/* the server's answer: STATUS, its name, the empty line */
static int
reply(struct client *c, const char *status)
{
	char line[64];

	snprintf(line, sizeof(line), "HTTP/1.0 %s", status);
	if (io_putline(c, c->local_wfd, line, NULL) < 0 ||
	    io_putline(c, c->local_wfd, "Server: stunnel/" STUNNEL_COMPAT,
	    NULL) < 0 ||
	    io_putline(c, c->local_wfd, "", NULL) < 0)
		return -1;
	return 0;
}

/* a refusal: told, then the connection reset */
static int
refuse(struct client *c, const char *status)
{
	reply(c, status);
	if (c->error == CERR_NONE)
		c->error = CERR_RESET;
	return -1;
}

/*
 * The destination's addresses: "HOST:PORT", a port alone meaning the
 * loopback addresses, or a Unix socket path; an empty port is port 0,
 * as in 5.75 (it resolves, and then refuses the connection)
 */
static int
resolve(const char *host)
{
	size_t len = strlen(host);
	char *spec = len == 0 || host[len - 1] == ':' ?
	    xasprintf("%s0", host) : xstrdup(host);
	int rc = addr_resolve(spec, NULL, 0, &destination);

	free(spec);
	return rc < 0 || destination.n == 0 ? -1 : 0;
}

/*
 * Server mode, before TLS: the request line, judged at once, then its
 * headers, then the destination resolved
 */
static int
connect_request(struct client *c)
{
	char line[IO_LINE_MAX], header[IO_LINE_MAX], *host, *proto;

	if (io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "CONNECT "))
		return refuse(c, "400 Bad Request Method");
	host = line + 8;
	proto = strchr(host, ' ');
	if (proto == NULL || !str_prefix_ci(proto, " HTTP/"))
		return refuse(c, "400 Bad Request Protocol");
	*proto = '\0';
	do {
		if (io_getline(c, c->local_rfd, header, sizeof(header)) < 0)
			return -1;
	} while (header[0] != '\0');
	if (resolve(host) < 0)
		return refuse(c, "404 Not Found");
	return reply(c, "200 OK");
}

/* Server mode, after TLS: the destination is the remote side */
static int
connect_destination(struct client *c)
{
	int rc = 0;

	if (c->svc->exec == NULL)
		rc = net_connect_list(c, &destination, 0);
	addrlist_free(&destination);
	if (rc < 0 && c->error == CERR_NONE)
		c->error = CERR_RESET;
	return rc;
}

const struct protocol_def httpconn_connect = {
	.server = { .before_tls = connect_request,
	    .after_tls = connect_destination },
	.client = { .after_connect = http_connect }
};
