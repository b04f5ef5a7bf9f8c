/* spare.h: connection processes forked before their connection comes. */
#ifndef STUNNEL_SPARE_H
#define STUNNEL_SPARE_H

#include "options.h"

void	 spare_fill(struct global *, struct service *, size_t,
	    void (*)(void));
pid_t	 spare_take(struct global *, struct service *, int, unsigned long,
	    unsigned);
size_t	 spare_count(void);
void	 spare_child(void);
void	 spare_retire_all(void);
int	 spare_reaped(pid_t);
int	 spare_reap_quiet(void);
void	 spare_wait_all(void);

#endif
