/* conffile.h: reading stunnel.conf into a struct global. */
#ifndef STUNNEL_CONFFILE_H
#define STUNNEL_CONFFILE_H

#include "options.h"

/* why a load failed, which decides what stunnel prints after it */
enum load_failure {
	LOAD_FAILED,		/* "Configuration failed" */
	LOAD_USAGE,		/* the syntax, then "Configuration failed" */
	LOAD_BAD_NAME		/* nothing more */
};

struct global	*conffile_load(const char *, const char *, enum load_failure *);

#endif
