/*
 * socks.c: "protocol = socks".
 *
 * Owns the SOCKS dialogue, which travels inside the TLS connection so
 * that even the destination is encrypted: in server mode, reading the
 * client's SOCKS 4, 4a or 5 request, connecting to the destination it
 * names and the reply; in client mode, asking the SOCKS server at the
 * other end (a server section like ours) for "protocolHost".
 * Only CONNECT, without authentication (SOCKS4's user id is read and
 * ignored).  A destination on this host itself is refused: the tunnel
 * must not open the host's own services to its clients.  stunnel refuses
 * 127.0.0.0/8 and ::1 only; we also refuse every address that reaches
 * them (see local_family()), judged on the addresses a name resolved to,
 * which are the ones connected to.  A refused request ends the connection
 * quietly ("Connection closed").
 * Must never read past the request: what follows it is the client's data.
 */
#include "common.h"
#include "socks.h"
#include "addr.h"
#include "log.h"
#include "io.h"
#include "network.h"
#include "util.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#define NAME_MAX_LEN	255

/* a NUL-ended string of the request (a SOCKS4 user id or 4a host) */
static int
tls_get_string(struct client *c, char *buf, size_t len)
{
	size_t n;

	for (n = 0; n < len; n++) {
		if (io_read(c, IO_TLS, (unsigned char *)&buf[n], 1) < 0)
			return -1;
		if (buf[n] == '\0')
			return 0;
	}
	log_msg(LOG_ERR, "SOCKS request: string too long");
	return -1;
}

static void
add_address(struct addrlist *l, int family, const unsigned char *ip,
    const unsigned char *port)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a.sa;

		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, ip, 4);
		memcpy(&in->sin_port, port, 2);
		a.len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a.sa;

		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, ip, 16);
		memcpy(&in6->sin6_port, port, 2);
		a.len = sizeof(*in6);
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = a;
}

/*
 * HOST at PORT (network order) by name; -1 (logged by the caller).  The
 * peer's name is only a host name: addr_resolve() would take "/path" for
 * a Unix socket and "" for this host's own addresses, and no name that
 * getaddrinfo() resolves looks like either.
 */
static int
resolve(const char *host, const unsigned char *port, struct addrlist *out)
{
	char spec[NAME_MAX_LEN + 16];

	if (host[0] == '\0' || host[0] == '/') {
		/* what getaddrinfo() itself answers for these */
		log_msg(LOG_ERR, "Error resolving \"%s\": Neither nodename nor "
		    "servname known (EAI_NONAME)", host);
		return -1;
	}
	snprintf(spec, sizeof(spec), "%s:%u", host,
	    (unsigned)(port[0] << 8 | port[1]));
	return addr_resolve(spec, NULL, 0, out) < 0 || out->n == 0 ? -1 : 0;
}

/* 0.0.0.0/8 ("this host") and 127.0.0.0/8, host order */
static int
local_ipv4(uint32_t ip)
{
	return ip >> 24 == 0 || ip >> 24 == 127;
}

/*
 * Whether connecting to A reaches this host itself: 4 or 6 for the log
 * line, 0 if not.  Besides 127.0.0.0/8 and ::1, which stunnel refuses,
 * connecting to the unspecified address (0.0.0.0, ::) reaches a service
 * listening on the loopback, and so does an IPv4 loopback or unspecified
 * address inside an IPv6 one, IPv4-mapped (::ffff:127.0.0.1) or
 * IPv4-compatible (::127.0.0.1).  Any other family (a Unix socket) is
 * this host too.
 */
static int
local_family(const struct addr *a)
{
	const struct in6_addr *in6;
	uint32_t v4;

	if (a->sa.ss_family == AF_INET)
		return local_ipv4(ntohl(((const struct sockaddr_in *)
		    &a->sa)->sin_addr.s_addr)) ? 4 : 0;
	if (a->sa.ss_family != AF_INET6)
		return 4;
	in6 = &((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
	if (IN6_IS_ADDR_UNSPECIFIED(in6) || IN6_IS_ADDR_LOOPBACK(in6))
		return 6;
	memcpy(&v4, in6->s6_addr + 12, 4);
	if ((IN6_IS_ADDR_V4MAPPED(in6) || IN6_IS_ADDR_V4COMPAT(in6)) &&
	    local_ipv4(ntohl(v4)))
		return 4;
	return 0;
}

/*
 * Connect to the first allowed address of TARGETS: 0 on success, 1 when
 * every address was refused, -1 when none answered.
 */
static int
connect_target(struct client *c, struct addrlist *targets)
{
	struct addrlist allowed = { NULL, 0 };
	size_t i;
	int family, rc;

	for (i = 0; i < targets->n; i++) {
		if ((family = local_family(&targets->v[i])) != 0)
			log_msg(LOG_ERR, "SOCKS connection to the IPv%d loopback "
			    "rejected", family);
		else {
			allowed.v = xreallocarray(allowed.v, allowed.n + 1,
			    sizeof(*allowed.v));
			allowed.v[allowed.n++] = targets->v[i];
		}
	}
	rc = allowed.n > 0 ? net_connect_list(c, &allowed, 0) : 1;
	addrlist_free(&allowed);
	return rc;
}

/* SOCKS4 and 4a: VN CD DSTPORT DSTIP USERID\0 [HOST\0] */
static int
socks4(struct client *c)
{
	unsigned char req[7], reply[8] = { 0, 91 };
	char user[NAME_MAX_LEN + 1], host[NAME_MAX_LEN + 1];
	struct addrlist targets = { NULL, 0 };
	int ok = 0;

	if (io_read(c, IO_TLS, req, sizeof(req)) < 0 ||
	    tls_get_string(c, user, sizeof(user)) < 0)
		return -1;
	memcpy(reply + 2, req + 1, 6);
	if (req[0] != 1) {
		log_msg(LOG_ERR, "Unsupported SOCKS4/SOCKS4a command 0x%02x",
		    req[0]);
	} else if (req[3] == 0 && req[4] == 0 && req[5] == 0 && req[6] != 0) {
		if (tls_get_string(c, host, sizeof(host)) < 0)
			return -1;
		if (resolve(host, req + 1, &targets) < 0)
			log_msg(LOG_ERR, "SOCKS4a failed to resolve \"%s\"", host);
		else
			log_msg(LOG_INFO, "SOCKS4a resolved \"%s\" to %zu "
			    "host(s)", host, targets.n);
	} else {
		add_address(&targets, AF_INET, req + 3, req + 1);
		log_msg(LOG_INFO, "SOCKS4 address received");
	}
	if (targets.n > 0 && connect_target(c, &targets) == 0) {
		reply[1] = 90;
		ok = 1;
	}
	addrlist_free(&targets);
	return io_write(c, IO_TLS, reply, sizeof(reply)) == 0 && ok ? 0 : -1;
}

/*
 * The SOCKS5 reply: REP and ADDR (ATYP, address, port).  As stunnel does,
 * ADDR repeats the requested address, or is 0.0.0.0:0 for a name.
 */
static int
socks5_reply(struct client *c, unsigned char rep, const unsigned char *addr)
{
	unsigned char reply[3 + 1 + 16 + 2] = { 5, rep, 0 };
	size_t len = 1 + (addr[0] == 4 ? 16 : 4) + 2;

	memcpy(reply + 3, addr, len);
	return io_write(c, IO_TLS, reply, 3 + len);
}

/*
 * The destination of a SOCKS5 request of address type ATYP, into OUT;
 * an address is also copied to ECHO for the reply.  0, a SOCKS5 error
 * for the reply, or -1 when the connection is over.
 */
static int
socks5_target(struct client *c, unsigned char atyp, struct addrlist *out,
    unsigned char *echo)
{
	unsigned char ip[16], port[2], len;
	char host[NAME_MAX_LEN + 1];

	switch (atyp) {
	case 1:
	case 4:
		len = atyp == 1 ? 4 : 16;
		if (io_read(c, IO_TLS, ip, len) < 0 || io_read(c, IO_TLS, port, 2) < 0)
			return -1;
		add_address(out, atyp == 1 ? AF_INET : AF_INET6, ip, port);
		echo[0] = atyp;
		memcpy(echo + 1, ip, len);
		memcpy(echo + 1 + len, port, 2);
		log_msg(LOG_INFO, "SOCKS5 IPv%d address received",
		    atyp == 1 ? 4 : 6);
		return 0;
	case 3:
		if (io_read(c, IO_TLS, &len, 1) < 0 ||
		    io_read(c, IO_TLS, (unsigned char *)host, len) < 0 ||
		    io_read(c, IO_TLS, port, 2) < 0)
			return -1;
		host[len] = '\0';
		if (resolve(host, port, out) < 0) {
			log_msg(LOG_ERR, "SOCKS5 failed to resolve \"%s\"", host);
			return 4;	/* host unreachable */
		}
		log_msg(LOG_INFO, "SOCKS5 resolved \"%s\" to %zu host(s)", host,
		    out->n);
		return 0;
	default:
		log_msg(LOG_ERR, "Unsupported SOCKS5 address type 0x%02x", atyp);
		return 7;	/* stunnel answers "command not supported" */
	}
}

/* SOCKS5: methods, then VER CMD RSV ATYP DST.ADDR DST.PORT */
static int
socks5(struct client *c)
{
	unsigned char n, methods[255], req[4], none[2] = { 5, 0 };
	unsigned char echo[1 + 16 + 2] = { 1 };
	struct addrlist targets = { NULL, 0 };
	int i, rc;

	if (io_read(c, IO_TLS, &n, 1) < 0 || io_read(c, IO_TLS, methods, n) < 0)
		return -1;
	for (i = 0; i < n && methods[i] != 0; i++)
		continue;
	if (i == n) {
		log_msg(LOG_ERR, "No supported SOCKS5 authentication method "
		    "received");
		none[1] = 0xff;
		io_write(c, IO_TLS, none, sizeof(none));
		return -1;
	}
	if (io_write(c, IO_TLS, none, sizeof(none)) < 0 || io_read(c, IO_TLS, req, 4) < 0)
		return -1;
	if (req[0] != 5) {
		log_msg(LOG_ERR, "Invalid SOCKS5 message version 0x%02x", req[0]);
		return -1;
	}
	if (req[1] != 1) {
		log_msg(LOG_ERR, "Unsupported SOCKS5 command 0x%02x", req[1]);
		socks5_reply(c, 7, echo);	/* command not supported */
		return -1;
	}
	rc = socks5_target(c, req[3], &targets, echo);
	if (rc == 0) {
		rc = connect_target(c, &targets);
		/* refused: not allowed by ruleset; no answer: refused */
		rc = rc == 0 ? 0 : rc == 1 ? 2 : 5;
	}
	addrlist_free(&targets);
	if (rc < 0)
		return -1;
	if (socks5_reply(c, (unsigned char)rc, echo) < 0)
		return -1;
	return rc == 0 ? 0 : -1;
}

static const char *
socks5_error(unsigned rep)
{
	static const char *const text[] = { "Succeeded",
	    "General SOCKS server failure", "Connection not allowed by ruleset",
	    "Network unreachable", "Host unreachable", "Connection refused",
	    "TTL expired", "Command not supported",
	    "Address type not supported" };

	return rep < sizeof(text) / sizeof(text[0]) ? text[rep] : NULL;
}

/*
 * protocolHost as stunnel 5.74+ sends it: always a DOMAINNAME (the proxy
 * resolves it, even an address), the port a number or a service name
 * (getaddrinfo's), "localhost" for a port alone; its length
 */
static int
socks5_address(const char *spec, unsigned char *out)
{
	const char *colon = strrchr(spec, ':');
	const char *host = colon != NULL ? spec : "localhost";
	const char *port = colon != NULL ? colon + 1 : spec;
	size_t hlen = colon != NULL ? (size_t)(colon - spec) : strlen(host);
	struct addrinfo hints, *res;
	unsigned short n;
	int rc;

	if (hlen > NAME_MAX_LEN) {
		log_msg(LOG_ERR, "protocolHost too long");
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(NULL, port, &hints, &res)) != 0) {
		log_msg(LOG_ERR, "Invalid port: %s (error: %s)", port,
		    gai_strerror(rc));
		return -1;
	}
	n = ((struct sockaddr_in *)res->ai_addr)->sin_port;	/* network order */
	freeaddrinfo(res);
	log_msg(LOG_INFO, "Sending SOCKS5 DOMAINNAME");
	out[0] = 3;
	out[1] = (unsigned char)hlen;
	memcpy(out + 2, host, hlen);
	memcpy(out + 2 + hlen, &n, 2);
	return 2 + (int)hlen + 2;
}

/*
 * Client mode, after the handshake: ask the SOCKS server at the other end
 * of the TLS connection for protocolHost, so that even the destination
 * travels encrypted.
 */
static int
socks_connect(struct client *c)
{
	static const unsigned char greeting[3] = { 5, 1, 0 };
	unsigned char req[3 + 2 + NAME_MAX_LEN + 2] = { 5, 1, 0 }, buf[4];
	unsigned char skip[NAME_MAX_LEN + 2];
	int len;
	size_t rest;

	/* stunnel accepts such a section; it cannot name a destination */
	if (c->svc->protocol_host == NULL) {
		log_msg(LOG_ERR, "protocolHost not specified");
		return -1;
	}
	if (io_write(c, IO_TLS, greeting, sizeof(greeting)) < 0 ||
	    io_read(c, IO_TLS, buf, 2) < 0)
		return -1;
	if (buf[0] != 5) {
		log_msg(LOG_ERR, "Invalid SOCKS5 message version 0x%02x", buf[0]);
		return -1;
	}
	if (buf[1] != 0) {
		log_msg(LOG_ERR, "No supported SOCKS5 authentication method "
		    "received");
		return -1;
	}
	if ((len = socks5_address(c->svc->protocol_host, req + 3)) < 0 ||
	    io_write(c, IO_TLS, req, 3 + (size_t)len) < 0 || io_read(c, IO_TLS, buf, 4) < 0)
		return -1;
	if (buf[0] != 5) {
		log_msg(LOG_ERR, "Invalid SOCKS5 message version 0x%02x", buf[0]);
		return -1;
	}
	if (buf[1] != 0) {
		if (socks5_error(buf[1]) != NULL)
			log_msg(LOG_ERR, "SOCKS5 request failed: %s",
			    socks5_error(buf[1]));
		else
			log_msg(LOG_ERR, "SOCKS5 request failed: Unknown error "
			    "0x%02x", buf[1]);
		return -1;
	}
	/* the address the proxy bound: read and forgotten */
	if (buf[3] == 1)
		rest = 4 + 2;
	else if (buf[3] == 4)
		rest = 16 + 2;
	else if (buf[3] == 3 && io_read(c, IO_TLS, skip, 1) == 0)
		rest = (size_t)skip[0] + 2;
	else {
		log_msg(LOG_ERR, "Unsupported address type 0x%02x", buf[3]);
		return -1;
	}
	if (io_read(c, IO_TLS, skip, rest) < 0)
		return -1;
	log_msg(LOG_INFO, "SOCKS5 request succeeded");
	return 0;
}

/* Server mode, after the handshake: the request names the remote side. */
static int
socks_accept(struct client *c)
{
	unsigned char version;

	log_msg(LOG_DEBUG, "Waiting for the SOCKS request");
	if (io_read(c, IO_TLS, &version, 1) < 0)
		return -1;
	if (version == 4)
		return socks4(c);
	if (version == 5)
		return socks5(c);
	log_msg(LOG_ERR, "Unsupported SOCKS version 0x%02x", version);
	c->error = CERR_RESET;		/* not a refusal: stunnel resets */
	return -1;
}

/* both sides speak inside TLS; the server connects the remote itself */
const struct protocol_def socks_protocol = {
	.server = { .after_tls = socks_accept },
	.client = { .after_tls = socks_connect }
};
