/*
 * transfer.c: the pump between the TLS side and the plain side.
 *
 * Owns one connection's data phase: non-blocking, poll-driven, a buffer
 * each way, OpenSSL's WANT_READ/WANT_WRITE in both directions (and data
 * OpenSSL already decrypted, which poll cannot see), half-close in both
 * orders (plain EOF -> close_notify; close_notify, or a FIN from the TLS
 * peer without one -> shutdown of the plain write side), TIMEOUTidle and
 * TIMEOUTclose. A buffer is only given up when its side can no longer
 * take it, and then the connection is reset. Must never log payload, and
 * never stop reading one side because the other has nothing to say.
 */
#include "common.h"
#include "transfer.h"
#include "arena.h"
#include "log.h"
#include "sslerr.h"

#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUMP_BUFSIZE	(64 * 1024)

struct buffer {
	unsigned char	*data;
	size_t		 start;
	size_t		 len;
};

struct pump {
	struct client	*c;
	struct buffer	 to_tls;	/* read from the plain side */
	struct buffer	 to_sock;	/* read from TLS */
	int		 sock_rd;	/* plain side may still be read */
	int		 sock_wr;	/* ... and written */
	int		 tls_rd;	/* no close_notify or EOF from TLS yet */
	int		 tls_wr;	/* our close_notify not yet sent */
	int		 shutdown_wants; /* POLLIN/POLLOUT to finish SSL_shutdown */
	int		 read_wants_write;
	int		 write_wants_read;
	enum client_error failed;	/* CERR_NONE while all goes well */
};

static size_t
room(const struct buffer *b)
{
	return PUMP_BUFSIZE - b->start - b->len;
}

/* make the free space contiguous at the end */
static void
compact(struct buffer *b)
{
	if (b->start > 0 && room(b) < PUMP_BUFSIZE / 4) {
		memmove(b->data, b->data + b->start, b->len);
		b->start = 0;
	}
}

static void
consumed(struct buffer *b, size_t n)
{
	b->start += n;
	b->len -= n;
	if (b->len == 0)
		b->start = 0;
}

/* the first failure decides how the connection ends */
static void
fail(struct pump *p, enum client_error err)
{
	if (p->failed == CERR_NONE)
		p->failed = err;
}

static void
plain_read(struct pump *p)
{
	struct buffer *b = &p->to_tls;
	ssize_t n;
	size_t got = 0;

	compact(b);
	while (p->sock_rd && room(b) > 0) {
		n = read(p->c->plain_rfd, b->data + b->start + b->len, room(b));
		if (n > 0) {
			b->len += (size_t)n;
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			/* stunnel's words: EOF behind data, or EOF alone */
			log_msg(LOG_INFO, "Read socket closed (%s)",
			    got > 0 ? "read hangup" : "readsocket");
			p->sock_rd = 0;
		} else if (errno == EIO) {
			/* a pty whose program closed it: the end of its output */
			log_msg(LOG_INFO, "Read socket closed (read hangup)");
			p->sock_rd = 0;
		} else if (errno != EAGAIN && errno != EINTR) {
			log_errno("transfer: readsocket");
			p->sock_rd = 0;
			fail(p, CERR_RESET);
		}
		return;
	}
}

static void
plain_write(struct pump *p)
{
	struct buffer *b = &p->to_sock;
	ssize_t n;

	while (b->len > 0) {
		n = write(p->c->plain_wfd, b->data + b->start, b->len);
		if (n > 0) {
			consumed(b, (size_t)n);
			p->c->sock_bytes += (unsigned long long)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		log_errno("transfer: writesocket");
		log_msg(LOG_ERR, "Write socket closed (write hangup) with %zu "
		    "unsent byte(s)", b->len);
		p->sock_wr = 0;
		b->len = 0;
		fail(p, CERR_RESET);
		return;
	}
}

/* the TLS socket failed (errno) or ended under an operation */
static void
tls_socket_closed(const char *op)
{
	if (errno != 0 && errno != EPIPE)
		log_msg(LOG_INFO, "TLS fd: %s (%d)", strerror(errno), errno);
	log_msg(LOG_INFO, "TLS socket closed (%s)", op);
}

/* what an SSL_read/SSL_write failure means; -1 for a hard failure */
static int
tls_failure(struct pump *p, int rc, const char *op, int *wants_read,
    int *wants_write)
{
	int err = SSL_get_error(p->c->ssl, rc);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		*wants_read = 1;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*wants_write = 1;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		log_msg(LOG_INFO, "TLS closed (%s)", op);
		return 1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			tls_socket_closed(op);
			return 1;
		}
		/* FALLTHROUGH */
	case SSL_ERROR_SSL:
		/* OpenSSL 3 reports a TCP close without close_notify this way */
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			log_msg(LOG_INFO, "TLS socket closed (%s)", op);
			return 1;
		}
		/* FALLTHROUGH */
	default:
		sslerr_log(op);
		return -1;
	}
}

static void
tls_write(struct pump *p)
{
	struct buffer *b = &p->to_tls;
	int rc, wr = 0, rd = 0;

	p->write_wants_read = 0;
	while (b->len > 0 && p->tls_wr) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_write(p->c->ssl, b->data + b->start,
		    b->len > INT_MAX ? INT_MAX : (int)b->len);
		if (rc > 0) {
			consumed(b, (size_t)rc);
			p->c->tls_bytes += (unsigned long long)rc;
			continue;
		}
		rc = tls_failure(p, rc, "SSL_write", &rd, &wr);
		p->write_wants_read = rd;
		if (rc == 0)
			return;
		log_msg(LOG_ERR, "TLS socket closed (SSL_write) with %zu "
		    "unsent byte(s)", b->len);
		p->tls_wr = 0;
		p->sock_rd = 0;
		b->len = 0;
		fail(p, rc < 0 && p->c->fatal_alert ? CERR_TLS_ALERT :
		    CERR_RESET);
		return;
	}
}

/*
 * The TLS peer is gone (its connection failed, or OpenSSL met a record
 * cut short and has sent a fatal alert): nothing more can be sent to it,
 * so the plain side is no longer read; anything still waiting to be sent
 * is lost, which makes it an error.
 */
static void
tls_gone(struct pump *p)
{
	p->tls_wr = 0;
	p->sock_rd = 0;
	if (p->to_tls.len > 0) {
		log_msg(LOG_ERR, "TLS socket closed (SSL_read) with %zu unsent "
		    "byte(s)", p->to_tls.len);
		p->to_tls.len = 0;
		fail(p, CERR_RESET);
	}
}

/*
 * Whether SSL_read may be called. OpenSSL 3 must not meet a FIN without
 * close_notify itself: it takes it for a truncation attack, sends a fatal
 * decode_error alert and writes nothing more. So with nothing buffered in
 * OpenSSL the socket is peeked at first. A FIN there is a half-close, as
 * in stunnel: the peer sends nothing more but may still read, so the
 * plain side goes on being relayed and close_notify follows its EOF;
 * stunnel's words say whether the FIN came behind data or alone.
 */
static int
tls_readable(struct pump *p, int got_data)
{
	unsigned char byte;
	ssize_t n;

	if (SSL_has_pending(p->c->ssl))
		return 1;
	n = recv(p->c->tls_rfd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 || (n < 0 && errno == ENOTSOCK))
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	p->tls_rd = 0;
	if (n == 0) {
		log_msg(LOG_INFO, "TLS socket closed (%s)",
		    got_data ? "read hangup" : "SSL_read");
		return 0;
	}
	/* the peek took the socket's error: SSL_read would not see it */
	tls_socket_closed("SSL_read");
	tls_gone(p);
	return 0;
}

static void
tls_read(struct pump *p)
{
	struct buffer *b = &p->to_sock;
	int rc, rd = 0, wr = 0, got = 0;

	p->read_wants_write = 0;
	compact(b);
	while (p->tls_rd && room(b) > 0) {
		if (!tls_readable(p, got))
			return;
		ERR_clear_error();
		errno = 0;
		rc = SSL_read(p->c->ssl, b->data + b->start + b->len,
		    (int)room(b));
		if (rc > 0) {
			b->len += (size_t)rc;
			got = 1;
			continue;
		}
		rc = tls_failure(p, rc, "SSL_read", &rd, &wr);
		p->read_wants_write = wr;
		if (rc == 0)
			return;
		p->tls_rd = 0;
		if (rc < 0) {
			p->tls_wr = 0;
			fail(p, p->c->fatal_alert ? CERR_TLS_ALERT : CERR_RESET);
		} else if (!(SSL_get_shutdown(p->c->ssl) &
		    SSL_RECEIVED_SHUTDOWN)) {
			tls_gone(p);
		}
		return;
	}
}

/* send our close_notify once everything read from the plain side is in */
static void
tls_shutdown(struct pump *p)
{
	int rc, rd = 0, wr = 0;

	if (p->shutdown_wants == 0)
		log_msg(LOG_DEBUG, "Sending close_notify alert");
	ERR_clear_error();
	errno = 0;
	rc = SSL_shutdown(p->c->ssl);
	p->shutdown_wants = 0;
	if (rc >= 0) {
		log_msg(LOG_INFO, "SSL_shutdown successfully sent close_notify "
		    "alert");
		p->tls_wr = 0;
		return;
	}
	rc = tls_failure(p, rc, "SSL_shutdown", &rd, &wr);
	if (rc == 0) {
		p->shutdown_wants = rd ? POLLIN : POLLOUT;
		return;
	}
	p->tls_wr = 0;
}

/* the peer's close_notify: pass the half-close on to the plain side */
static void
plain_shutdown(struct pump *p)
{
	p->sock_wr = 0;
	if (shutdown(p->c->plain_wfd, SHUT_WR) == 0)
		log_msg(LOG_DEBUG, "Sent socket write shutdown");
	else if (p->c->plain_wfd != p->c->plain_rfd)
		close(p->c->plain_wfd);
	else
		log_msg(LOG_DEBUG, "Failed to send socket write shutdown");
}

/* in stunnel's order: the plain write side first, then close_notify */
static void
advance_states(struct pump *p)
{
	if (!p->tls_rd && p->to_sock.len == 0 && p->sock_wr)
		plain_shutdown(p);
	if (!p->sock_rd && p->to_tls.len == 0 && p->tls_wr &&
	    p->shutdown_wants == 0)
		tls_shutdown(p);
	else if (p->shutdown_wants != 0)
		tls_shutdown(p);
	if (!p->sock_wr && p->to_sock.len > 0) {
		p->to_sock.len = 0;
		fail(p, CERR_RESET);
	}
}

/* both directions are finished: nothing left to read, write or send */
static int
finished(const struct pump *p)
{
	int to_tls_done = !p->sock_rd && p->to_tls.len == 0 && !p->tls_wr &&
	    p->shutdown_wants == 0;
	int to_sock_done = !p->tls_rd && p->to_sock.len == 0 && !p->sock_wr;

	return p->failed != CERR_NONE || (to_tls_done && to_sock_done);
}

/* one pollfd per descriptor, even when reading and writing share it */
static struct pollfd *
watch(struct pollfd *fds, int *n, int fd, short events)
{
	int i;

	for (i = 0; i < *n; i++)
		if (fds[i].fd == fd)
			break;
	if (i == *n) {
		fds[i].fd = fd;
		fds[i].events = 0;
		fds[i].revents = 0;
		(*n)++;
	}
	fds[i].events |= events;
	return &fds[i];
}

static short
ready(const struct pollfd *fds, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i].fd == fd)
			return fds[i].revents;
	return 0;
}

static int
build_poll(struct pump *p, struct pollfd *fds)
{
	struct client *c = p->c;
	int n = 0;

	if (p->sock_rd && room(&p->to_tls) > 0)
		watch(fds, &n, c->plain_rfd, POLLIN);
	if (p->sock_wr && p->to_sock.len > 0)
		watch(fds, &n, c->plain_wfd, POLLOUT);
	if ((p->tls_rd && room(&p->to_sock) > 0 && !p->read_wants_write) ||
	    p->write_wants_read || p->shutdown_wants == POLLIN)
		watch(fds, &n, c->tls_rfd, POLLIN);
	if ((p->tls_wr && p->to_tls.len > 0 && !p->write_wants_read) ||
	    p->read_wants_write || p->shutdown_wants == POLLOUT)
		watch(fds, &n, c->tls_wfd, POLLOUT);
	return n;
}

/* milliseconds to wait: idle normally, close once our side is done */
static int
poll_timeout(const struct pump *p, int closing)
{
	const struct service *svc = p->c->svc;

	return (int)(closing ? svc->timeout_close : svc->timeout_idle) * 1000;
}

static int
wait_events(struct pump *p, struct pollfd *fds, int *n)
{
	int closing = !p->tls_wr && p->shutdown_wants == 0 && !p->sock_rd;
	int pending = p->tls_rd && room(&p->to_sock) > 0 &&
	    SSL_has_pending(p->c->ssl);
	int rc;

	*n = build_poll(p, fds);
	do {
		rc = poll(fds, (nfds_t)*n, pending ? 0 :
		    poll_timeout(p, closing));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		log_errno("transfer: s_poll_wait");
		fail(p, CERR_RESET);
		return -1;
	}
	if (rc > 0 || pending)
		return 0;
	if (closing) {
		log_msg(LOG_ERR, "transfer: s_poll_wait: TIMEOUTclose exceeded: "
		    "closing");
		p->tls_rd = 0;
		p->sock_wr = 0;
		p->to_sock.len = 0;
		return -1;
	}
	log_msg(LOG_INFO, "transfer: s_poll_wait: TIMEOUTidle exceeded: "
	    "sending reset");
	fail(p, CERR_RESET);
	return -1;
}

static void
step(struct pump *p, const struct pollfd *fds, int n)
{
	struct client *c = p->c;
	short plain_r = ready(fds, n, c->plain_rfd);
	short plain_w = ready(fds, n, c->plain_wfd);
	short tls_r = ready(fds, n, c->tls_rfd);
	short tls_w = ready(fds, n, c->tls_wfd);
	short any = POLLIN | POLLOUT | POLLHUP | POLLERR;

	if (p->sock_wr && p->to_sock.len > 0 && (plain_w & any))
		plain_write(p);
	if (p->to_tls.len > 0 && p->tls_wr &&
	    ((tls_w & any) || (p->write_wants_read && (tls_r & any))))
		tls_write(p);
	if (p->sock_rd && (plain_r & any))
		plain_read(p);
	if (p->tls_rd && ((tls_r & any) || (p->read_wants_write &&
	    (tls_w & any)) || SSL_has_pending(c->ssl)))
		tls_read(p);
	/* what was just read can often go out at once, saving a poll */
	if (p->sock_wr && p->to_sock.len > 0 && p->failed == CERR_NONE)
		plain_write(p);
	if (p->to_tls.len > 0 && p->tls_wr && !p->write_wants_read &&
	    p->failed == CERR_NONE)
		tls_write(p);
	if (p->failed == CERR_NONE)
		advance_states(p);
}

/* Move data until both directions are closed: how it ended. */
enum client_error
transfer(struct client *c)
{
	struct pump p;
	struct pollfd fds[4];
	int n;

	CLIENT_CHECK(c);
	memset(&p, 0, sizeof(p));
	p.c = c;
	p.sock_rd = p.sock_wr = p.tls_rd = p.tls_wr = 1;
	p.to_tls.data = arena_alloc(PUMP_BUFSIZE);
	p.to_sock.data = arena_alloc(PUMP_BUFSIZE);
	if (p.to_tls.data == NULL || p.to_sock.data == NULL) {
		log_msg(LOG_ERR, "Out of memory for the transfer buffers");
		arena_free(p.to_tls.data);
		arena_free(p.to_sock.data);
		return CERR_RESET;
	}
	/* an idle connection keeps only what it still holds */
	arena_trim();
	while (!finished(&p)) {
		if (wait_events(&p, fds, &n) < 0)
			break;
		step(&p, fds, n);
	}
	arena_free(p.to_tls.data);
	arena_free(p.to_sock.data);
	return p.failed;
}
