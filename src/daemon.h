/* daemon.h: becoming a well-behaved Unix daemon, and signals. */
#ifndef STUNNEL_DAEMON_H
#define STUNNEL_DAEMON_H

#include "options.h"

int	 daemon_open_null(void);
int	 daemon_detach(int);
int	 daemon_chroot(const char *);
int	 daemon_drop_privileges(long, long);
/* daemon_pid_open() when there is no pid file to write */
#define DAEMON_NO_PID	(-2)

int	 daemon_pid_open(const char *);
int	 daemon_pid_write(int, const char *);
void	 daemon_pid_remove(const char *);

int	 signal_init(void);
int	 signal_fd(void);
int	 signal_next(void);
void	 signal_child_defaults(int);

#endif
