/*
 * check.c: "-check", the configuration check mode.
 *
 * Being written.
 */
#include "common.h"
#include "check.h"
