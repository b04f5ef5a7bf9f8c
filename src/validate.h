/* validate.h: checks made when a part of the configuration is complete. */
#ifndef STUNNEL_VALIDATE_H
#define STUNNEL_VALIDATE_H

#include "options.h"

int	 validate_global(struct global *);
int	 validate_service(struct global *, struct service *);
int	 validate_inetd(struct global *);

#endif
