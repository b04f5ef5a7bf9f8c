/* mapshare.h: code and read-only data that fork() hands to children. */
#ifndef STUNNEL_MAPSHARE_H
#define STUNNEL_MAPSHARE_H

void	 mapshare_prepare(void);

#endif
