/*
 * cifs.c: "protocol = cifs", Samba's TLS before SMB (its pre-3.0
 * extension), where the NetBIOS session request asks for TLS.
 *
 * The wire, as stunnel 5.75 speaks it, before TLS on both sides:
 *   client: sends a session request with no body (81 00 00 00) and reads
 *     exactly five bytes, which must be a negative response (type 83),
 *     of length 1 (bytes 2 and 3: 00 01; byte 1, the flags, is not
 *     looked at) whose error code is 8e, Samba's "TLS required".
 *   server: reads the four-byte header, then its body (length in bytes 2
 *     and 3, at most 124 bytes: 5.75's buffer holds 128 with the header),
 *     and answers a session request (type 81) with 83 00 00 01 8e; any
 *     other type gets 83 00 00 01 81 ("not listening on called name").
 * Every refusal resets the connection; success goes on with the TLS
 * handshake, with no log line of its own.
 * Must never read past these messages: the TLS handshake follows.
 */
#include "common.h"
#include "cifs.h"
#include "io.h"
#include "log.h"

#define NB_SESSION_REQUEST	0x81
#define NB_NEGATIVE_RESPONSE	0x83
#define NB_NOT_LISTENING	0x81	/* error: not listening on called name */
#define NB_TLS_REQUIRED		0x8e	/* error: Samba's "TLS required" */
#define BLOCK_MAX		128	/* 5.75's buffer, header included */

static const unsigned char session_request[4] = { NB_SESSION_REQUEST, 0, 0, 0 };

/* client mode: ask, and require the answer that says "TLS now" */
static int
cifs_client(struct client *c)
{
	unsigned char answer[5];

	if (io_write(c, c->remote_fd, session_request,
	    sizeof(session_request)) < 0 ||
	    io_read(c, c->remote_fd, answer, sizeof(answer)) < 0)
		return -1;
	if (answer[0] != NB_NEGATIVE_RESPONSE) {
		log_msg(LOG_ERR, "Negative response expected");
		return -1;
	}
	if (answer[2] != 0 || answer[3] != 1) {
		log_msg(LOG_ERR, "Unexpected NetBIOS response size");
		return -1;
	}
	if (answer[4] != NB_TLS_REQUIRED) {
		log_msg(LOG_ERR, "Remote server does not require TLS");
		return -1;
	}
	return 0;
}

/* server mode: the client's session request, answered "TLS required" */
static int
cifs_server(struct client *c)
{
	unsigned char block[BLOCK_MAX];
	unsigned char answer[5] = { NB_NEGATIVE_RESPONSE, 0, 0, 1,
	    NB_TLS_REQUIRED };
	size_t len;

	if (io_read(c, c->local_rfd, block, 4) < 0)
		return -1;
	len = (size_t)block[2] << 8 | block[3];
	if (len > sizeof(block) - 4) {
		log_msg(LOG_ERR, "Received block too long");
		return -1;
	}
	if (io_read(c, c->local_rfd, block + 4, len) < 0)
		return -1;
	if (block[0] != NB_SESSION_REQUEST) {
		answer[4] = NB_NOT_LISTENING;
		io_write(c, c->local_wfd, answer, sizeof(answer));
		log_msg(LOG_ERR, "Client did not send session setup");
		return -1;
	}
	return io_write(c, c->local_wfd, answer, sizeof(answer));
}

const struct protocol_def cifs_protocol = {
	.server = { .before_tls = cifs_server },
	.client = { .after_connect = cifs_client }
};
