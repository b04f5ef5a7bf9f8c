/*
 * systemd.c: readiness notification and socket activation, without
 * libsystemd.
 *
 * Owns the two conventions: datagrams to $NOTIFY_SOCKET (READY=1 with
 * MAINPID=, RELOADING=1 with MONOTONIC_USEC=, STOPPING=1, STATUS=) and
 * the sockets inherited by $LISTEN_FDS/$LISTEN_PID from descriptor 3 on,
 * handed to the accept addresses they are bound to. Both variables (and
 * LISTEN_FDNAMES) leave the environment at start, so that connection
 * processes and exec'd programs never see them. Must never close an
 * inherited socket: systemd keeps it for the next start, and a reload
 * may want it again.
 */
#include "common.h"
#include "systemd.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_FDS_START	3

struct inherited {
	int		 fd;
	struct addr	 addr;		/* where it is bound (getsockname) */
	int		 used;		/* a listener has it */
};

static struct inherited	*pool;
static size_t		 npool;
static int		 notify_fd = -1;

/*
 * The notification socket is connected now, before any chroot or
 * privilege drop: a path may no longer be reachable later, and sending
 * on a connected socket needs no permission on it.
 */
static void
notify_open(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	size_t n = strlen(path);

	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sun.sun_path)) {
		log_msg(LOG_WARNING, "Ignoring NOTIFY_SOCKET: %s", path);
		return;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')		/* the abstract namespace */
		sun.sun_path[0] = '\0';
	else
		len++;
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		log_errno("NOTIFY_SOCKET socket");
		return;
	}
	if (connect(notify_fd, (struct sockaddr *)&sun, len) < 0) {
		log_errno("NOTIFY_SOCKET connect %s", path);
		close(notify_fd);
		notify_fd = -1;
	}
}

/* one notification; its lines are shown on one log line */
static void
notify(const char *msg)
{
	char *shown, *p;

	if (notify_fd < 0)
		return;
	shown = xstrdup(msg);
	for (p = shown; (p = strchr(p, '\n')) != NULL; )
		*p = ' ';
	log_msg(LOG_DEBUG, "Notifying systemd: %s", shown);
	free(shown);
	if (send(notify_fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		log_errno("NOTIFY_SOCKET send");
}

/* "N" of LISTEN_FDS or LISTEN_PID: a positive decimal, or -1 */
static long
env_number(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > INT_MAX / 2)
		return -1;
	return v;
}

/* a listening stream socket: non-blocking as ours, closed on exec */
static int
adopt(int fd)
{
	struct inherited *in;
	int type = 0, listening = 0;
	socklen_t tlen = sizeof(type), llen = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &listening, &llen) < 0 || !listening) {
		log_msg(LOG_ERR, "Descriptor received from systemd (FD=%d) is "
		    "not a listening stream socket", fd);
		return -1;
	}
	pool = xreallocarray(pool, npool + 1, sizeof(*pool));
	in = &pool[npool];
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->addr.len = sizeof(in->addr.sa);
	if (getsockname(fd, (struct sockaddr *)&in->addr.sa,
	    &in->addr.len) < 0) {
		log_errno("getsockname");
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_errno("fcntl");
		return -1;
	}
	npool++;
	return 0;
}

/*
 * At start, before anything is bound: take NOTIFY_SOCKET and the
 * inherited sockets, and clear the variables. LISTEN_FDS is ours only
 * when LISTEN_PID is our pid (otherwise it was meant for a parent).
 * 0, or -1 after logging why.
 */
int
systemd_init(void)
{
	const char *s;
	long pid, n, i;

	if ((s = getenv("NOTIFY_SOCKET")) != NULL)
		notify_open(s);
	pid = env_number(getenv("LISTEN_PID"));
	s = getenv("LISTEN_FDS");
	n = env_number(s);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (s == NULL || pid != (long)getpid())
		return 0;
	if (n < 0 && strcmp(s, "0") != 0) {
		log_msg(LOG_ERR, "Invalid LISTEN_FDS: %s", s);
		return -1;
	}
	if (n <= 0)
		return 0;
	log_msg(LOG_INFO, "Systemd socket activation: %ld descriptors "
	    "received", n);
	for (i = 0; i < n; i++)
		if (adopt(LISTEN_FDS_START + (int)i) < 0)
			return -1;
	return 0;
}

static int
same_place(const struct addr *a, const struct addr *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)&b->sa;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->sa;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&b->sa;
	const struct sockaddr_un *au = (const struct sockaddr_un *)&a->sa;
	const struct sockaddr_un *bu = (const struct sockaddr_un *)&b->sa;
	size_t off = offsetof(struct sockaddr_un, sun_path);

	if (a->sa.ss_family != b->sa.ss_family)
		return 0;
	switch (a->sa.ss_family) {
	case AF_INET:
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	case AF_UNIX:
		return a->len > off && b->len > off &&
		    strncmp(au->sun_path, bu->sun_path,
		    sizeof(au->sun_path)) == 0;
	}
	return 0;
}

/*
 * The inherited socket bound to accept address A, now used by a
 * listener; -1 if there is none (the service binds its own).
 */
int
systemd_take(const struct addr *a)
{
	size_t i;

	for (i = 0; i < npool; i++) {
		if (pool[i].used || !same_place(&pool[i].addr, a))
			continue;
		pool[i].used = 1;
		log_msg(LOG_DEBUG, "Listening file descriptor received from "
		    "systemd (FD=%d)", pool[i].fd);
		return pool[i].fd;
	}
	return -1;
}

/* its listener is gone: the socket stays open for a later reload */
void
systemd_release(int fd)
{
	size_t i;

	for (i = 0; i < npool; i++)
		if (pool[i].fd == fd)
			pool[i].used = 0;
}

/*
 * Log each inherited socket that no service took, at LEVEL; their
 * count. At start that is an error: systemd listens where nobody serves.
 */
size_t
systemd_unused(int level)
{
	char text[ADDR_TEXT_MAX];
	size_t i, n = 0;

	for (i = 0; i < npool; i++) {
		if (pool[i].used)
			continue;
		log_msg(level, "No service accepts on %s, the address of the "
		    "socket received from systemd (FD=%d)",
		    addr_text(&pool[i].addr, text, sizeof(text)),
		    pool[i].fd);
		n++;
	}
	return n;
}

/* a connection process: the parent alone notifies and listens */
void
systemd_child(void)
{
	size_t i;

	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
	for (i = 0; i < npool; i++)
		if (!pool[i].used)
			close(pool[i].fd);
	npool = 0;
}

/*
 * Ready (at start, after a reload): MAINPID says which process that is,
 * as it is not the one systemd started when the daemon detached.
 */
void
systemd_ready(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s\nMAINPID=%ld", status,
	    (long)getpid());
	notify(msg);
}

/*
 * The launcher, just before it exits, names the daemon it forked: until
 * then systemd takes the launcher for the main process, so that with
 * NotifyAccess=main the daemon's READY=1 would be refused and the
 * launcher's exit, before any READY=1, would fail the unit. systemd reads
 * notifications before exits, so this one is never too late.
 */
void
systemd_detached(pid_t daemon)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "MAINPID=%ld", (long)daemon);
	notify(msg);
}

/* the time stamp lets Type=notify-reload tell this reload from another */
void
systemd_reloading(void)
{
	struct timespec now;
	char msg[128];

	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
	notify(msg);
}

void
systemd_stopping(void)
{
	notify("STOPPING=1");
}
