/*
 * options.h: the configuration as the rest of the program sees it.
 *
 * A loaded configuration is one struct global and a list of struct
 * service, read-only once loading succeeded. Every field is described by
 * one row of the option table in options.c.
 */
#ifndef STUNNEL_OPTIONS_H
#define STUNNEL_OPTIONS_H

#include "common.h"
#include "util.h"
#include "addr.h"
#include "psk.h"

struct ssl_ctx_st;
struct sesscache;

#define SERVICE_MAGIC	0x53455256u	/* "SERV" */

enum foreground { FG_NO, FG_YES, FG_QUIET };
enum failover { FAILOVER_RR, FAILOVER_PRIO };
enum logid { LOGID_SEQUENTIAL, LOGID_UNIQUE, LOGID_THREAD, LOGID_PROCESS };
enum compression { COMP_NONE, COMP_ZLIB, COMP_DEFLATE };

/* transparent = ...: bit set */
#define TRANSPARENT_SOURCE	1
#define TRANSPARENT_DESTINATION	2

enum protocol {
	PROTO_NONE, PROTO_CIFS, PROTO_CAPWIN, PROTO_CAPWINCTRL,
	PROTO_CONNECT, PROTO_IMAP, PROTO_LDAP, PROTO_NNTP, PROTO_PGSQL,
	PROTO_POP3, PROTO_PROXY, PROTO_SMTP, PROTO_SOCKS
};

/* TLS protocol versions for sslVersion*: 0 = "all" (library limit) */
struct tls_versions {
	int	min;
	int	max;
};

struct tls_option_masks {
	unsigned long	set;
	unsigned long	clear;
};

struct secret {
	unsigned char	data[32];
	size_t		len;	/* 0 = unset, else 16 or 32 */
};

struct debug_level {
	int	level;		/* 0-7 */
	int	facility;	/* syslog facility, global section only */
};

struct service {
	unsigned	 magic;
	char		*name;		/* NULL for the defaults / inetd */
	char		*file;		/* where the section starts */
	int		 line;

	/* endpoints */
	struct strlist	 accept;
	struct strlist	 connect;
	struct strlist	 redirect;
	char		*exec;
	char		*exec_args;
	char		*local;
	struct addr	 local_addr;	/* resolved at its line */
	int		 delay;
	int		 failover;
	int		 retry;		/* ms between restarts, -1 = no */
	int		 transparent;
	struct strlist	 sni;

	/* TLS identity and trust */
	int		 client;
	char		*cert;
	char		*key;
	char		*ca_file;
	char		*ca_path;
	char		*ca_store;
	struct strlist	 ca_engine;
	char		*crl_file;
	char		*crl_path;
	int		 verify;	/* legacy verify = 0..4, -1 = unset */
	int		 verify_chain;
	int		 verify_peer;
	int		 require_cert;
	struct strlist	 check_host;
	struct strlist	 check_email;
	struct strlist	 check_ip;
	int		 engine;	/* engineId/engineNum: 1.. or 0 */
	char		*psk_identity;
	char		*psk_secrets;
	struct psk	*psk;		/* the keys read from psk_secrets */

	/* TLS protocol */
	char		*ciphers;
	char		*ciphersuites;
	char		*curves;
	struct strlist	 config;
	struct tls_option_masks options;
	struct tls_versions versions;
	unsigned	 security_level;
	int		 renegotiation;
	unsigned	 session_cache_size;
	unsigned	 session_cache_timeout;
	int		 session_resume;
	char		*sessiond;
	struct addr	 sessiond_addr;	/* resolved at its line */
	struct secret	 ticket_key;
	struct secret	 ticket_mac;

	/* OCSP */
	char		*ocsp_url;
	int		 ocsp_aia;
	unsigned long	 ocsp_flags;
	int		 ocsp_nonce;
	int		 ocsp_require;

	/* protocol negotiation */
	int		 protocol;
	char		*protocol_auth;
	char		*protocol_domain;
	struct strlist	 protocol_header;
	char		*protocol_host;
	char		*protocol_password;
	char		*protocol_username;

	/* process, access and logging */
	struct debug_level debug;
	char		*ident;
	int		 libwrap;
	int		 log_id;
	int		 pty;
	int		 reset;
	char		*service_name;	/* libwrap name / syslog ident */
	long		 setuid;	/* -1 = unset */
	long		 setgid;
	struct strlist	 socket_opts;
	unsigned	 stack;

	/* timeouts, seconds */
	unsigned	 timeout_busy;
	unsigned	 timeout_close;
	unsigned	 timeout_connect;
	unsigned	 timeout_idle;
	unsigned	 timeout_ocsp;

	/* derived when the section is checked (validate.c, ctx.c) */
	struct addrlist	 accept_addrs;
	struct addrlist	 connect_addrs;
	struct addrlist	 redirect_addrs;
	int		 connect_delayed;	/* resolve at connect time */
	struct service	*sni_primary;		/* SNI secondary: its primary */
	struct ssl_ctx_st *ctx;
	unsigned char	*hello;			/* warm-up ClientHello (ctx.c) */
	size_t		 hello_len;
	struct sesscache *cache;		/* shared with the children */

	struct service	*next;
};

struct global {
	char		*chroot;
	int		 compression;
	char		*egd;
	struct strlist	 engine_cmds;	/* "engine=ID", "engineCtrl=CMD"... */
	int		 fips;
	int		 foreground;
	int		 log_overwrite;
	char		*output;
	char		*pid;
	struct strlist	 provider;
	struct strlist	 provider_param;
	unsigned	 rnd_bytes;
	char		*rnd_file;
	int		 rnd_overwrite;
	int		 sandbox;	/* seccomp in connection processes */
	unsigned	 spares;	/* connection processes forked ahead */
	struct strlist	 set_env;
	int		 use_syslog;

	struct service	*defaults;	/* service-level options of the global part */
	struct service	*services;	/* sections in file order */
	int		 inetd;		/* no [section]: serve stdin/stdout */
};

enum opt_scope { SCOPE_GLOBAL = 1, SCOPE_SERVICE = 2 };

/*
 * Setting one option: the result is OPT_OK, OPT_UNKNOWN (no such option
 * here) or OPT_BAD with *why set to the reason stunnel gives.
 */
enum opt_result { OPT_OK, OPT_UNKNOWN, OPT_BAD, OPT_INCLUDE };

struct global	*options_new(void);
void		 options_free(struct global *);
struct service	*service_new(const struct service *);
void		 service_free(struct service *);
enum opt_result	 options_set(struct global *, struct service *,
		    const char *, const char *, const char **);
struct log_config;
void		 options_log_settings(const struct global *, struct log_config *);
void		 options_print_help(void);
void		 options_print_defaults(void);
int		 options_parse_uint(const char *, unsigned long, unsigned long,
		    unsigned long *);

#endif
