/* stunnel.h: the program's entry point and its start-up lines. */
#ifndef STUNNEL_STUNNEL_H
#define STUNNEL_STUNNEL_H

void	 stunnel_banner(void);

#endif
