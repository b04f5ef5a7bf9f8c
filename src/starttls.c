/*
 * starttls.c: the STARTTLS family: smtp, pop3, imap and nntp.
 *
 * Owns the plain-text dialogues that lead to TLS inside a mail or news
 * protocol. Client mode, as stunnel 5.75 does it: the server's greeting
 * is checked and passed to the plain client (smtp, pop3, nntp: its lines;
 * imap: a greeting of its own), then TLS is asked for; smtp with
 * protocolUsername and protocolPassword then logs in inside TLS (AUTH
 * PLAIN or LOGIN), the credentials kept out of the log. Server mode: the
 * backend's greeting relayed with stunnel's marks, the client's commands
 * answered until it asks for TLS (a client that speaks TLS at once gets
 * TLS: smtps, imaps). Lines are read and written through io.c, with
 * stunnel's limits and log words.
 * Must never send client data itself.
 */
#include "common.h"
#include "starttls.h"
#include "io.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <poll.h>

/*
 * Client mode STARTTLS, as stunnel 5.75 does it: the server's greeting
 * is checked and passed to the plain client (smtp, pop3, nntp: its
 * lines; imap: a greeting of its own), then TLS is asked for.
 */

/* the name smtp clients give in EHLO: protocolHost as it is written */
static const char *
ehlo_name(const struct client *c)
{
	return c->svc->protocol_host != NULL ? c->svc->protocol_host :
	    "localhost";
}

/* EHLO on FD, its answer read to the last line, left in LINE */
static int
ehlo(struct client *c, int fd, char *line, size_t len)
{
	char *cmd = xasprintf("EHLO %s", ehlo_name(c));
	int rc = io_putline(c, fd, cmd, NULL);

	free(cmd);
	if (rc < 0)
		return -1;
	do {	/* "250-" lines continue the answer */
		if (io_getline(c, fd, line, len) < 0)
			return -1;
	} while (str_prefix(line, "250-"));
	return 0;
}

/* RFC 3207: every greeting line passed on unchecked, EHLO, STARTTLS */
static int
smtp_client(struct client *c)
{
	char line[IO_LINE_MAX];

	do {	/* "220-" lines continue the greeting */
		if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0 ||
		    io_putline(c, c->local_wfd, line, NULL) < 0)
			return -1;
	} while (str_prefix(line, "220-"));
	if (ehlo(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix(line, "250 ")) {
		log_msg(LOG_ERR, "Remote server is not RFC 1425 compliant");
		return -1;
	}
	if (io_putline(c, c->remote_fd, "STARTTLS", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix(line, "220 ")) {
		log_msg(LOG_ERR, "Remote server is not RFC 2487 compliant");
		return -1;
	}
	return 0;
}

/* the server's next reply inside TLS: 1 if it starts with CODE, else 0 */
static int
reply_is(struct client *c, const char *code)
{
	char line[IO_LINE_MAX];

	if (io_getline(c, IO_TLS, line, sizeof(line)) < 0)
		return -1;
	return str_prefix(line, code);
}

/* RFC 4616: one line, "\0USER\0PASSWORD" in base64, answered 235 */
static int
auth_plain(struct client *c)
{
	const char *user = c->svc->protocol_username;
	const char *pass = c->svc->protocol_password;
	size_t ulen = strlen(user), plen = strlen(pass), len = ulen + plen + 2;
	char *creds = xmalloc(len);
	int rc;

	creds[0] = '\0';
	memcpy(creds + 1, user, ulen);
	creds[ulen + 1] = '\0';
	memcpy(creds + ulen + 2, pass, plen);
	rc = io_putline_base64(c, IO_TLS, "AUTH PLAIN ", creds, len, 1);
	OPENSSL_cleanse(creds, len);
	free(creds);
	if (rc < 0 || (rc = reply_is(c, "235 ")) < 0)
		return -1;
	if (rc == 0) {
		log_msg(LOG_ERR, "PLAIN Authentication Failed");
		return -1;
	}
	return 0;
}

/* AUTH LOGIN: the user name and the password each after a 334 prompt */
static int
auth_login(struct client *c)
{
	const char *user = c->svc->protocol_username;
	const char *pass = c->svc->protocol_password;
	int rc;

	if (io_putline(c, IO_TLS, "AUTH LOGIN", NULL) < 0 ||
	    (rc = reply_is(c, "334 ")) < 0)
		return -1;
	if (rc == 0) {
		log_msg(LOG_ERR, "Remote server does not support LOGIN "
		    "authentication");
		return -1;
	}
	if (io_putline_base64(c, IO_TLS, "", user, strlen(user), 1) < 0 ||
	    (rc = reply_is(c, "334 ")) < 0)
		return -1;
	if (rc == 1 && (io_putline_base64(c, IO_TLS, "", pass, strlen(pass), 1) < 0 ||
	    (rc = reply_is(c, "235 ")) < 0))
		return -1;
	if (rc == 0) {
		log_msg(LOG_ERR, "LOGIN authentication failed");
		return -1;
	}
	return 0;
}

/*
 * Inside TLS, when protocolUsername and protocolPassword are both set:
 * EHLO again (its answer read, not judged, and not passed on), then
 * AUTH LOGIN if protocolAuthentication says "login" in any case, else
 * AUTH PLAIN, as stunnel 5.75 does. A refusal resets the connection.
 */
static int
smtp_client_auth(struct client *c)
{
	char line[IO_LINE_MAX];
	const char *auth = c->svc->protocol_auth;
	int rc;

	if (c->svc->protocol_username == NULL ||
	    c->svc->protocol_password == NULL)
		return 0;
	if (ehlo(c, IO_TLS, line, sizeof(line)) < 0)
		return -1;
	rc = auth != NULL && strcasecmp(auth, "login") == 0 ? auth_login(c) :
	    auth_plain(c);
	if (rc < 0 && c->error == CERR_NONE)
		c->error = CERR_RESET;
	return rc;
}

/* RFC 2595: POP3 STLS */
static int
pop3_client(struct client *c)
{
	char line[IO_LINE_MAX];

	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "+OK ")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (io_putline(c, c->local_wfd, line, NULL) < 0 ||
	    io_putline(c, c->remote_fd, "STLS", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "+OK ")) {
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
	char line[IO_LINE_MAX];

	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "* OK")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (io_putline(c, c->local_wfd, "* OK Connected.", NULL) < 0 ||
	    io_putline(c, c->remote_fd, "stunnel STARTTLS", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "stunnel OK")) {
		io_putline(c, c->local_wfd,
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
	char line[IO_LINE_MAX];

	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix(line, "200 ") && !str_prefix(line, "201 ")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if (io_putline(c, c->local_wfd, line, NULL) < 0 ||
	    io_putline(c, c->remote_fd, "STARTTLS", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix(line, "382 ")) {
		log_msg(LOG_ERR, "Server does not support TLS");
		return -1;
	}
	return 0;
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
	char line[IO_LINE_MAX], host[IO_LINE_MAX];
	char out[2 * IO_LINE_MAX + 32];
	const char *sp;
	int rc = client_waits(c, "2487");

	if (rc <= 0)
		return rc;
	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix(line, "220 ") && !str_prefix(line, "220-")) {
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
	if (io_putline(c, c->local_wfd, out, NULL) < 0)
		return -1;
	while (str_prefix(line, "220-"))
		if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0 ||
		    io_putline(c, c->local_wfd, line, NULL) < 0)
			return -1;
	if (io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "EHLO ")) {
		log_msg(LOG_ERR, "Unknown client EHLO");
		return -1;
	}
	snprintf(out, sizeof(out), "250-%s", host);
	if (io_putline(c, c->local_wfd, out, NULL) < 0 ||
	    io_putline(c, c->local_wfd, "250 STARTTLS", NULL) < 0 ||
	    io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "STARTTLS")) {
		log_msg(LOG_ERR, "STARTTLS expected");
		return -1;
	}
	return io_putline(c, c->local_wfd, "220 Go ahead", NULL);
}

/* the backend's greeting, whatever it says (as stunnel 5.75), + stunnel */
static int
pop3_server(struct client *c)
{
	char line[IO_LINE_MAX], out[IO_LINE_MAX + 16];

	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	snprintf(out, sizeof(out), "%s + stunnel", line);
	if (io_putline(c, c->local_wfd, out, NULL) < 0 ||
	    io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
		return -1;
	if (strncasecmp(line, "CAPA", 4) == 0) {	/* RFC 2449 */
		if (io_putline(c, c->local_wfd, "+OK Stunnel capability list follows",
		    NULL) < 0 || io_putline(c, c->local_wfd, "STLS", NULL) < 0 ||
		    io_putline(c, c->local_wfd, ".", NULL) < 0 ||
		    io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
			return -1;
	}
	if (strncasecmp(line, "STLS", 4) != 0) {
		log_msg(LOG_ERR, "Client does not want TLS");
		return -1;
	}
	return io_putline(c, c->local_wfd, "+OK Stunnel starts TLS negotiation",
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
	char line[IO_LINE_MAX], out[IO_LINE_MAX + 16];
	const char *sp;

	if (io_putline(c, c->remote_fd, request, NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (line[0] == '*') {
		snprintf(out, sizeof(out), "%s STARTTLS", line);
		if (io_putline(c, c->local_wfd, out, NULL) < 0 ||
		    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	}
	if (io_putline(c, c->local_wfd, line, NULL) < 0)
		return -1;
	sp = strchr(line, ' ');
	if (sp == NULL || !str_prefix_ci(sp + 1, "OK")) {
		io_putline(c, c->local_wfd, "* BYE unexpected server response",
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
	char line[IO_LINE_MAX];

	if (io_putline(c, c->remote_fd, "stunnel LOGOUT", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (line[0] == '*' && io_getline(c, c->remote_fd, line,
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
	char line[IO_LINE_MAX], out[2 * IO_LINE_MAX + 32], *cap, *tail;
	int rc = client_waits(c, "2595");

	if (rc <= 0)
		return rc;
	if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	if (!str_prefix_ci(line, "* OK")) {
		log_msg(LOG_ERR, "Unknown server welcome");
		return -1;
	}
	if ((cap = strcasestr(line, "[CAPABILITY")) != NULL)
		cap[1] = 'K';
	snprintf(out, sizeof(out), "%s (stunnel)", line);
	if (io_putline(c, c->local_wfd, out, NULL) < 0)
		return -1;
	for (;;) {
		if (io_getline(c, c->local_rfd, line, sizeof(line)) < 0)
			return -1;
		if ((tail = strchr(line, ' ')) == NULL)
			break;
		*tail++ = '\0';	/* line is the tag now */
		if (str_prefix_ci(tail, "CAPABILITY")) {
			tail[-1] = ' ';
			if ((rc = imap_capability(c, line)) < 0)
				return -1;
			if (rc > 0)
				break;
			continue;
		}
		if (str_prefix_ci(tail, "STARTTLS")) {
			snprintf(out, sizeof(out), "%s OK Begin TLS negotiation "
			    "now", line);
			return io_putline(c, c->local_wfd, out, NULL);
		}
		io_putline(c, c->local_wfd, "* BYE stunnel: unexpected command",
		    NULL);
		snprintf(out, sizeof(out), "%s BAD %s unexpected", line, tail);
		io_putline(c, c->local_wfd, out, NULL);
		log_msg(LOG_ERR, "Unexpected client command %s", tail);
		break;
	}
	return imap_logout(c);
}


const struct protocol_def starttls_smtp = {
	.server = { .before_tls = smtp_server },
	.client = { .after_connect = smtp_client,
	    .after_tls = smtp_client_auth },
	.connects_first = 1
};

const struct protocol_def starttls_pop3 = {
	.server = { .before_tls = pop3_server },
	.client = { .after_connect = pop3_client },
	.connects_first = 1
};

const struct protocol_def starttls_imap = {
	.server = { .before_tls = imap_server },
	.client = { .after_connect = imap_client },
	.connects_first = 1
};

const struct protocol_def starttls_nntp = {
	.client = { .after_connect = nntp_client }
};
