/*
 * libwrap.c: /etc/hosts.allow and /etc/hosts.deny ("libwrap = yes").
 *
 * Owns asking TCP Wrappers whether the connection's peer may use the
 * service, under the service's name (the section name, or "service ="),
 * in the connection's own process, before anything is sent to the peer.
 * Must never be consulted for Unix sockets, which have no peer address.
 *
 * The library is loaded when a configuration first asks for it, not
 * linked: it brings nine more libraries (NIS, RPC, Kerberos), and every
 * mapping the parent holds is paid for again in each connection's fork.
 */
#include "common.h"
#include "libwrap.h"
#include "log.h"

#ifdef USE_LIBWRAP
#include <dlfcn.h>
#include <tcpd.h>

static struct {
	void	*handle;
	struct request_info *(*request_init)(struct request_info *, ...);
	void	 (*sock_host)(struct request_info *);
	int	 (*hosts_access)(struct request_info *);
} wrap;

/* the library's own severities, where it defines them (Debian's does) */
static void
set_severity(const char *name, int level)
{
	int *p = dlsym(wrap.handle, name);

	if (p != NULL)
		*p = level;
}

int
libwrap_load(void)
{
	if (wrap.handle != NULL)
		return 0;
	wrap.handle = dlopen(LIBWRAP_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (wrap.handle == NULL) {
		log_msg(LOG_ERR, "Cannot load TCP Wrappers: %s", dlerror());
		return -1;
	}
	*(void **)&wrap.request_init = dlsym(wrap.handle, "request_init");
	*(void **)&wrap.sock_host = dlsym(wrap.handle, "sock_host");
	*(void **)&wrap.hosts_access = dlsym(wrap.handle, "hosts_access");
	if (wrap.request_init == NULL || wrap.sock_host == NULL ||
	    wrap.hosts_access == NULL) {
		log_msg(LOG_ERR, "Cannot load TCP Wrappers: %s lacks "
		    "request_init, sock_host or hosts_access", LIBWRAP_SONAME);
		dlclose(wrap.handle);
		wrap.handle = NULL;
		return -1;
	}
	set_severity("allow_severity", LOG_NOTICE);
	set_severity("deny_severity", LOG_WARNING);
	log_msg(LOG_DEBUG, "TCP Wrappers loaded from %s", LIBWRAP_SONAME);
	return 0;
}

/* 0 if the peer may connect, -1 (logged) if it is refused */
int
libwrap_check(struct client *c)
{
	struct request_info req;
	const char *name;

	CLIENT_CHECK(c);
	if (!c->svc->libwrap || c->peer.len == 0)
		return 0;
	name = c->svc->name != NULL ? c->svc->name : "stunnel";
	if (c->peer.sa.ss_family == AF_UNIX) {
		log_msg(LOG_INFO, "Libwrap is not supported on Unix sockets");
		return 0;
	}
	wrap.request_init(&req, RQ_DAEMON, name, RQ_FILE, c->local_rfd, 0);
	wrap.sock_host(&req);
	if (!wrap.hosts_access(&req)) {
		log_msg(LOG_WARNING, "Service [%s] REFUSED by libwrap from %s",
		    name, c->peer_text);
		log_msg(LOG_DEBUG, "See hosts_access(5) manual for details");
		return -1;
	}
	log_msg(LOG_DEBUG, "Service [%s] permitted by libwrap from %s", name,
	    c->peer_text);
	return 0;
}

#else /* !USE_LIBWRAP */

int
libwrap_load(void)
{
	log_msg(LOG_ERR, "libwrap = yes, but this build has no TCP Wrappers "
	    "support");
	return -1;
}

int
libwrap_check(struct client *c)
{
	(void)c;
	return 0;
}

#endif
