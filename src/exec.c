/*
 * exec.c: the local program of "exec =".
 *
 * Owns starting the inetd-style program with its standard input and
 * output (and error, unless the daemon runs in the foreground) on one
 * end of a socket pair, or on a pseudo-terminal that becomes its
 * controlling terminal ("pty = yes"); its arguments ("execArgs", split
 * on white space, $0 first); its environment (REMOTE_HOST, REMOTE_PORT,
 * SSL_CLIENT_DN, SSL_CLIENT_I_DN, and LD_PRELOAD of libstunnel.so with
 * transparent source; setEnv is already in ours); and
 * collecting its exit status. Must never interpret what the program
 * reads or writes.
 */
#include "common.h"
#include "exec.h"
#include "daemon.h"
#include "log.h"
#include "transparent.h"
#include "verify.h"

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#ifdef HAVE_PTY_H
#include <pty.h>
#endif

#define EXEC_ARGS_MAX	64

static void
export_peer(struct client *c)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	char *dn;

	if (c->peer.len > 0 && c->peer.sa.ss_family != AF_UNIX &&
	    getnameinfo((struct sockaddr *)&c->peer.sa, c->peer.len, host,
	    sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
		setenv("REMOTE_HOST", host, 1);
		setenv("REMOTE_PORT", serv, 1);
	}
	if ((dn = verify_peer_dn(c->ssl, 0)) != NULL) {
		setenv("SSL_CLIENT_DN", dn, 1);
		free(dn);
	}
	if ((dn = verify_peer_dn(c->ssl, 1)) != NULL) {
		setenv("SSL_CLIENT_I_DN", dn, 1);
		free(dn);
	}
}

/* execArgs split on blanks, no quoting (as stunnel); default: the path */
static char **
build_argv(const struct service *svc, char **copy)
{
	char **argv = xcalloc(EXEC_ARGS_MAX + 1, sizeof(*argv));
	char *save = NULL, *word;
	int n = 0;

	*copy = xstrdup(svc->exec_args != NULL ? svc->exec_args : svc->exec);
	for (word = strtok_r(*copy, " \t", &save); word != NULL &&
	    n < EXEC_ARGS_MAX; word = strtok_r(NULL, " \t", &save))
		argv[n++] = word;
	if (n == 0)
		argv[n++] = svc->exec;
	return argv;
}

static void NORETURN
run_program(struct client *c, int fd, int is_pty)
{
	char **argv, *copy;

	signal_child_defaults(1);
	/*
	 * A terminal must be the controlling one of a session of its own.
	 * Otherwise the program stays in the daemon's process group, as in
	 * stunnel: a signal to the group (Ctrl-C in a terminal, a
	 * supervisor's kill of the group) ends it with the daemon.
	 */
	if (is_pty) {
		setsid();
		if (ioctl(fd, TIOCSCTTY, 0) < 0)
			log_errno("ioctl TIOCSCTTY");
	}
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (c->g->foreground != FG_YES)
		dup2(fd, STDERR_FILENO);
	closefrom(STDERR_FILENO + 1);
	export_peer(c);
	transparent_exec_env(c->svc);
	argv = build_argv(c->svc, &copy);
	execvp(c->svc->exec, argv);
	log_errno("execvp %s", c->svc->exec);
	_exit(1);
}

static int
make_channel(struct client *c, int fds[2])
{
	char name[64];

	if (!c->svc->pty) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
			log_errno("socketpair");
			return -1;
		}
		return 0;
	}
	if (openpty(&fds[0], &fds[1], name, NULL, NULL) < 0) {
		log_errno("openpty");
		return -1;
	}
	log_msg(LOG_DEBUG, "TTY=%s allocated", name);
	return 0;
}

/* Start the program; its end of the channel becomes the remote side. */
int
exec_start(struct client *c)
{
	int fds[2];
	pid_t pid;

	CLIENT_CHECK(c);
	if (make_channel(c, fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		log_errno("fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		run_program(c, fds[1], c->svc->pty);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	c->remote_fd = fds[0];
	c->exec_pid = pid;
	log_msg(LOG_INFO, "Local mode child started (PID=%ld)", (long)pid);
	return 0;
}

void
exec_reap(struct client *c)
{
	char name[32];
	int status;

	CLIENT_CHECK(c);
	if (c->exec_pid <= 0)
		return;
	log_msg(LOG_DEBUG, "Retrieving a pid status with wait()");
	if (waitpid(c->exec_pid, &status, 0) < 0)
		return;
	if (WIFSIGNALED(status))
		log_msg(LOG_INFO, "Child process %ld terminated on %s",
		    (long)c->exec_pid, str_signal(WTERMSIG(status), name,
		    sizeof(name)));
	else
		log_msg(LOG_INFO, "Child process %ld finished with code %d",
		    (long)c->exec_pid, WEXITSTATUS(status));
	c->exec_pid = 0;
}
