/*
 * fuzz_handshake.c: the bytes a connection process reads before and
 * during the TLS handshake, through the daemon's own entry point:
 * client_main() on one end of a socketpair, as server.c starts it after
 * accept(), with tls.c, verify.c, sni.c, psk.c and sesscache.c at work.
 *
 * The input: its first byte chooses the section (modulo the table
 * below), the rest is split at "=====\n" into the client's bytes (sent,
 * then EOF) and the datagram a sessiond answers with (for [sessiond]).
 * The sections: a plain certificate server with fixed ticket keys (so
 * that a captured ticket decrypts), SNI secondaries for a.example.org
 * and *.wild.example.org, one verifying client certificates against the
 * test CA with a CRL and checkHost, a PSK server, a TLS 1.2 server with
 * session ids only (the shared cache) and one whose sessions live in a
 * sessiond. Nothing is connected: a handshake that completes finds its
 * connect refused by fuzz_common.c's stand-in.
 */
#include "common.h"
#include "client.h"
#include "fuzz_common.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#define PART_MARK	"=====\n"

static const char *const names[] = {
	"tls", "verify", "psk", "tls12", "sessiond"
};

static const char config[] =
    "foreground = yes\n"
    "debug = debug\n"
    "TIMEOUTbusy = 1\n"
    "TIMEOUTconnect = 1\n"
    "[tls]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\n"
    "ticketKeySecret = 00112233445566778899aabbccddeeff\n"
    "ticketMacSecret = ffeeddccbbaa99887766554433221100\n"
    "[sni-a]\nsni = tls:a.example.org\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\n"
    "[sni-b]\nsni = tls:*.wild.example.org\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nverifyPeer = yes\nCAfile = %1$s/cert.pem\n"
    "[verify]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nCAfile = %1$s/ca.pem\nCRLfile = %1$s/crl.pem\n"
    "verifyChain = yes\nrequireCert = yes\ncheckHost = localhost\n"
    "[psk]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "PSKsecrets = %1$s/psk.txt\nciphers = PSK\n"
    "[tls12]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nsslVersionMax = TLSv1.2\noptions = NO_TICKET\n"
    "sessionCacheSize = 4\n"
    "[sessiond]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nsslVersionMax = TLSv1.2\n"
    "sessiond = 127.0.0.1:9\n";

static struct global *g;
static struct service *services[ARRAY_SIZE(names)];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *why;
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_init();
	g = fuzz_load_config(config);
	/*
	 * a seccomp filter would outlive the run, in the fuzzer's own
	 * process: "sandbox = no", where the daemon has that option
	 */
	(void)options_set(g, g->defaults, "sandbox", "no", &why);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		services[i] = fuzz_section(g, names[i]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_start start;
	struct fuzz_part parts[2];
	int sp[2];
	size_t n;

	if (size < 1)
		return 0;
	n = fuzz_split(data + 1, size - 1, PART_MARK, parts, 2);
	if (n > 1)
		fuzz_peer_arm(parts[1].p, parts[1].len);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	if (parts[0].len > 0)
		(void)write(sp[1], parts[0].p, parts[0].len);
	shutdown(sp[1], SHUT_WR);
	memset(&start, 0, sizeof(start));
	start.g = g;
	start.svc = services[data[0] % ARRAY_SIZE(names)];
	start.rfd = start.wfd = sp[0];
	start.seq = 1;
	client_main(&start);	/* closes sp[0] */
	close(sp[1]);
	fuzz_peer_reset();
	ERR_clear_error();
	return 0;
}
