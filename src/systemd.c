/*
 * systemd.c: readiness notification and socket activation.
 *
 * Being written.
 */
#include "common.h"
#include "systemd.h"
