/*
 * libwrap.c: /etc/hosts.allow and /etc/hosts.deny ("libwrap = yes").
 *
 * Owns asking TCP Wrappers whether the connection's peer may use the
 * service, under the service's name (the section name, or "service ="),
 * in the connection's own process, before anything is sent to the peer.
 * Must never be consulted for Unix sockets, which have no peer address.
 */
#include "common.h"
#include "libwrap.h"
#include "log.h"

#ifdef USE_LIBWRAP
#include <tcpd.h>

int allow_severity = LOG_NOTICE;
int deny_severity = LOG_WARNING;
#endif

/* 0 if the peer may connect, -1 (logged) if it is refused */
int
libwrap_check(struct client *c)
{
#ifdef USE_LIBWRAP
	struct request_info req;
	const char *name = c->svc->service_name != NULL ?
	    c->svc->service_name : c->svc->name != NULL ? c->svc->name :
	    "stunnel";

	if (!c->svc->libwrap || c->peer.len == 0)
		return 0;
	if (c->peer.sa.ss_family == AF_UNIX) {
		log_msg(LOG_INFO, "Libwrap is not supported on Unix sockets");
		return 0;
	}
	request_init(&req, RQ_DAEMON, name, RQ_FILE, c->local_rfd, 0);
	fromhost(&req);
	if (!hosts_access(&req)) {
		log_msg(LOG_WARNING, "Service [%s] REFUSED by libwrap from %s",
		    name, c->peer_text);
		log_msg(LOG_DEBUG, "See hosts_access(5) manual for details");
		return -1;
	}
	log_msg(LOG_DEBUG, "Service [%s] permitted by libwrap from %s", name,
	    c->peer_text);
#else
	if (c->svc->libwrap) {
		log_msg(LOG_ERR, "libwrap = yes, but this build has no TCP "
		    "Wrappers support: refusing the connection");
		return -1;
	}
#endif
	return 0;
}
