/*
 * server.c: the parent process.
 *
 * Owns the listening sockets, the one poll() loop over them and the
 * signal pipe, accept() and one fork() per connection (or the socket
 * handed to a spare forked ahead, spare.c), reaping children
 * (and restarting exec+connect sections), reloading the configuration
 * on SIGHUP (listeners whose address did not change stay open, so no
 * connection is refused), reopening the log on SIGUSR1 and the orderly
 * end on SIGTERM; telling systemd about each (systemd.c), whose
 * inherited sockets serve the accept addresses they are bound to; the
 * limit on connection processes (capacity.c), and pausing accept() when
 * a process or descriptor cannot be had. Must never touch connection
 * data nor block on a child (nor sleep: a pause only leaves the
 * listeners out of poll()): everything per connection happens in
 * client.c, in the child.
 */
#include "common.h"
#include "server.h"
#include "arena.h"
#include "capacity.h"
#include "client.h"
#include "conffile.h"
#include "daemon.h"
#include "log.h"
#include "mapshare.h"
#include "sandbox.h"
#include "sockopt.h"
#include "spare.h"
#include "systemd.h"

#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct listener {
	int		 fd;
	struct addr	 addr;
	struct service	*svc;
	unsigned	 rr_next;	/* round-robin start of the next child
					   (the section's first listener counts) */
	int		 inherited;	/* systemd's: never closed nor unlinked */
};

/*
 * exec_connect is the running section of the current configuration (it
 * is retried when the child ends), NULL for a connection or a run left
 * from before a reload; rr is where that run's failover started.
 */
struct child {
	pid_t		 pid;
	struct service	*exec_connect;
	unsigned	 rr;
};

/* an exec+connect section to run again, in the current configuration */
struct restart {
	struct service	*svc;
	unsigned	 rr;
	long long	 when;		/* now_ms() of the run */
};

static struct global	*config;
static const char	*config_path, *config_fd;
static struct listener	*listeners;
static size_t		 nlisteners;
static struct child	*children;
static size_t		 nchildren;
static struct restart	*restarts;
static size_t		 nrestarts;
static unsigned long	 next_seq;
static struct pollfd	*pollfds;
static unsigned long	 clients_allowed;
static long long	 paused_until;	/* now_ms() when accept() resumes */
static struct service	*last_service;	/* what spares rehearse for */
static long long	 last_accept;	/* now_ms() */

#define SPARE_QUIET_MS	10	/* since the last accept, before forking ahead */

static const char *
svc_name(const struct service *svc)
{
	return svc->name != NULL ? svc->name : "stunnel";
}

static void
unlink_unix(const struct addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;
	struct stat st;

	if (a->sa.ss_family != AF_UNIX || lstat(sun->sun_path, &st) < 0)
		return;
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "Not a socket: %s", sun->sun_path);
		return;
	}
	if (unlink(sun->sun_path) == 0)
		log_msg(LOG_DEBUG, "Socket removed: %s", sun->sun_path);
}

/* a Unix socket listener belongs to the section's setuid/setgid */
static void
chown_unix(const struct service *svc, const struct addr *a)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a->sa;

	if (svc->setuid < 0 && svc->setgid < 0) {
		log_msg(LOG_DEBUG, "Socket chown unneeded: %s", sun->sun_path);
		return;
	}
	if (chown(sun->sun_path, (uid_t)svc->setuid, (gid_t)svc->setgid) < 0)
		log_msg(LOG_ERR, "Socket chown failed: %s, UID=%ld, GID=%ld",
		    sun->sun_path, svc->setuid, svc->setgid);
	else
		log_msg(LOG_DEBUG, "Socket chown succeeded: %s, UID=%ld, GID=%ld",
		    sun->sun_path, svc->setuid, svc->setgid);
}

/*
 * The line scripts read the port from: at start, and after a reload for
 * every listener of the new configuration, the kept ones too.
 */
static void
log_bound(const struct service *svc, int fd, const struct addr *a)
{
	char text[ADDR_TEXT_MAX];
	struct addr bound;

	bound.len = sizeof(bound.sa);
	if (getsockname(fd, (struct sockaddr *)&bound.sa, &bound.len) < 0)
		bound = *a;
	log_msg(LOG_INFO, "Service [%s] (FD=%d) bound to %s", svc_name(svc),
	    fd, addr_text(&bound, text, sizeof(text)));
}

/* one listening socket; its descriptor, or -1 (logged at notice) */
static int
open_listener(const struct service *svc, const struct addr *a)
{
	char text[ADDR_TEXT_MAX];
	int fd;

	addr_text(a, text, sizeof(text));
	fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_errno("accept socket");
		return -1;
	}
	log_msg(LOG_DEBUG, "Listening file descriptor created (FD=%d)", fd);
	if (a->sa.ss_family != AF_UNIX)
		sockopt_apply(fd, SOCK_ACCEPT, &svc->socket_opts);
	else
		unlink_unix(a);
	if (bind(fd, (struct sockaddr *)&a->sa, a->len) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		log_msg(LOG_NOTICE, "Binding service [%s] to %s: %s (%d)",
		    svc_name(svc), text, strerror(errno), errno);
		close(fd);
		return -1;
	}
	if (a->sa.ss_family == AF_UNIX)
		chown_unix(svc, a);
	log_bound(svc, fd, a);
	return fd;
}

/*
 * Where a section's round-robin starts: a random entry, as in stunnel,
 * so that instances started together do not all load the first target.
 */
static unsigned
rr_first(void)
{
	unsigned short v;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = 0;
	return v;
}

static void
add_listener(struct listener **list, size_t *n, const struct listener *l)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[*n] = *l;
	(*n)++;
}

static int
same_addr(const struct addr *a, const struct addr *b)
{
	return a->len == b->len && memcmp(&a->sa, &b->sa, a->len) == 0;
}

static int
any_port(const struct addr *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->sa;

	if (a->sa.ss_family == AF_INET)
		return in->sin_port == 0;
	if (a->sa.ss_family == AF_INET6)
		return in6->sin6_port == 0;
	return 0;
}

/*
 * The old listener that the same address in SVC can keep using, taken
 * out of the old list into L. "Port 0" is only the same port for the
 * same service: another service asked for a port of its own.
 */
static int
take_old(struct listener *old, size_t nold, const struct service *svc,
    struct listener *l)
{
	size_t i;

	for (i = 0; i < nold; i++) {
		if (old[i].fd >= 0 && same_addr(&old[i].addr, &l->addr) &&
		    (!any_port(&l->addr) || strcmp(svc_name(old[i].svc),
		    svc_name(svc)) == 0)) {
			l->fd = old[i].fd;
			l->rr_next = old[i].rr_next;
			l->inherited = old[i].inherited;
			old[i].fd = -1;
			return 0;
		}
	}
	return -1;
}

/*
 * The listener of accept address L->addr of SVC: kept from OLD, else
 * the socket systemd bound there, else a new one. -1 if none.
 */
static int
listen_at(struct service *svc, struct listener *old, size_t nold,
    struct listener *l)
{
	l->svc = svc;
	l->rr_next = rr_first();
	l->inherited = 0;
	if (take_old(old, nold, svc, l) == 0) {
		log_bound(svc, l->fd, &l->addr);
		return 0;
	}
	if ((l->fd = systemd_take(&l->addr)) >= 0) {
		l->inherited = 1;
		if (l->addr.sa.ss_family != AF_UNIX)
			sockopt_apply(l->fd, SOCK_ACCEPT, &svc->socket_opts);
		log_bound(svc, l->fd, &l->addr);
		return 0;
	}
	l->fd = open_listener(svc, &l->addr);
	return l->fd < 0 ? -1 : 0;
}

static int
is_exec_connect(const struct service *svc)
{
	return svc->accept.n == 0 && svc->exec != NULL && svc->connect.n > 0 &&
	    (svc->client || svc->sni.n == 0);
}

/*
 * Listeners for every accept of G, reusing those of OLD whose address
 * is unchanged. Returns -1 if some section could bind nothing.
 */
static int
bind_all(struct global *g, struct listener *old, size_t nold,
    struct listener **out, size_t *nout)
{
	struct service *svc;
	struct listener l;
	size_t i, bound;
	int rc = 0;

	for (svc = g->services; svc != NULL; svc = svc->next) {
		if (svc->accept.n == 0) {
			if (is_exec_connect(svc))
				log_msg(LOG_DEBUG, "Skipped exec+connect "
				    "service [%s]", svc_name(svc));
			else if (svc->sni.n > 0)
				log_msg(LOG_DEBUG, "Skipped SNI secondary "
				    "service [%s]", svc_name(svc));
			else {
				/* e.g. exec with transparent destination */
				log_msg(LOG_ERR, "Invalid service [%s]",
				    svc_name(svc));
				rc = -1;
			}
			continue;
		}
		log_msg(LOG_DEBUG, "Binding service [%s]", svc_name(svc));
		for (i = 0, bound = 0; i < svc->accept_addrs.n; i++) {
			l.addr = svc->accept_addrs.v[i];
			if (listen_at(svc, old, nold, &l) < 0)
				continue;
			add_listener(out, nout, &l);
			bound++;
		}
		if (bound == 0) {
			log_msg(LOG_ERR, "Binding service [%s] failed",
			    svc_name(svc));
			rc = -1;
		}
	}
	return rc;
}

static void
close_listener(struct listener *l)
{
	if (l->fd < 0)
		return;
	log_msg(LOG_DEBUG, "Service [%s] closed (FD=%d)", svc_name(l->svc),
	    l->fd);
	if (l->inherited) {
		systemd_release(l->fd);
	} else {
		close(l->fd);
		unlink_unix(&l->addr);
	}
	l->fd = -1;
}

static void
close_listeners(struct listener *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close_listener(&list[i]);
}

/* at the end, section by section as stunnel says it */
static void
unbind_all(void)
{
	struct service *svc;
	size_t i;

	for (svc = config->services; svc != NULL; svc = svc->next) {
		log_msg(LOG_DEBUG, "Unbinding service [%s]", svc_name(svc));
		for (i = 0; i < nlisteners; i++)
			if (listeners[i].svc == svc)
				close_listener(&listeners[i]);
		log_msg(LOG_DEBUG, "Service [%s] closed", svc_name(svc));
	}
}

/*
 * At start: every listener, or nothing. A socket systemd passed that no
 * service takes fails the start too: its clients would wait forever.
 */
int
server_bind(struct global *g)
{
	if (systemd_init() < 0 ||
	    bind_all(g, NULL, 0, &listeners, &nlisteners) < 0 ||
	    systemd_unused(LOG_ERR) > 0) {
		close_listeners(listeners, nlisteners);
		free(listeners);
		listeners = NULL;
		nlisteners = 0;
		return -1;
	}
	return 0;
}

static void
add_child(pid_t pid, struct service *exec_connect, unsigned rr)
{
	children = xreallocarray(children, nchildren + 1, sizeof(*children));
	children[nchildren].pid = pid;
	children[nchildren].exec_connect = exec_connect;
	children[nchildren].rr = rr;
	nchildren++;
}

/* what every new connection process does first: none of this is its own */
static void
child_setup(void)
{
	size_t i;

	arena_child();
	signal_child_defaults(0);
	systemd_child();
	spare_child();
	for (i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
}

/*
 * Fork one connection process; the child never comes back. A failed
 * fork is the caller's to log: like stunnel, without the reason.
 */
static pid_t
spawn(struct client_start *start)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_setup();
	client_main(start);
	_exit(0);
}

/* round-robin counts the section's connections, whatever address took them */
static unsigned *
section_rr(const struct listener *l)
{
	size_t i;

	for (i = 0; listeners[i].svc != l->svc; i++)
		;
	return &listeners[i].rr_next;
}

/*
 * Out of processes or descriptors: the listeners leave poll() for a
 * second (signals and children are still served) rather than accepting
 * and refusing the whole backlog at once.
 */
static void
pause_accepting(void)
{
	log_msg(LOG_NOTICE, "Accepting new connections suspended for 1 second");
	paused_until = now_ms() + 1000;
}

/* the limit of the configuration in force, as stunnel logs it */
static void
set_clients_allowed(void)
{
	const struct service *d = config->defaults, *svc;
	unsigned per = 1;

	for (svc = config->services; svc != NULL; svc = svc->next)
		if (svc->exec != NULL)
			per = 2;
	clients_allowed = capacity_clients(d->setuid >= 0 ?
	    (uid_t)d->setuid : geteuid(), per);
	log_msg(LOG_DEBUG, "Clients allowed=%lu", clients_allowed);
}

static void
accept_one(struct listener *l)
{
	struct client_start start;
	unsigned *rr = section_rr(l);
	struct addr peer;
	char text[ADDR_TEXT_MAX];
	pid_t pid;
	int fd;

	peer.len = sizeof(peer.sa);
	fd = accept4(l->fd, (struct sockaddr *)&peer.sa, &peer.len,
	    SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			log_errno("local socket");
			pause_accepting();
		}
		return;
	}
	log_msg(LOG_DEBUG, "Service [%s] accepted (FD=%d) from %s",
	    svc_name(l->svc), fd, addr_text(&peer, text, sizeof(text)));
	if (nchildren >= clients_allowed) {
		log_msg(LOG_WARNING, "Connection rejected: too many clients "
		    "(>=%lu)", clients_allowed);
		close(fd);
		return;
	}
	last_service = l->svc;
	last_accept = now_ms();
	pid = spare_take(config, l->svc, fd, next_seq, *rr);
	if (pid < 0) {
		start = (struct client_start){ .g = config, .svc = l->svc,
		    .rfd = fd, .wfd = fd, .seq = next_seq,
		    .failover_start = *rr };
		pid = spawn(&start);
	}
	close(fd);
	if (pid < 0) {
		log_msg(LOG_ERR, "Connection rejected: create_client failed");
		/* the next one would fail too: let children end first */
		pause_accepting();
		return;
	}
	add_child(pid, NULL, 0);
	next_seq++;
	(*rr)++;
}

/* one run of an exec+connect section, its failover starting at RR */
static int
run_exec_connect(struct service *svc, unsigned rr)
{
	struct client_start start = { .g = config, .svc = svc, .rfd = -1,
	    .wfd = -1, .seq = next_seq, .failover_start = rr };
	pid_t pid;

	pid = spawn(&start);
	if (pid < 0) {
		log_msg(LOG_ERR, "Failed to start exec+connect service [%s]",
		    svc_name(svc));
		return -1;
	}
	add_child(pid, svc, rr);
	next_seq++;
	return 0;
}

/* at start and after a reload: the first run of each section */
static int
start_all_exec_connect(void)
{
	struct service *svc;
	int rc = 0;

	for (svc = config->services; svc != NULL; svc = svc->next) {
		if (!is_exec_connect(svc))
			continue;
		log_msg(LOG_DEBUG, "Starting exec+connect service [%s]",
		    svc_name(svc));
		if (run_exec_connect(svc, rr_first()) < 0)
			rc = -1;
	}
	return rc;
}

/* the next run after "retry" ms, its failover one entry further */
static void
schedule_restart(struct service *svc, unsigned rr)
{
	log_msg(LOG_INFO, "Retrying an exec+connect section");
	restarts = xreallocarray(restarts, nrestarts + 1, sizeof(*restarts));
	restarts[nrestarts].svc = svc;
	restarts[nrestarts].rr = rr;
	restarts[nrestarts].when = now_ms() + svc->retry;
	nrestarts++;
}

/* restarts that are due now; the ms until the next one, or -1 */
static int
run_restarts(void)
{
	struct service *svc;
	long long now = now_ms(), wait = -1, left;
	unsigned rr;
	size_t i = 0;

	while (i < nrestarts) {
		left = restarts[i].when - now;
		if (left > 0) {
			if (wait < 0 || left < wait)
				wait = left;
			i++;
			continue;
		}
		svc = restarts[i].svc;
		rr = restarts[i].rr;
		restarts[i] = restarts[--nrestarts];
		/* a run that could not even start is retried all the same */
		if (run_exec_connect(svc, rr) < 0)
			schedule_restart(svc, rr);
	}
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

static void
log_status(pid_t pid, int status)
{
	char name[32];

	if (WIFSIGNALED(status)) {
		str_signal(WTERMSIG(status), name, sizeof(name));
		log_msg(LOG_INFO, "Process %ld terminated on %s", (long)pid,
		    name);
	} else {
		log_msg(LOG_INFO, "Process %ld finished with code %d",
		    (long)pid, WEXITSTATUS(status));
	}
}

static void
reap(void)
{
	struct service *svc;
	pid_t pid;
	size_t i;
	int status;

	log_msg(LOG_DEBUG, "Retrieving pid statuses with waitpid()");
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (spare_reaped(pid) && !WIFSIGNALED(status))
			continue;
		log_status(pid, status);
		for (i = 0; i < nchildren; i++) {
			if (children[i].pid != pid)
				continue;
			svc = children[i].exec_connect;
			if (svc != NULL && svc->retry >= 0)
				schedule_restart(svc, children[i].rr + 1);
			children[i] = children[--nchildren];
			break;
		}
	}
}

/*
 * The sections of the old configuration are about to go: their runs
 * finish as connections do, and only the new configuration's sections
 * are run (and retried) from now on.
 */
static void
forget_exec_connect(void)
{
	size_t i;

	for (i = 0; i < nchildren; i++)
		children[i].exec_connect = NULL;
	nrestarts = 0;
}

/*
 * SIGHUP: read the configuration again into fresh structures; only if it
 * loads are they swapped in. Listeners with an unchanged address stay
 * open; running children keep the configuration they were forked with.
 */
static void
reload(void)
{
	struct listener *fresh = NULL;
	struct log_config lc;
	struct global *g;
	enum load_failure why;
	size_t nfresh = 0;
	int rc;

	log_msg(LOG_DEBUG, "Processing SIGNAL_RELOAD_CONFIG");
	systemd_reloading();
	log_msg(LOG_INFO, "Initializing inetd mode configuration");
	g = conffile_load(config_path, config_fd, &why);
	if (g == NULL || g->inetd) {
		if (g != NULL)
			log_msg(LOG_ERR, "Inetd mode cannot be reloaded into a "
			    "daemon");
		options_free(g);
		log_msg(LOG_ERR, "Failed to reload the configuration file");
		systemd_ready("Reload failed: old configuration kept");
		return;
	}
	log_msg(LOG_NOTICE, "Configuration successful");
	rc = bind_all(g, listeners, nlisteners, &fresh, &nfresh);
	close_listeners(listeners, nlisteners);
	systemd_unused(LOG_WARNING);
	free(listeners);
	listeners = fresh;
	nlisteners = nfresh;
	forget_exec_connect();
	spare_retire_all();
	last_service = NULL;
	options_free(config);
	config = g;
	options_log_settings(config, &lc);
	if (log_open(&lc) < 0)
		log_msg(LOG_ERR, "Cannot open log file: %s", config->output);
	set_clients_allowed();
	/* an engine or a provider may be new */
	mapshare_prepare();
	sandbox_prepare();
	if (start_all_exec_connect() < 0)
		rc = -1;
	systemd_ready(rc < 0 ? "Configuration reloaded, but some services "
	    "failed to start" : "Configuration reloaded");
}

/* SIGTERM and friends: end every connection process, then ourselves */
static void NORETURN
terminate(void)
{
	size_t i;
	int status;

	systemd_stopping();
	log_msg(LOG_NOTICE, "Terminating service processes");
	for (i = 0; i < nchildren; i++)
		kill(children[i].pid, SIGTERM);
	for (i = 0; i < nchildren; i++)
		while (waitpid(children[i].pid, &status, 0) < 0 &&
		    errno == EINTR)
			;
	spare_wait_all();
	log_msg(LOG_NOTICE, "Service processes terminated");
	daemon_pid_remove(config->pid);
	unbind_all();
	log_close();
	free(restarts);
	free(children);
	free(listeners);
	free(pollfds);
	options_free(config);
	exit(0);
}

static void
dispatch(int sig)
{
	char name[32];

	switch (sig) {
	case SIGCHLD:
		if (spare_reap_quiet())
			break;
		log_msg(LOG_DEBUG, "Processing SIGCHLD");
		reap();
		break;
	case SIGHUP:
		reload();
		break;
	case SIGUSR1:
		log_msg(LOG_DEBUG, "Processing SIGNAL_REOPEN_LOG");
		spare_retire_all();
		if (log_reopen() == 0)
			log_msg(LOG_NOTICE, "Log file reopened");
		break;
	case SIGUSR2:
		log_msg(LOG_DEBUG, "Processing SIGUSR2: no connection list in "
		    "the fork model");
		break;
	case SIGTERM:
		log_msg(LOG_DEBUG, "Processing SIGNAL_TERMINATE");
		log_msg(LOG_NOTICE, "Terminated");
		terminate();
	default:
		log_msg(LOG_ERR, "Received %s; terminating",
		    str_signal(sig, name, sizeof(name)));
		terminate();
	}
}

/*
 * Spares are forked once the listeners have been quiet for a while: not
 * on the heels of an accept, when the new connection's handshake needs
 * the CPU. WAIT_MS, shortened to that moment if it is still to come.
 */
static int
fill_spares(int wait_ms)
{
	long long left;

	if (spare_count() >= config->spares)
		return wait_ms;
	left = last_accept + SPARE_QUIET_MS - now_ms();
	if (left > 0)
		return wait_ms < 0 || left < wait_ms ? (int)left : wait_ms;
	spare_fill(config, last_service != NULL ? last_service :
	    config->services, config->spares, child_setup);
	return wait_ms;
}

static void
loop(void)
{
	struct pollfd *fds;
	size_t i, n;
	int sig, rc, wait_ms, paused;
	long long left;

	for (;;) {
		wait_ms = run_restarts();
		left = paused_until - now_ms();
		paused = left > 0;
		if (paused && (wait_ms < 0 || left < wait_ms))
			wait_ms = (int)left;
		fds = pollfds = xreallocarray(pollfds, nlisteners + 1,
		    sizeof(*fds));
		fds[0].fd = signal_fd();
		fds[0].events = POLLIN;
		for (i = 0; i < nlisteners; i++) {
			/* a negative descriptor is left out of poll() */
			fds[i + 1].fd = paused ? -1 : listeners[i].fd;
			fds[i + 1].events = POLLIN;
		}
		n = nlisteners + 1;
		if (!paused)
			wait_ms = fill_spares(wait_ms);
		rc = poll(fds, (nfds_t)n, wait_ms);
		if (rc < 0 && errno != EINTR) {
			log_errno("daemon_loop: s_poll_wait");
			sleep(1);
			continue;
		}
		/* listeners first: a reload may replace the list */
		for (i = 1; rc > 0 && i < n && i <= nlisteners; i++)
			if (fds[i].revents & POLLIN)
				accept_one(&listeners[i - 1]);
		if (rc > 0 && (fds[0].revents & POLLIN))
			while ((sig = signal_next()) != 0)
				dispatch(sig);
	}
}

/*
 * The daemon's life after the configuration is accepted and bound:
 * PATH or FD say where a reload reads from.
 */
int
server_run(struct global *g, const char *path, const char *fd)
{
	config = g;
	config_path = path;
	config_fd = fd;
	set_clients_allowed();
	sandbox_prepare();	/* mapshare_prepare() ran before chroot */
	if (start_all_exec_connect() < 0) {
		/* as stunnel: the daemon does not start without them */
		log_msg(LOG_CRIT, "Failed to start exec+connect services");
		while (nchildren > 0)
			kill(children[--nchildren].pid, SIGTERM);
		return 1;
	}
	log_msg(LOG_INFO, "Accepting new connections");
	systemd_ready("Accepting new connections");
	loop();
	return 0;
}
