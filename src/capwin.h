/* capwin.h: "protocol = capwin" and "capwinctrl" (see capwin.c). */
#ifndef STUNNEL_CAPWIN_H
#define STUNNEL_CAPWIN_H

#include "protocol.h"

extern const struct protocol_def capwin_protocol, capwin_ctrl_protocol;

void	 capwin_prepare(void);

#endif
