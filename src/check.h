/* check.h: "-check", the configuration check mode (see check.c). */
#ifndef STUNNEL_CHECK_H
#define STUNNEL_CHECK_H

#endif
