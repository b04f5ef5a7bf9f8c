/*
 * check_io.c: unit tests of src/io.c, the reads and writes of every
 * negotiation.
 *
 * Each test gives io.c one end of a socket pair (non-blocking, as in a
 * connection process) and puts a peer of its own in a child process on
 * the other end: one that sends a byte at a time, one that stalls, one
 * that closes early, one that reads slowly through a tiny buffer so that
 * writes come back short; the TLS tests do the same through a TLS
 * connection. What io.c returned, what it left unread and what it logged
 * are checked. The "magic" cases hand a finished connection to the
 * entries of the modules that io.c serves: each must stop at its check.
 */
#include "unit.h"
#include "io.h"
#include "log.h"
#include "network.h"
#include "protocol.h"
#include "tls.h"
#include "transfer.h"
#include "verify.h"
#include <signal.h>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct service svc;
static struct client c;
static pid_t peer;

static void
nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* our end of a socket pair in c (TIMEOUTbusy 2 s); the peer's returned */
static int
pair(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&svc, 0, sizeof(svc));
	svc.timeout_busy = 2;
	memset(&c, 0, sizeof(c));
	c.svc = &svc;
	c.local_rfd = c.local_wfd = sv[0];
	c.remote_fd = -1;
	nonblocking(sv[0]);
	unit_log_discard();
	return sv[1];
}

/* the peer's exit status (it checks what it received) */
static int
peer_status(void)
{
	int status;

	ck_assert_int_eq(waitpid(peer, &status, 0), peer);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* the peer: TEXT a byte at a time, then it waits for our EOF */
static void
send_slowly(int fd, const char *text)
{
	char ch;

	close(c.local_rfd);	/* our end: its close must reach the peer */
	for (; *text != '\0'; text++) {
		if (write(fd, text, 1) != 1)
			_exit(1);
		nap_ms(5);
	}
	while (read(fd, &ch, 1) > 0)
		continue;
	_exit(0);
}

START_TEST(lines_one_byte_at_a_time)
{
	int fd = pair();
	char line[64], rest[16];
	ssize_t n;

	if ((peer = fork()) == 0)
		send_slowly(fd, "220 hello\r\n250 two\nDATA");
	close(fd);
	ck_assert_int_eq(io_getline(&c, c.local_rfd, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "220 hello");
	ck_assert_int_eq(io_getline(&c, c.local_rfd, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "250 two");
	/* nothing after the line was read: the rest is the client's data */
	ck_assert_int_eq(io_read(&c, c.local_rfd, rest, 4), 0);
	ck_assert_int_eq(memcmp(rest, "DATA", 4), 0);
	close(c.local_rfd);
	n = peer_status();
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(c.error, CERR_NONE);
}
END_TEST

START_TEST(line_too_long)
{
	int fd = pair();
	char line[8], *log;

	if ((peer = fork()) == 0)
		send_slowly(fd, "0123456789\n");
	close(fd);
	ck_assert_int_eq(io_getline(&c, c.local_rfd, line, sizeof(line)), -1);
	close(c.local_rfd);
	peer_status();
	log = unit_log_capture();
	ck_assert_log_has(log, "[!] fd_getline: Line too long");
	ck_assert_int_eq(c.error, CERR_RESET);
	free(log);
}
END_TEST

START_TEST(closed_early)
{
	int fd = pair();
	char buf[8], *log;

	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);
	ck_assert_int_eq(io_read(&c, c.local_rfd, buf, 5), -1);
	log = unit_log_capture();
	ck_assert_log_has(log, "[ ] s_read_eof: EOF");
	ck_assert_log_has(log, "[!] s_read: Received 3 out of requested 5 "
	    "byte(s)");
	ck_assert_int_eq(c.error, CERR_RESET);
	free(log);
	close(c.local_rfd);
}
END_TEST

START_TEST(read_some_sees_the_end)
{
	int fd = pair();
	char buf[8];

	ck_assert_int_eq(write(fd, "ab", 2), 2);
	close(fd);
	ck_assert_int_eq(io_read_some(&c, c.local_rfd, buf, sizeof(buf)), 2);
	ck_assert_int_eq(io_read_some(&c, c.local_rfd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(c.error, CERR_NONE);	/* an end is not an error */
	close(c.local_rfd);
}
END_TEST

START_TEST(stalled_peer_times_out)
{
	int fd = pair();
	char buf[4], *log;
	time_t start = time(NULL);

	svc.timeout_busy = 1;
	ck_assert_int_eq(io_read(&c, c.local_rfd, buf, 1), -1);
	ck_assert_int_le(time(NULL) - start, 3);
	log = unit_log_capture();
	ck_assert_log_has(log, "[ ] s_read_eof: s_poll_wait: TIMEOUTbusy "
	    "exceeded: sending reset");
	ck_assert_int_eq(c.error, CERR_RESET);
	free(log);
	close(fd);
	close(c.local_rfd);
}
END_TEST

#define BIG	(1024 * 1024)

/* the peer: reads BIG bytes slowly through a tiny buffer and checks them */
static void
read_slowly(int fd)
{
	char buf[1000];
	size_t got = 0, i;
	ssize_t n;
	int small = 1024;

	close(c.local_rfd);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	while (got < BIG) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			_exit(2);
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != (char)((got + i) % 251))
				_exit(3);
		got += (size_t)n;
		if (got % (64 * 1024) < sizeof(buf))
			nap_ms(1);
	}
	_exit(0);
}

START_TEST(short_writes_resumed)
{
	int fd = pair(), small = 1024;
	char *data = xmalloc(BIG);
	size_t i;

	for (i = 0; i < BIG; i++)
		data[i] = (char)(i % 251);
	setsockopt(c.local_wfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if ((peer = fork()) == 0)
		read_slowly(fd);
	close(fd);
	ck_assert_int_eq(io_write(&c, c.local_wfd, data, BIG), 0);
	ck_assert_int_eq(peer_status(), 0);
	free(data);
	close(c.local_wfd);
}
END_TEST

START_TEST(putline_masks_the_log)
{
	int fd = pair();
	char buf[64], *log;
	ssize_t n;

	ck_assert_int_eq(io_putline(&c, c.local_wfd, "AUTH PLAIN c2VjcmV0",
	    "AUTH PLAIN *"), 0);
	n = read(fd, buf, sizeof(buf));
	ck_assert_int_eq(n, 21);
	ck_assert_int_eq(memcmp(buf, "AUTH PLAIN c2VjcmV0\r\n", 21), 0);
	log = unit_log_capture();
	ck_assert_log_has(log, "[ ]  -> AUTH PLAIN *");
	ck_assert_ptr_null(strstr(log, "c2VjcmV0"));
	free(log);
	close(fd);
	close(c.local_wfd);
}
END_TEST

/*
 * TLS: the peer is a TLS server in the child, on a blocking socket; we
 * are its client, made non-blocking once the handshake is done
 */
static SSL_CTX *
server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, unit_cert()),
	    1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, unit_cert(),
	    SSL_FILETYPE_PEM), 1);
	return ctx;
}

/* the child's TLS server: TEXT one record per byte, then CLOSE_NOTIFY */
static void
tls_peer(SSL_CTX *ctx, int fd, const char *text, int close_notify)
{
	SSL *ssl = SSL_new(ctx);
	char ch;

	close(c.local_rfd);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1)
		_exit(1);
	for (; *text != '\0'; text++) {
		if (SSL_write(ssl, text, 1) != 1)
			_exit(2);
		nap_ms(2);
	}
	if (close_notify)
		SSL_shutdown(ssl);
	while (SSL_read(ssl, &ch, 1) > 0)
		continue;
	_exit(0);
}

static void
tls_client(int fd, const char *text, int close_notify)
{
	SSL_CTX *sctx = server_ctx(), *cctx;

	if ((peer = fork()) == 0)
		tls_peer(sctx, fd, text, close_notify);
	close(fd);
	SSL_CTX_free(sctx);
	cctx = SSL_CTX_new(TLS_client_method());
	c.ssl = SSL_new(cctx);
	SSL_CTX_free(cctx);
	c.tls_rfd = c.tls_wfd = c.local_rfd;
	fcntl(c.local_rfd, F_SETFL, fcntl(c.local_rfd, F_GETFL) & ~O_NONBLOCK);
	SSL_set_fd(c.ssl, c.local_rfd);
	ck_assert_int_eq(SSL_connect(c.ssl), 1);
	nonblocking(c.local_rfd);
}

static void
tls_done(void)
{
	SSL_free(c.ssl);
	close(c.local_rfd);
	peer_status();
}

START_TEST(tls_lines_one_record_per_byte)
{
	int fd = pair();
	char line[32], rest[4];

	tls_client(fd, "+OK ready\r\nabcd", 0);
	ck_assert_int_eq(io_getline(&c, IO_TLS, line, sizeof(line)), 0);
	ck_assert_str_eq(line, "+OK ready");
	ck_assert_int_eq(io_read(&c, IO_TLS, rest, 4), 0);
	ck_assert_int_eq(memcmp(rest, "abcd", 4), 0);
	ck_assert_int_eq(io_putline(&c, IO_TLS, "QUIT", NULL), 0);
	ck_assert_int_eq(c.error, CERR_NONE);
	tls_done();
}
END_TEST

START_TEST(tls_close_notify_in_the_middle)
{
	int fd = pair();
	char buf[8], *log;

	tls_client(fd, "ab", 1);
	unit_log_discard();
	ck_assert_int_eq(io_read(&c, IO_TLS, buf, 5), -1);
	log = unit_log_capture();
	ck_assert_log_has(log, "[ ] s_ssl_read_eof: close_notify");
	ck_assert_log_has(log, "[!] s_ssl_read: Received 2 out of requested 5 "
	    "byte(s)");
	ck_assert_int_eq(c.error, CERR_RESET);
	free(log);
	tls_done();
}
END_TEST

/*
 * A connection already finished (its magic cleared by client.c) handed
 * to a module's entry: each refuses it with panic(), never acts on it.
 */
static struct client stale;

static void
make_stale(void)
{
	memset(&stale, 0, sizeof(stale));
	stale.svc = &svc;
	stale.local_rfd = stale.local_wfd = stale.remote_fd = -1;
}

START_TEST(stale_tls_start)
{
	make_stale();
	(void)tls_start(&stale);
}
END_TEST

START_TEST(stale_transfer)
{
	make_stale();
	(void)transfer(&stale);
}
END_TEST

START_TEST(stale_net_connect)
{
	make_stale();
	(void)net_connect(&stale);
}
END_TEST

START_TEST(stale_protocol)
{
	make_stale();
	(void)protocol_before_tls(&stale);
}
END_TEST

START_TEST(stale_verify_outcome)
{
	make_stale();
	(void)verify_session_outcome(&stale);
}
END_TEST

static Suite *
io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *plain = tcase_create("plain"), *tls = tcase_create("tls");
	TCase *magic = tcase_create("magic");

	tcase_set_timeout(plain, 30);
	tcase_set_timeout(tls, 30);
	tcase_add_test(plain, lines_one_byte_at_a_time);
	tcase_add_test(plain, line_too_long);
	tcase_add_test(plain, closed_early);
	tcase_add_test(plain, read_some_sees_the_end);
	tcase_add_test(plain, stalled_peer_times_out);
	tcase_add_test(plain, short_writes_resumed);
	tcase_add_test(plain, putline_masks_the_log);
	tcase_add_test(tls, tls_lines_one_record_per_byte);
	tcase_add_test(tls, tls_close_notify_in_the_middle);
	tcase_add_test_raise_signal(magic, stale_tls_start, SIGABRT);
	tcase_add_test_raise_signal(magic, stale_transfer, SIGABRT);
	tcase_add_test_raise_signal(magic, stale_net_connect, SIGABRT);
	tcase_add_test_raise_signal(magic, stale_protocol, SIGABRT);
	tcase_add_test_raise_signal(magic, stale_verify_outcome, SIGABRT);
	suite_add_tcase(s, plain);
	suite_add_tcase(s, tls);
	suite_add_tcase(s, magic);
	return s;
}

int
main(void)
{
	return unit_run(io_suite());
}
