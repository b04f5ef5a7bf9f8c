/* log.h: the daemon's one logging path (syslog, log file, stderr). */
#ifndef STUNNEL_LOG_H
#define STUNNEL_LOG_H

#include "common.h"
#include <syslog.h>

/* where the log goes once the configuration has been accepted */
struct log_config {
	int		 level;		/* highest level written, 0-7 */
	int		 facility;	/* syslog facility, e.g. LOG_DAEMON */
	int		 use_syslog;
	int		 use_stderr;	/* foreground = yes */
	const char	*ident;		/* syslog ident (global "service") */
	const char	*output;	/* log file, or NULL */
	int		 overwrite;	/* log = overwrite */
};

void	 log_msg(int, const char *, ...) PRINTF_LIKE(2, 3);
void	 log_vmsg(int, const char *, va_list) PRINTF_LIKE(2, 0);
void	 log_errno(const char *, ...) PRINTF_LIKE(1, 2);
void	 log_set_id(const char *);
const char *log_get_id(void);
void	 log_set_level(int);

void	 log_info_mode(void);
void	 log_dump_buffer(void);
int	 log_open(const struct log_config *);
int	 log_reopen(void);
void	 log_close(void);

/* the environment failed (out of memory...): logged, exit status 1 */
void	 fatal(const char *, ...) PRINTF_LIKE(1, 2) NORETURN;
/* our own bug (a broken invariant): logged with where, abort() for a core */
void	 panic_at(const char *, int, const char *, ...) PRINTF_LIKE(3, 4) NORETURN;
#define panic(...)	panic_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
