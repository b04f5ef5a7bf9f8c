/* engine.h: OpenSSL engines and providers named by global options. */
#ifndef STUNNEL_ENGINE_H
#define STUNNEL_ENGINE_H

int	 engine_open(const char *, const char **);
int	 engine_ctrl(const char *, const char **);
int	 engine_default(const char *, const char **);
int	 engine_init_last(void);
int	 engine_provider_load(const char *, const char **);
int	 engine_provider_param(const char *, const char **);

#endif
