/*
 * fuzz_ident.c: the line an ident server (RFC 1413) on the client's
 * host sends back, as ident.c reads and judges it for a service with
 * "ident = fuzzuser".
 *
 * The input is the whole reply (then EOF). ident_check() runs for a
 * connection whose peer is 127.0.0.1:40000 and whose accepted socket is
 * an unconnected TCP socket (its getsockname() gives port 0): the
 * connect() to the peer's port 113 is fuzz_common.c's stand-in, a
 * socketpair holding the input. TIMEOUTbusy is 1 second, and the reply
 * ends with EOF, so nothing waits.
 */
#include "common.h"
#include "client.h"
#include "ident.h"
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

static const char config[] =
    "foreground = yes\n"
    "debug = debug\n"
    "TIMEOUTbusy = 1\n"
    "TIMEOUTconnect = 1\n"
    "[ident]\naccept = 127.0.0.1:0\nconnect = 127.0.0.1:9\n"
    "cert = %1$s/server.pem\nident = fuzzuser\n";

static struct global *g;
static int local_fd;

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void self_test(void);

/* one reply: what ident_check() returned */
static int
run(const uint8_t *data, size_t size)
{
	struct sockaddr_in *sin;
	struct client c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.magic = CLIENT_MAGIC;
	c.g = g;
	c.svc = g->services;
	c.local_rfd = c.local_wfd = local_fd;
	c.remote_fd = c.tls_rfd = c.tls_wfd = -1;
	sin = (struct sockaddr_in *)&c.peer.sa;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40000);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.peer.len = sizeof(*sin);
	snprintf(c.peer_text, sizeof(c.peer_text), "127.0.0.1:40000");
	fuzz_peer_arm(data, size);
	rc = ident_check(&c);
	fuzz_peer_reset();
	ERR_clear_error();
	return rc;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	fuzz_init();
	g = fuzz_load_config(config);
	if (g->services == NULL || g->services->ident == NULL)
		abort();
	/* never connected nor bound: what getsockname() sees of it */
	local_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (local_fd < 0)
		abort();
	self_test();
	return 0;
}

/*
 * Replies with a known outcome, each checked by ident_check()'s result
 * and its log line: should the harness stop reaching the comparison (a
 * field of struct client it does not set, a connect that no longer goes
 * through the stand-in), it stops here instead of fuzzing failures only.
 * Parsed as strictly as stunnel 5.75: a trailing space is part of the
 * user, the type is " USERID " exactly.
 */
static void
self_test(void)
{
	static const struct {
		const char	*reply;
		int		 rc;
		const char	*line;
	} cases[] = {
	    { "40000 , 0 : USERID : UNIX : fuzzuser\r\n", 0,
	      "IDENT authentication passed" },
	    { "40000 , 0 : USERID : UNIX : mallory\r\n", -1,
	      "REFUSED by IDENT (user \"mallory\")" },
	    { "40000 , 0 : USERID : UNIX :  fuzzuser \r\n", -1,
	      "REFUSED by IDENT (user \"fuzzuser \")" },
	    { "40000 , 0 : ERROR : NO-USER\r\n", -1,
	      "Incorrect IDENT response type" },
	    { "40000,0:USERID:UNIX:fuzzuser\r\n", -1,
	      "Incorrect IDENT response type" },
	    { "40000 , 0\r\n", -1, "Malformed IDENT response" },
	};
	size_t i;
	char *log;
	int rc;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fuzz_log_begin();
		rc = run((const uint8_t *)cases[i].reply,
		    strlen(cases[i].reply));
		log = fuzz_log_end();
		if (rc != cases[i].rc || strstr(log, "IDENT server connected") ==
		    NULL || strstr(log, cases[i].line) == NULL) {
			fprintf(stderr, "fuzz: reply %zu of the self-test did "
			    "not end with \"%s\"; its log:\n%s", i,
			    cases[i].line, log);
			abort();
		}
		free(log);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)run(data, size);
	return 0;
}
