/*
 * capwin.c: "protocol = capwin" and "capwinctrl".
 *
 * Not written yet: the sections load and validate.c says at start-up
 * that they have no effect.
 */
#include "common.h"
#include "capwin.h"

const struct protocol_def capwin_protocol = { .connects_first = 0 };
const struct protocol_def capwin_ctrl_protocol = { .connects_first = 0 };
