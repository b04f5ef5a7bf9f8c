/*
 * daemon.c: the process as a Unix citizen.
 *
 * Owns detaching (fork, new session, standard descriptors on /dev/null,
 * working directory /), chroot, dropping privileges in one fixed order
 * (setgroups, setgid, setuid, then a check that root cannot come back),
 * the pid file, and signals: handlers only write the signal number to a
 * non-blocking self-pipe that the main loop polls. Must never do the
 * work a signal asks for inside a handler.
 */
#include "common.h"
#include "daemon.h"
#include "log.h"
#include "systemd.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static int sigpipe_fds[2] = { -1, -1 };
static int jailed;

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer's check at exit needs /proc, which a jail lacks: there
 * it spins forever instead of exiting. Its documented hook turns the
 * check off for a chrooted process.
 */
int __lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return jailed;
}
#endif

static const int handled[] = {
	SIGCHLD, SIGHUP, SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGQUIT
};

/* stop signals that an "ignore" inherited from our parent keeps away */
static int
respects_ignore(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
}

/*
 * /dev/null, opened before any chroot (a jail need not have one) and
 * kept for daemon_detach(); -1 after logging why.
 */
int
daemon_open_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		log_errno("Could not open /dev/null");
	return fd;
}

/* NULLFD from daemon_open_null() becomes our stdin, stdout and stderr */
/*
 * The launcher tells systemd the daemon's pid (MAINPID=) before it exits,
 * and the daemon waits for that (the end of a pipe) before it can say
 * READY=1: systemd refuses a READY=1 from a process it does not know.
 */
int
daemon_detach(int nullfd)
{
	pid_t pid;
	int told[2];
	char c;

	if (pipe(told) < 0) {
		log_errno("daemon");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_errno("daemon");
		return -1;
	}
	if (pid > 0) {
		systemd_detached(pid);
		_exit(0);
	}
	close(told[1]);
	while (read(told[0], &c, 1) < 0 && errno == EINTR)
		continue;
	close(told[0]);
	if (setsid() < 0) {
		log_errno("daemon");
		return -1;
	}
	if (chdir("/") < 0) {
		log_errno("chdir");
		return -1;
	}
	dup2(nullfd, STDIN_FILENO);
	dup2(nullfd, STDOUT_FILENO);
	dup2(nullfd, STDERR_FILENO);
	if (nullfd > STDERR_FILENO)
		close(nullfd);
	return 0;
}

int
daemon_chroot(const char *dir)
{
	if (chroot(dir) < 0) {
		log_errno("chroot");
		return -1;
	}
	if (chdir("/") < 0) {
		log_errno("chdir");
		return -1;
	}
	jailed = 1;
	log_msg(LOG_NOTICE, "Switched to chroot directory: %s", dir);
	return 0;
}

/* Group first, while we still may; then the user; then make sure. */
int
daemon_drop_privileges(long uid, long gid)
{
	gid_t g;

	if (gid >= 0) {
		g = (gid_t)gid;
		if (setgroups(1, &g) < 0 && getuid() == 0) {
			log_errno("setgroups");
			return -1;
		}
		if (setgid(g) < 0) {
			log_errno("setgid");
			return -1;
		}
	}
	if (uid >= 0) {
		if (gid < 0 && getuid() == 0 && setgroups(0, NULL) < 0) {
			log_errno("setgroups");
			return -1;
		}
		if (setuid((uid_t)uid) < 0) {
			log_errno("setuid");
			return -1;
		}
		if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
			fatal("root privileges could be regained after setuid");
	}
	return 0;
}

/*
 * Create the pid file PATH, empty, before detaching: a daemon that could
 * not write it must not leave a launcher that reported success. The
 * descriptor, or -1 (logged); DAEMON_NO_PID when there is no pid file.
 */
int
daemon_pid_open(const char *path)
{
	int fd;

	if (path == NULL) {
		log_msg(LOG_DEBUG, "No pid file being created");
		return DAEMON_NO_PID;
	}
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC,
	    0644);
	if (fd < 0) {
		log_msg(LOG_ERR, "Cannot create pid file %s", path);
		log_errno("create");
	}
	return fd;
}

/* the pid of the process that stays, into FD from daemon_pid_open() */
int
daemon_pid_write(int fd, const char *path)
{
	char buf[32];
	int len, rc = 0;

	if (fd == DAEMON_NO_PID)
		return 0;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len) {
		log_msg(LOG_ERR, "Cannot write pid file %s", path);
		log_errno("write");
		rc = -1;
	} else {
		log_msg(LOG_DEBUG, "Created pid file %s", path);
	}
	close(fd);
	return rc;
}

void
daemon_pid_remove(const char *path)
{
	if (path == NULL) {
		log_msg(LOG_DEBUG, "No pid file to remove");
		return;
	}
	if (unlink(path) < 0)
		log_errno("%s", path);
	else
		log_msg(LOG_DEBUG, "Removed pid file %s", path);
}

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	if (write(sigpipe_fds[1], &b, 1) < 0) {
		/* a full pipe already holds a wake-up for the loop */
	}
	errno = saved;
}

int
signal_init(void)
{
	struct sigaction sa;
	size_t i;

	if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_errno("pipe");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < ARRAY_SIZE(handled); i++) {
		struct sigaction old;

		if (respects_ignore(handled[i]) &&
		    sigaction(handled[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(handled[i], &sa, NULL);
	}
	return 0;
}

int
signal_fd(void)
{
	return sigpipe_fds[0];
}

/* the next signal the handlers recorded, or 0 when there is none */
int
signal_next(void)
{
	unsigned char b;

	if (read(sigpipe_fds[0], &b, 1) == 1)
		return b;
	return 0;
}

/*
 * What a connection process starts with; an exec'd program (FOR_EXEC)
 * also gets SIGPIPE back, which the daemon itself ignores.
 */
void
signal_child_defaults(int for_exec)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < ARRAY_SIZE(handled); i++)
		sigaction(handled[i], &sa, NULL);
	if (for_exec)
		sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sigpipe_fds[0] >= 0) {
		close(sigpipe_fds[0]);
		close(sigpipe_fds[1]);
		sigpipe_fds[0] = sigpipe_fds[1] = -1;
	}
}
