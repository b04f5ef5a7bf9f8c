/*
 * fuzz_protocol.c: every "protocol =" negotiation, on each side where
 * it exists, run step by step as client.c runs them, on socketpairs.
 *
 * The input: its first byte chooses the section (the low 7 bits, modulo
 * the table below) and whether a STARTTLS-family client waits for the
 * greeting (bit 7 clear: the 200 ms poll answers "it waits" at once;
 * set: the client spoke first). The rest is split at "=====\n" into:
 *   1. what the accepted side's peer sends (the client in server mode,
 *      the local program in client mode), then EOF;
 *   2. what the remote side sends (the backend in server mode, the
 *      server in client mode), then EOF;
 *   3. what the TLS peer sends inside TLS, then close_notify and EOF;
 *   4. what a connection made by a step itself gets (the destination
 *      of socks and connect servers, capwin's LDAP server), then EOF.
 * A capwin client first stores part 1 as capwinctrl would (the
 * credentials it sends), so that no run depends on an earlier one.
 * Steps inside TLS run after a real handshake between the section's
 * own SSL_CTX and a peer in this process, on a socketpair of their own
 * (in the daemon TLS follows on the same socket; here the plain part is
 * consumed first). TIMEOUTbusy is 1 second and every peer ends with
 * EOF, so no step waits. No connect() reaches anything: the stand-in of
 * fuzz_common.c hands the first one of a run a socketpair holding part
 * 4 and refuses the rest.
 */
#include "common.h"
#include "client.h"
#include "protocol.h"
#include "fuzz_common.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#define PART_MARK	"=====\n"

/* the sections, and whether a step of theirs runs inside TLS */
static const struct variant {
	const char	*name;
	int		 tls;
} variants[] = {
	{ "smtp-server", 0 }, { "smtp-client", 0 },
	{ "smtp-client-plain", 1 }, { "smtp-client-login", 1 },
	{ "pop3-server", 0 }, { "pop3-client", 0 },
	{ "imap-server", 0 }, { "imap-client", 0 },
	{ "nntp-client", 0 }, { "ldap-client", 0 },
	{ "pgsql-server", 0 }, { "pgsql-client", 0 },
	{ "connect-server", 1 }, { "connect-client", 0 },
	{ "connect-client-basic", 0 }, { "connect-client-ntlm", 0 },
	{ "socks-server", 1 }, { "socks-client", 1 },
	{ "proxy-server", 0 }, { "cifs-server", 0 }, { "cifs-client", 0 },
	{ "capwin-server", 1 }, { "capwin-client", 1 },
	{ "capwinctrl-client", 0 },
};

static const char config[] =
    "foreground = yes\n"
    "debug = debug\n"
    "TIMEOUTbusy = 1\n"
    "TIMEOUTconnect = 1\n"
    "[smtp-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = smtp\n"
    "[smtp-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = smtp\n"
    "[smtp-client-plain]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = smtp\nprotocolUsername = user\nprotocolPassword = secret\n"
    "[smtp-client-login]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = smtp\nprotocolAuthentication = login\n"
    "protocolUsername = user\nprotocolPassword = secret\n"
    "[pop3-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = pop3\n"
    "[pop3-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = pop3\n"
    "[imap-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = imap\n"
    "[imap-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = imap\n"
    "[nntp-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = nntp\n"
    "[ldap-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = ldap\n"
    "[pgsql-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = pgsql\n"
    "[pgsql-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = pgsql\n"
    "[connect-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = connect\n"
    "[connect-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = connect\nprotocolHost = www.example.org:443\n"
    "protocolHeader = X-Fuzz: yes\n"
    "[connect-client-basic]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = connect\nprotocolHost = www.example.org:443\n"
    "protocolUsername = user\nprotocolPassword = secret\n"
    "[connect-client-ntlm]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = connect\nprotocolHost = www.example.org:443\n"
    "protocolAuthentication = ntlm\nprotocolDomain = DOMAIN\n"
    "protocolUsername = user\nprotocolPassword = secret\n"
    "[socks-server]\naccept = 127.0.0.1:0\ncert = %1$s/server.pem\n"
    "protocol = socks\n"
    "[socks-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = socks\nprotocolHost = www.example.org:443\n"
    "[proxy-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = proxy\n"
    "[cifs-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = cifs\n"
    "[cifs-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\nprotocol = cifs\n"
    "[capwin-server]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\ncert = %1$s/server.pem\n"
    "protocol = capwin\nprotocolHost = 127.0.0.1:389\n"
    "[capwin-client]\nclient = yes\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "protocol = capwin\n"
    "[capwinctrl-client]\nclient = yes\naccept = 127.0.0.1:0\n"
    "protocol = capwinctrl\n";

static struct global *g;
static struct service *services[ARRAY_SIZE(variants)];
static SSL_CTX *peer_client, *peer_server;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void self_test(void);
static int run(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *cert;
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_init();
	g = fuzz_load_config(config);
	for (i = 0; i < ARRAY_SIZE(variants); i++)
		services[i] = fuzz_section(g, variants[i].name);
	peer_client = SSL_CTX_new(TLS_client_method());
	peer_server = SSL_CTX_new(TLS_server_method());
	cert = fuzz_path("server.pem");
	if (peer_client == NULL || peer_server == NULL ||
	    SSL_CTX_use_certificate_chain_file(peer_server, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(peer_server, cert,
	    SSL_FILETYPE_PEM) != 1)
		abort();
	free(cert);
	self_test();
	return 0;
}

/*
 * Dialogues that must succeed, one per kind of step: should a change in
 * client.c or io.c leave this harness behind (a field of struct client
 * it does not set), it stops here instead of fuzzing failures only.
 */
static void
self_test(void)
{
#define INPUT(text)	{ text, sizeof(text) - 1 }
	static const struct {
		const char	*p;
		size_t		 len;
	} good[] = {
	    INPUT("HEHLO x\r\nSTARTTLS\r\n=====\n220 mail.example.org ESMTP\r\n"),
	    INPUT("X=====\n=====\n\x05\x01\x00\x05\x01\x00\x01\xc0\x00\x02"
	    "\x01\x1f\x90=====\nbackend"),
	    INPUT("I=====\n220 x\r\n250 STARTTLS\r\n220 go\r\n"),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		if (run((const uint8_t *)good[i].p, good[i].len) != 0) {
			fprintf(stderr, "fuzz: dialogue %zu of the self-test "
			    "failed (FUZZ_LOG=1 shows why)\n", i);
			abort();
		}
	}
}

/* a socketpair: [0] ours (non-blocking), [1] the peer's, holding DATA */
static void
pair(int sp[2], const struct fuzz_part *data)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	if (data != NULL) {
		if (data->len > 0)
			(void)write(sp[1], data->p, data->len);
		shutdown(sp[1], SHUT_WR);
	}
}

/*
 * A handshake between C's section and a peer on a socketpair of their
 * own, then DATA sent by the peer inside TLS, close_notify and EOF.
 * 0, or -1 when the handshake failed (it should not: both sides are
 * ours).
 */
static int
start_tls(struct client *c, SSL **peer, int tp[2], const struct fuzz_part *data)
{
	int ours = 0, theirs = 0, round, rc;

	pair(tp, NULL);
	c->ssl = SSL_new(c->svc->ctx);
	*peer = SSL_new(c->svc->client ? peer_server : peer_client);
	if (c->ssl == NULL || *peer == NULL)
		abort();
	SSL_set_app_data(c->ssl, c);
	SSL_set_fd(c->ssl, tp[0]);
	SSL_set_fd(*peer, tp[1]);
	if (c->svc->client) {
		SSL_set_connect_state(c->ssl);
		SSL_set_accept_state(*peer);
	} else {
		SSL_set_accept_state(c->ssl);
		SSL_set_connect_state(*peer);
	}
	c->tls_rfd = c->tls_wfd = tp[0];
	for (round = 0; round < 32 && !(ours && theirs); round++) {
		if (!ours && (rc = SSL_do_handshake(c->ssl)) != 1) {
			rc = SSL_get_error(c->ssl, rc);
			if (rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE)
				break;
		} else
			ours = 1;
		if (!theirs && (rc = SSL_do_handshake(*peer)) != 1) {
			rc = SSL_get_error(*peer, rc);
			if (rc != SSL_ERROR_WANT_READ && rc != SSL_ERROR_WANT_WRITE)
				break;
		} else
			theirs = 1;
	}
	ERR_clear_error();
	if (!(ours && theirs))
		return -1;
	if (data->len > 0)
		(void)SSL_write(*peer, data->p, (int)data->len);
	(void)SSL_shutdown(*peer);
	shutdown(tp[1], SHUT_WR);
	ERR_clear_error();
	return 0;
}

static int
steps(struct client *c, int tls, const struct fuzz_part *parts, SSL **peer,
    int tp[2], int remote)
{
	if (c->svc->client) {
		if (protocol_before_tls(c) < 0)
			return -1;
		c->remote_fd = remote;
		if (protocol_after_connect(c) < 0)
			return -1;
		if (!tls || start_tls(c, peer, tp, &parts[2]) < 0)
			return 0;
		return protocol_after_tls(c);
	}
	if (protocol_connects_first(c->svc))
		c->remote_fd = remote;
	if (protocol_before_tls(c) < 0)
		return -1;
	if (tls && (start_tls(c, peer, tp, &parts[2]) < 0 ||
	    protocol_after_tls(c) < 0))
		return -1;
	if (c->remote_fd < 0)
		c->remote_fd = remote;
	return protocol_after_connect(c);
}

/*
 * capwin clients send what capwinctrl stored in memory that outlives a
 * run: store part 1 first, as the local program would have, so that a
 * run never depends on the runs before it
 */
static void
set_credentials(const struct client *c)
{
	struct client ctl = *c;

	ctl.svc = fuzz_section(g, "capwinctrl-client");
	(void)protocol_before_tls(&ctl);
}

/* one input: what the steps returned (-1 as well for an empty input) */
static int
run(const uint8_t *data, size_t size)
{
	static const uint8_t nothing[1];
	struct fuzz_part parts[4];
	struct client c;
	const struct variant *v;
	SSL *peer = NULL;
	int lp[2], rp[2], tp[2] = { -1, -1 };
	size_t n, i;
	int rc;

	if (size < 1)
		return -1;
	v = &variants[(data[0] & 0x7f) % ARRAY_SIZE(variants)];
	fuzz_client_waits = !(data[0] & 0x80);
	n = fuzz_split(data + 1, size - 1, PART_MARK, parts, 4);
	for (i = n; i < 4; i++) {
		parts[i].p = nothing;
		parts[i].len = 0;
	}
	fuzz_peer_arm(parts[3].p, parts[3].len);
	pair(lp, &parts[0]);
	pair(rp, &parts[1]);

	memset(&c, 0, sizeof(c));
	c.magic = CLIENT_MAGIC;
	c.g = g;
	c.svc = services[v - variants];
	c.local_rfd = c.local_wfd = lp[0];
	c.remote_fd = -1;
	c.tls_rfd = c.tls_wfd = -1;
	if (strcmp(v->name, "capwin-client") == 0)
		set_credentials(&c);
	rc = steps(&c, v->tls, parts, &peer, tp, rp[0]);

	SSL_free(c.ssl);
	SSL_free(peer);
	if (c.remote_fd >= 0 && c.remote_fd != rp[0])
		close(c.remote_fd);
	close(lp[0]);
	close(lp[1]);
	close(rp[0]);
	close(rp[1]);
	if (tp[0] >= 0) {
		close(tp[0]);
		close(tp[1]);
	}
	fuzz_peer_reset();
	ERR_clear_error();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}
