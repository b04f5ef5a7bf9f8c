/*
 * io.c: the reads and writes of every negotiation.
 *
 * Owns the one way a protocol dialogue (protocol =, SOCKS, ident, the
 * LDAP bind of capwin) reads and writes, on a plain non-blocking
 * descriptor or inside TLS (IO_TLS): some bytes, exactly N bytes, all N
 * bytes, one line with a bound; and the wait of the TLS handshake. Each
 * wait is bounded by TIMEOUTbusy, all of them together by TIMEOUTbusy
 * too (the transfer, which has its own timeouts, never waits here), and
 * each way of failing (timeout, EOF, error) is logged here with
 * stunnel's words (s_read_eof, s_write, s_ssl_read_eof, ...), so that a
 * caller only logs the step that failed. A failure marks the connection
 * for a reset. Lines are read a byte at a time: what follows a dialogue
 * is the client's data and must stay unread.
 * Must never be used by the transfer loop, which has its own buffers.
 */
#include "common.h"
#include "io.h"
#include "log.h"
#include "network.h"
#include "sslerr.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <poll.h>
#include <unistd.h>

/*
 * Wait for FD within TIMEOUTbusy, and within what is left of it for all
 * the waits of the handshake and negotiations together (a peer sending
 * a byte now and then must not hold the process forever; our own work
 * between waits does not count): 1 ready, else -1 after logging a
 * timeout as OP's.
 */
int
io_wait(struct client *c, int fd, short events, const char *op)
{
	long long ms = 1000LL * c->svc->timeout_busy - c->busy_waited;
	long long start = now_ms();
	int rc = 0;

	if (ms > 0)
		rc = net_wait(fd, events, ms > INT_MAX ? -1 : (int)ms, op);
	c->busy_waited += now_ms() - start;
	if (rc == 0)
		log_msg(LOG_INFO, "%s: s_poll_wait: TIMEOUTbusy exceeded: "
		    "sending reset", op);
	return rc > 0 ? 1 : -1;
}

/*
 * An SSL_read or SSL_write of OP that moved nothing: 0 to try again
 * (after waiting for what OpenSSL wants), -1 when it is over
 */
static int
tls_retry(struct client *c, int rc, const char *op, const char *call)
{
	int err = SSL_get_error(c->ssl, rc);
	char what[64];

	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return io_wait(c, err == SSL_ERROR_WANT_READ ? c->tls_rfd :
		    c->tls_wfd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    op) > 0 ? 0 : -1;
	snprintf(what, sizeof(what), "%s: %s", op, call);
	if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		log_errno("%s", what);
	else
		sslerr_log(what);
	return -1;
}

/*
 * Did the peer end TLS: 1 after a close_notify (stunnel resets the
 * connection then) or its socket closing (its side is spared:
 * "reset/closed"), else 0
 */
static int
tls_ended(struct client *c, int rc)
{
	int err = SSL_get_error(c->ssl, rc);

	if (err == SSL_ERROR_ZERO_RETURN) {
		log_msg(LOG_DEBUG, "s_ssl_read_eof: close_notify");
		return 1;
	}
	if ((err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && rc == 0) ||
	    (err == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		log_msg(LOG_DEBUG, "s_ssl_read_eof: TLS socket closed");
		c->error = CERR_TLS_ALERT;
		return 1;
	}
	return 0;
}

static ssize_t
tls_read_some(struct client *c, void *buf, size_t len)
{
	int rc;

	for (;;) {
		rc = SSL_read(c->ssl, buf, (int)(len > INT_MAX ? INT_MAX : len));
		if (rc > 0)
			return rc;
		if (tls_ended(c, rc))
			return 0;
		if (tls_retry(c, rc, "s_ssl_read_eof", "SSL_read") < 0)
			return -1;
	}
}

static ssize_t
fd_read_some(struct client *c, int fd, void *buf, size_t len)
{
	ssize_t n;

	for (;;) {
		if (io_wait(c, fd, POLLIN, "s_read_eof") < 0)
			return -1;
		n = read(fd, buf, len);
		if (n >= 0) {
			if (n == 0)
				log_msg(LOG_DEBUG, "s_read_eof: EOF");
			return n;
		}
		if (errno != EINTR && errno != EAGAIN) {
			log_errno("s_read_eof: readsocket");
			return -1;
		}
	}
}

/*
 * Up to LEN bytes from FD (or TLS) within TIMEOUTbusy: the count, 0 at
 * the end of the stream, -1 after logging why not
 */
ssize_t
io_read_some(struct client *c, int fd, void *buf, size_t len)
{
	ssize_t n = fd == IO_TLS ? tls_read_some(c, buf, len) :
	    fd_read_some(c, fd, buf, len);

	if (n < 0 && c->error == CERR_NONE)
		c->error = CERR_RESET;
	return n;
}

/* exactly LEN bytes, or -1 after logging why not (the end is an error) */
int
io_read(struct client *c, int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = io_read_some(c, fd, (char *)buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0) {
			log_msg(LOG_ERR, "%s: Received %zu out of requested %zu "
			    "byte(s)", fd == IO_TLS ? "s_ssl_read" : "s_read",
			    got, len);
			if (c->error == CERR_NONE)
				c->error = CERR_RESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
tls_write(struct client *c, const void *buf, size_t len)
{
	size_t done = 0;
	int rc;

	while (done < len) {
		rc = SSL_write(c->ssl, (const char *)buf + done,
		    (int)(len - done > INT_MAX ? INT_MAX : len - done));
		if (rc > 0)
			done += (size_t)rc;
		else if (tls_retry(c, rc, "s_ssl_write", "SSL_write") < 0)
			return -1;
	}
	return 0;
}

static int
fd_write(struct client *c, int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (io_wait(c, fd, POLLOUT, "s_write") < 0)
			return -1;
		n = write(fd, (const char *)buf + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			log_errno("s_write: writesocket");
			return -1;
		}
	}
	return 0;
}

/* all LEN bytes, short writes resumed, or -1 after logging why not */
int
io_write(struct client *c, int fd, const void *buf, size_t len)
{
	int rc = fd == IO_TLS ? tls_write(c, buf, len) :
	    fd_write(c, fd, buf, len);

	if (rc < 0 && c->error == CERR_NONE)
		c->error = CERR_RESET;
	return rc;
}

/*
 * One line, as stunnel reads it: a byte at a time (no read-ahead), it
 * ends at LF or NUL and every CR is dropped. LEN bounds it with its NUL.
 */
int
io_getline(struct client *c, int fd, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	for (;;) {
		if (io_read(c, fd, &ch, 1) < 0)
			return -1;
		if (ch == '\n' || ch == '\0')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 >= len) {
			log_msg(LOG_ERR, "%s: Line too long", fd == IO_TLS ?
			    "ssl_getline" : "fd_getline");
			if (c->error == CERR_NONE)
				c->error = CERR_RESET;
			return -1;
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
	log_msg(LOG_DEBUG, " <- %s", buf);
	return 0;
}

/*
 * LINE and CRLF in one write (peers that read a reply with one read()
 * must get all of it); LOGGED, if not NULL, is what the log shows
 * instead (the line may hold credentials, wiped from the copy here)
 */
int
io_putline(struct client *c, int fd, const char *line, const char *logged)
{
	size_t len = strlen(line);
	char *buf = xmalloc(len + 2);
	int rc;

	log_msg(LOG_DEBUG, " -> %s", logged != NULL ? logged : line);
	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	rc = io_write(c, fd, buf, len + 2);
	OPENSSL_cleanse(buf, len + 2);
	free(buf);
	return rc;
}

/*
 * PREFIX and the base64 of LEN bytes of DATA as one line (credentials and
 * NTLM messages). A SECRET line shows in the log as PREFIX and "*", and
 * the copy made here is wiped.
 */
int
io_putline_base64(struct client *c, int fd, const char *prefix,
    const void *data, size_t len, int secret)
{
	size_t plen = strlen(prefix), llen = plen + 4 * ((len + 2) / 3) + 1;
	char *line = xmalloc(llen), *logged = NULL;
	int rc;

	memcpy(line, prefix, plen);
	EVP_EncodeBlock((unsigned char *)line + plen, data, (int)len);
	if (secret) {
		logged = xmalloc(plen + 2);
		memcpy(logged, prefix, plen);
		memcpy(logged + plen, "*", 2);
	}
	rc = io_putline(c, fd, line, logged);
	OPENSSL_cleanse(line, llen);
	free(line);
	free(logged);
	return rc;
}
