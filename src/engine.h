/* engine.h: OpenSSL engines and providers named by global options. */
#ifndef STUNNEL_ENGINE_H
#define STUNNEL_ENGINE_H

#include <openssl/ssl.h>
#include <openssl/ui.h>

int	 engine_open(const char *, const char **);
int	 engine_ctrl(const char *, const char **);
int	 engine_default(const char *, const char **);
int	 engine_init_last(void);
int	 engine_find(const char *);
int	 engine_count(void);
X509	*engine_load_cert(int, const char *);
EVP_PKEY *engine_load_key(int, const char *, UI_METHOD *, void *);
void	 engine_client_cert(int, SSL_CTX *);
int	 engine_provider_load(const char *, const char **);
int	 engine_provider_param(const char *, const char **);

#endif
