/* capacity.h: how many connection processes may run at once. */
#ifndef STUNNEL_CAPACITY_H
#define STUNNEL_CAPACITY_H

#include <sys/types.h>

unsigned long	 capacity_clients(uid_t, unsigned);

#endif
