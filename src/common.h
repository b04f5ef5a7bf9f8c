/*
 * common.h: what every source file of the daemon includes first.
 *
 * Owns the build configuration, the system headers used almost everywhere
 * and a few attribute macros. Must never grow prototypes of its own: each
 * module has its own small header.
 */
#ifndef STUNNEL_COMMON_H
#define STUNNEL_COMMON_H

#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRINTF_LIKE(f, a)	__attribute__((format(printf, f, a)))
#define NORETURN		__attribute__((noreturn))
#define UNUSED			__attribute__((unused))

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#ifndef CONFDIR
#define CONFDIR			"/etc/stunnel"
#endif

#endif
