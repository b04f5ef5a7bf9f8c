/* tlsopt.h: names of OpenSSL settings that the configuration can use. */
#ifndef STUNNEL_TLSOPT_H
#define STUNNEL_TLSOPT_H

#include "common.h"
#include "util.h"

extern const struct word tlsopt_versions[];

int	 tlsopt_option(const char *, unsigned long *);
int	 tlsopt_ocsp_flag(const char *, unsigned long *);
void	 tlsopt_print_options(void);

#endif
