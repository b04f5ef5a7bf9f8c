/* checkmode.h: "-check", the configuration check mode (see checkmode.c). */
#ifndef STUNNEL_CHECKMODE_H
#define STUNNEL_CHECKMODE_H

#include "options.h"

void	 check_begin(void);
int	 check_active(void);
void	 check_option_line(const struct service *, const char *, const char *,
	    const char *, int);
int	 check_config(const struct global *, const char *, const char *);
void	 check_end(void);

#endif
