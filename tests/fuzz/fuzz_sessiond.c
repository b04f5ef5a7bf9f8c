/*
 * fuzz_sessiond.c: what sessiond.c makes of the datagram a sessiond
 * cache server sends back: the input's first byte is the length of the
 * session id asked for (0..40, past the 32 allowed too), then the id,
 * then the reply datagram. The request goes to no network: connect()
 * gets a datagram socketpair whose other end has sent the reply
 * (fuzz_common.c). A session that comes out is stored and dropped
 * again (re-encoded, and refused by the stand-in) and freed.
 */
#include "common.h"
#include "addr.h"
#include "sessiond.h"
#include "fuzz_common.h"

#include <netinet/in.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct addr server;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&server.sa;

	(void)argc;
	(void)argv;
	fuzz_init();
	/* never reached: the stand-in connect() answers instead */
	sin->sin_family = AF_INET;
	sin->sin_port = htons(9);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.len = sizeof(*sin);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned id_len;
	SSL_SESSION *sess;

	if (size < 1)
		return 0;
	id_len = data[0] % 41;
	if (size - 1 < id_len)
		return 0;
	fuzz_peer_arm(data + 1 + id_len, size - 1 - id_len);
	sess = sessiond_fetch(&server, data + 1, id_len);
	fuzz_peer_reset();
	if (sess != NULL) {
		sessiond_store(&server, data + 1, id_len, sess);
		sessiond_drop(&server, data + 1, id_len);
		SSL_SESSION_free(sess);
	}
	return 0;
}
