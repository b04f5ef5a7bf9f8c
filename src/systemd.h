/* systemd.h: readiness notification and socket activation (see systemd.c). */
#ifndef STUNNEL_SYSTEMD_H
#define STUNNEL_SYSTEMD_H

#include "addr.h"

int	 systemd_init(void);
int	 systemd_take(const struct addr *);
void	 systemd_release(int);
size_t	 systemd_unused(int);
void	 systemd_child(void);
void	 systemd_ready(const char *);
void	 systemd_detached(pid_t);
void	 systemd_reloading(void);
void	 systemd_stopping(void);

#endif
