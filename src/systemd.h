/* systemd.h: readiness notification and socket activation (see systemd.c). */
#ifndef STUNNEL_SYSTEMD_H
#define STUNNEL_SYSTEMD_H

#endif
