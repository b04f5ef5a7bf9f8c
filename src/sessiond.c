/*
 * sessiond.c: server sessions kept by an external sessiond cache.
 *
 * Owns the UDP exchange with the cache server of "sessiond = HOST:PORT",
 * stunnel's protocol: each request is one datagram of
 *
 *	version (1) | type | timeout (seconds, 16 bits, network order) |
 *	session id (32 bytes, zero-padded) | DER session ("new" only)
 *
 * with types 0 new, 1 get, 2 remove; a "get" is answered by a datagram of
 * the same layout whose type is 0x81 (found, the session follows) or 0x80
 * (not found).  Nothing else is answered.  Several daemons (or machines)
 * given the same sessiond resume each other's TLS session ids.  The
 * session cache (sesscache.c) calls this for services with a sessiond.
 * A cache server that does not answer costs a connection one short wait,
 * never its handshake.
 * Must never block longer than WAIT_MS on the cache server.
 */
#include "common.h"
#include "sessiond.h"
#include "addr.h"
#include "log.h"
#include "util.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROTO_VERSION	1
#define NEW		0
#define GET		1
#define REMOVE		2
#define FOUND		0x81
#define KEY_LEN		SSL_MAX_SSL_SESSION_ID_LENGTH
#define HEAD_LEN	(4 + KEY_LEN)
#define VALUE_MAX	512
#define TIMEOUT_MAX	64800		/* 18 hours */
#define WAIT_MS		200

static const char *const names[] = { "new", "get", "remove" };

/*
 * One request; for a "get", the session found (copied to OUT, its
 * length returned), else -1.  Every outcome is logged as stunnel does.
 */
static int
transfer(const struct addr *server, int type, long timeout,
    const unsigned char *id, unsigned id_len, const unsigned char *value,
    size_t value_len, unsigned char *out)
{
	unsigned char packet[HEAD_LEN + VALUE_MAX];
	char hex[2 * KEY_LEN + 1];
	struct pollfd pfd;
	ssize_t n;
	int fd;

	str_hex_encode(id, id_len, hex, sizeof(hex));
	log_msg(LOG_INFO, "cache_transfer: request=%s, timeout=%ld, id=%s, "
	    "length=%lu", names[type], timeout, hex, (unsigned long)value_len);
	if (id_len > KEY_LEN) {
		log_msg(LOG_ERR, "cache_transfer: session id too big (%u bytes)",
		    id_len);
		return -1;
	}
	if (value_len > VALUE_MAX) {
		log_msg(LOG_ERR, "cache_transfer: encoded session too big "
		    "(%lu bytes)", (unsigned long)value_len);
		return -1;
	}
	if (timeout > TIMEOUT_MAX)
		timeout = TIMEOUT_MAX;
	memset(packet, 0, HEAD_LEN);
	packet[0] = PROTO_VERSION;
	packet[1] = (unsigned char)type;
	packet[2] = (unsigned char)(timeout >> 8);
	packet[3] = (unsigned char)timeout;
	memcpy(packet + 4, id, id_len);
	if (value_len > 0)
		memcpy(packet + HEAD_LEN, value, value_len);

	fd = socket(server->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_errno("cache_transfer: socket");
		return -1;
	}
	/* connected: an ICMP "port unreachable" ends the wait at once */
	if (connect(fd, (const struct sockaddr *)&server->sa, server->len) < 0 ||
	    send(fd, packet, HEAD_LEN + value_len, 0) < 0) {
		log_errno("cache_transfer: sendto");
		close(fd);
		return -1;
	}
	if (type != GET) {
		close(fd);
		return -1;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, WAIT_MS) == 0) {
		log_msg(LOG_INFO, "cache_transfer: recv timeout");
		close(fd);
		return -1;
	}
	n = recv(fd, packet, sizeof(packet), MSG_DONTWAIT);
	close(fd);
	if (n < 0) {
		log_errno("cache_transfer: recv");
		return -1;
	}
	if (n < HEAD_LEN || packet[0] != PROTO_VERSION ||
	    memcmp(packet + 4, id, id_len) != 0) {
		log_msg(LOG_DEBUG, "cache_transfer: malformed packet received");
		return -1;
	}
	if (packet[1] != FOUND) {
		log_msg(LOG_INFO, "cache_transfer: session not found");
		return -1;
	}
	log_msg(LOG_INFO, "cache_transfer: session found");
	memcpy(out, packet + HEAD_LEN, (size_t)n - HEAD_LEN);
	return (int)(n - HEAD_LEN);
}

/* a new session: sent, no answer expected */
void
sessiond_store(const struct addr *server, const unsigned char *id,
    unsigned id_len, SSL_SESSION *sess)
{
	unsigned char der[VALUE_MAX], *p = der;
	int len = i2d_SSL_SESSION(sess, NULL);

	if (len <= 0)
		return;
	/* one too big is only logged: transfer() refuses it */
	if (len <= VALUE_MAX)
		i2d_SSL_SESSION(sess, &p);
	transfer(server, NEW, SSL_SESSION_get_timeout(sess), id, id_len, der,
	    (size_t)len, NULL);
}

/* the session with ID, or NULL if the cache server has none (or is mute) */
SSL_SESSION *
sessiond_fetch(const struct addr *server, const unsigned char *id,
    unsigned id_len)
{
	unsigned char der[VALUE_MAX];
	const unsigned char *p = der;
	int len = transfer(server, GET, 0, id, id_len, NULL, 0, der);

	return len > 0 ? d2i_SSL_SESSION(NULL, &p, len) : NULL;
}

void
sessiond_drop(const struct addr *server, const unsigned char *id,
    unsigned id_len)
{
	transfer(server, REMOVE, 0, id, id_len, NULL, 0, NULL);
}
