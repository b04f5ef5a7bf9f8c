/*
 * spare.c: connection processes forked before their connection comes.
 *
 * Owns the spares: while the parent has nothing else to do it forks a
 * few processes that warm themselves up and then wait, each on its own
 * socketpair, for exactly one accepted socket; a spare serves that one
 * connection with client_main() and ends like any connection process,
 * so the fork is no longer between connect() and the first byte. The
 * parent only passes the descriptor on (it never reads connection
 * data). A spare holds the configuration and the log it was forked
 * with, so a reload or a log reopen retires every spare. Must never
 * hand a spare two connections.
 */
#include "common.h"
#include "spare.h"
#include "client.h"
#include "ctx.h"
#include "log.h"
#include "util.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* what travels with the descriptor */
struct handoff {
	unsigned	 service;	/* its index in the configuration */
	unsigned	 failover_start;
	unsigned long	 seq;
};

/* one message and, with SCM_RIGHTS, one descriptor */
static int
fd_send(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr	 hdr;
		char		 space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)len ? 0 : -1;
}

/* the message's length (0 at the end), and its descriptor in *FD */
static ssize_t
fd_recv(int sock, void *buf, size_t len, int *fd)
{
	union {
		struct cmsghdr	 hdr;
		char		 space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	cm = CMSG_FIRSTHDR(&msg);
	if (n > 0 && cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* ctl is the parent's end; -1 once retired, until the process is reaped */
struct spare {
	pid_t		 pid;
	int		 ctl;
};

static struct spare	*spares;
static size_t		 nspares;

static struct service *
service_at(struct global *g, unsigned index)
{
	struct service *svc = g->services;

	while (svc != NULL && index-- > 0)
		svc = svc->next;
	return svc;
}

static int
service_index(const struct global *g, const struct service *want)
{
	const struct service *svc;
	int i = 0;

	for (svc = g->services; svc != NULL; svc = svc->next, i++)
		if (svc == want)
			return i;
	return -1;
}

/*
 * What the next connection will do anyway, done before it comes (a
 * rehearsal of its handshake's first steps): the pages it writes are
 * copied, the code it runs is at hand, and the process's own pool holds
 * blocks of the right sizes. It is nobody's connection, so it says
 * nothing (client_main() sets the level of the real one).
 */
static void
warm_up(const struct service *hint)
{
	if (hint == NULL)
		return;
	log_set_level(-1);
	ctx_rehearse(hint);
}

/*
 * The spare's life: one descriptor, or the parent's end closed. While it
 * waits, ps shows it as "NAME: spare" (the kernel's 15 characters).
 */
static void NORETURN
spare_main(struct global *g, struct service *hint, int ctl)
{
	struct client_start start;
	struct handoff h;
	struct service *svc;
	char own[16] = "", waiting[16];
	int fd;

	prctl(PR_GET_NAME, own);
	snprintf(waiting, sizeof(waiting), "%.8s: spare", own);
	prctl(PR_SET_NAME, waiting);
	warm_up(hint);
	if (fd_recv(ctl, &h, sizeof(h), &fd) != (ssize_t)sizeof(h) ||
	    fd < 0)
		_exit(0);
	close(ctl);
	prctl(PR_SET_NAME, own);
	svc = service_at(g, h.service);
	if (svc == NULL || svc->magic != SERVICE_MAGIC)
		panic("spare: no service %u", h.service);
	start = (struct client_start){ .g = g, .svc = svc, .rfd = fd,
	    .wfd = fd, .seq = h.seq, .failover_start = h.failover_start };
	client_main(&start);
	_exit(0);
}

/* every control descriptor, in a new child: none is its business */
void
spare_child(void)
{
	size_t i;

	for (i = 0; i < nspares; i++)
		if (spares[i].ctl >= 0)
			close(spares[i].ctl);
	free(spares);
	spares = NULL;
	nspares = 0;
}

static void
retire(struct spare *s)
{
	if (s->ctl >= 0)
		close(s->ctl);
	s->ctl = -1;
}

size_t
spare_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < nspares; i++)
		if (spares[i].ctl >= 0)
			n++;
	return n;
}

/*
 * Fork spares up to WANT, ready for G's services, warmed for HINT's;
 * SETUP is what any new connection process does first.
 */
void
spare_fill(struct global *g, struct service *hint, size_t want,
    void (*setup)(void))
{
	int sv[2];
	pid_t pid;

	while (spare_count() < want) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sv) < 0)
			return;
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			setup();
			spare_main(g, hint, sv[1]);
		}
		close(sv[1]);
		if (pid < 0) {
			close(sv[0]);
			return;
		}
		spares = xreallocarray(spares, nspares + 1, sizeof(*spares));
		spares[nspares++] = (struct spare){ .pid = pid, .ctl = sv[0] };
	}
}

/*
 * Give the accepted FD to a spare; its pid, or -1 if none was there to
 * take it (the caller forks as usual). The parent's copy of FD stays the
 * caller's to close.
 */
pid_t
spare_take(struct global *g, struct service *svc, int fd,
    unsigned long seq, unsigned failover_start)
{
	struct handoff h;
	int index = service_index(g, svc);
	size_t i;
	pid_t pid;

	if (index < 0)
		return -1;
	h = (struct handoff){ .service = (unsigned)index,
	    .failover_start = failover_start, .seq = seq };
	for (i = 0; i < nspares; i++) {
		if (spares[i].ctl < 0)
			continue;
		pid = spares[i].pid;
		if (fd_send(spares[i].ctl, &h, sizeof(h), fd) < 0) {
			retire(&spares[i]);
			continue;
		}
		retire(&spares[i]);
		spares[i] = spares[--nspares];
		return pid;
	}
	return -1;
}

/* a reload, a log reopen or the end: no spare takes another connection */
void
spare_retire_all(void)
{
	size_t i;

	for (i = 0; i < nspares; i++)
		retire(&spares[i]);
}

/* PID was reaped: 1 if it was a spare that never served (nothing to log) */
int
spare_reaped(pid_t pid)
{
	size_t i;

	for (i = 0; i < nspares; i++) {
		if (spares[i].pid != pid)
			continue;
		retire(&spares[i]);
		spares[i] = spares[--nspares];
		return 1;
	}
	return 0;
}

/*
 * SIGCHLD: reap the spares that ended having served nothing (a reload
 * retired them) before the parent says a word, as no process of
 * stunnel's would have ended. 1 if they were all there was to reap; 0
 * if another child ended (or one of them did not simply exit).
 */
int
spare_reap_quiet(void)
{
	siginfo_t si;
	int reaped = 0;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return reaped;
		if (si.si_code != CLD_EXITED || !spare_reaped(si.si_pid))
			return 0;
		waitpid(si.si_pid, NULL, 0);
		reaped = 1;
	}
}

/* at the end: the spares are ended and waited for, quietly */
void
spare_wait_all(void)
{
	size_t i;
	int status;

	spare_retire_all();
	for (i = 0; i < nspares; i++)
		kill(spares[i].pid, SIGTERM);
	while (nspares > 0) {
		while (waitpid(spares[nspares - 1].pid, &status, 0) < 0 &&
		    errno == EINTR)
			;
		nspares--;
	}
	free(spares);
	spares = NULL;
}
