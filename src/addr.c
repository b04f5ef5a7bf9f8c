/*
 * addr.c: turning configured addresses into socket addresses.
 *
 * Owns the address syntax of accept, connect, redirect and sessiond:
 * "PORT", "HOST:PORT" split at the last ':' (so ":::443" and "::1:443"
 * are IPv6), or a Unix socket path starting with '/'; that of local (a
 * host alone, no port: stunnel binds it to an ephemeral port); name
 * resolution with getaddrinfo; and the "127.0.0.1:443" / "::1:443" text
 * form used in log lines. Must never open a socket.
 */
#include "common.h"
#include "addr.h"
#include "log.h"
#include "util.h"

#include <sys/un.h>
#include <netdb.h>
#include <netinet/in.h>

static void
add(struct addrlist *l, const void *sa, socklen_t len)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	memcpy(&l->v[l->n].sa, sa, len);
	l->v[l->n].len = len;
	l->n++;
}

static int
add_unix(const char *path, struct addrlist *l)
{
	struct sockaddr_un sun;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_msg(LOG_ERR, "Unix socket path is too long");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	add(l, &sun, (socklen_t)sizeof(sun));
	return 0;
}

static int
check_port(const char *port)
{
	struct servent *se;
	unsigned long n = 0;
	const char *p;

	for (p = port; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (unsigned long)(*p - '0')) > 65535)
			break;
	if (*p == '\0' && p != port && n <= 65535)
		return 0;
	if (p != port && *p >= '0' && *p <= '9') {
		log_msg(LOG_ERR, "Port number out of range: \"%s\"", port);
		return -1;
	}
	se = getservbyname(port, "tcp");
	if (se == NULL) {
		log_msg(LOG_ERR, "Unknown TCP service \"%s\"", port);
		return -1;
	}
	return 0;
}

/* stunnel's wording of the getaddrinfo errors */
static const char *
gai_text(int rc)
{
	switch (rc) {
	case EAI_NONAME:
		return "Neither nodename nor servname known (EAI_NONAME)";
	case EAI_AGAIN:
		return "Temporary failure in name resolution (EAI_AGAIN)";
	case EAI_FAIL:
		return "Non-recoverable failure in name resolution (EAI_FAIL)";
	case EAI_NODATA:
		return "No address associated with nodename (EAI_NODATA)";
	case EAI_BADFLAGS:
		return "Invalid value for ai_flags (EAI_BADFLAGS)";
	case EAI_FAMILY:
		return "ai_family not supported (EAI_FAMILY)";
	case EAI_SOCKTYPE:
		return "ai_socktype not supported (EAI_SOCKTYPE)";
	case EAI_SERVICE:
		return "servname is not supported for ai_socktype (EAI_SERVICE)";
	case EAI_ADDRFAMILY:
		return "Address family for nodename not supported (EAI_ADDRFAMILY)";
	case EAI_MEMORY:
		return "Memory allocation failure (EAI_MEMORY)";
	case EAI_SYSTEM:
		return "System error returned in errno (EAI_SYSTEM)";
	}
	return "Unknown error";
}

/*
 * Resolve SPEC ("[host:]port" or "/path"). DEFHOST is the host used when
 * SPEC has none (NULL = every local address, for listening). Appends to
 * OUT; returns 0, or -1 after logging why.
 */
int
addr_resolve(const char *spec, const char *defhost, int passive,
    struct addrlist *out)
{
	struct addrinfo hints, *res, *ai;
	const char *colon = strrchr(spec, ':');
	char *host = NULL;
	const char *port = spec;
	int rc;

	if (spec[0] == '/')
		return add_unix(spec, out);
	if (colon != NULL) {
		host = xstrndup(spec, (size_t)(colon - spec));
		port = colon + 1;
	}
	if (check_port(port) < 0) {
		free(host);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if (host == NULL && defhost != NULL)
		host = xstrdup(defhost);
	rc = getaddrinfo(host != NULL && *host != '\0' ? host : NULL, port,
	    &hints, &res);
	if (rc != 0) {
		log_msg(LOG_ERR, "Error resolving \"%s\": %s",
		    host != NULL ? host : (passive ? "0.0.0.0" : "localhost"),
		    gai_text(rc));
		free(host);
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		add(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	free(host);
	return 0;
}

/*
 * "local = HOST": a host name or address with no port ("*" = any
 * address), its first address, as stunnel resolves it at its line.
 * 0, or -1 after logging why.
 */
int
addr_resolve_host(const char *host, struct addr *out)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, "0", &hints,
	    &res);
	if (rc != 0) {
		log_msg(LOG_ERR, "Error resolving \"%s\": %s", host,
		    gai_text(rc));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void
addrlist_free(struct addrlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * "127.0.0.1:443", "::1:443" (no brackets), "localhost:/path" or "unnamed
 * socket", as stunnel logs them
 */
const char *
addr_text(const struct addr *a, char *buf, size_t len)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const struct sockaddr_un *sun;

	if (a->sa.ss_family == AF_UNIX) {	/* as getnameinfo() has it */
		sun = (const struct sockaddr_un *)&a->sa;
		if (a->len <= offsetof(struct sockaddr_un, sun_path) ||
		    sun->sun_path[0] == '\0')
			snprintf(buf, len, "unnamed socket");
		else
			snprintf(buf, len, "localhost:%.*s",
			    (int)(a->len - offsetof(struct sockaddr_un, sun_path)),
			    sun->sun_path);
		return buf;
	}
	if (getnameinfo((const struct sockaddr *)&a->sa, a->len, host,
	    sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "unknown address");
		return buf;
	}
	snprintf(buf, len, "%s:%s", host, serv);
	return buf;
}
