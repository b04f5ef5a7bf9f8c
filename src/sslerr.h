/* sslerr.h: logging the OpenSSL error queue. */
#ifndef STUNNEL_SSLERR_H
#define STUNNEL_SSLERR_H

void	 sslerr_log(const char *);

#endif
