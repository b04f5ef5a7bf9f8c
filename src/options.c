/*
 * options.c: the option table and the value parsers.
 *
 * Owns one descriptor per configuration option (name, scope, how its
 * value is parsed, default, bounds, help line) and everything derived
 * from it: setting an option, defaults, copying the global section's
 * service-level values into a new section, freeing, -help and the
 * defaults part of -version. Must never read files or decide whether a
 * whole section makes sense: that is conffile.c and validate.c.
 */
#include "common.h"
#include "options.h"
#include "engine.h"
#include "sesscache.h"
#include "log.h"
#include "sockopt.h"
#include "tlsopt.h"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <grp.h>
#include <pwd.h>
#include <syslog.h>

enum opt_kind {
	K_BOOL,		/* int: yes | no */
	K_UINT,		/* unsigned within [min, max] */
	K_STRING,	/* char *, replaced by a later line */
	K_LIST,		/* struct strlist, accumulates */
	K_ENUM,		/* int from a word table */
	K_CUSTOM,	/* parsed by opt->parse */
	K_INCLUDE	/* handled by the file reader */
};

/* how a field is stored, which decides how it is copied and freed */
enum opt_store { STORE_SCALAR, STORE_STRING, STORE_LIST };

#define F_SHOW		0x01	/* -version prints the default */
#define F_HIDDEN	0x02	/* accepted, but not in -help */
#define F_EMPTY_UNSETS	0x04	/* "name =" with no value unsets */

struct option;
typedef int (*parse_fn)(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);

struct option {
	const char		*name;
	enum opt_scope		 scope;
	size_t			 off;
	enum opt_kind		 kind;
	const char		*dflt;	/* parsed at start; '\n' separates values */
	unsigned long		 min, max;
	const struct word	*words;
	const char		*err;	/* why a value is rejected */
	parse_fn		 parse;
	enum opt_store		 store;	/* for K_CUSTOM; others imply it */
	const char		*help;	/* '\n' starts a continuation line */
	const char		*unit;	/* suffix in -version */
	const char		*show;	/* -version text instead of dflt */
	unsigned		 flags;
};

#define G(f)	SCOPE_GLOBAL, offsetof(struct global, f)
#define S(f)	SCOPE_SERVICE, offsetof(struct service, f)

static const char yesno_err[] = "The argument needs to be either 'yes' or 'no'";

static const struct word foreground_words[] = {
	{ "yes", FG_YES }, { "quiet", FG_QUIET }, { "no", FG_NO }, { NULL, 0 }
};
static const struct word log_words[] = {
	{ "append", 0 }, { "overwrite", 1 }, { NULL, 0 }
};
static const struct word compression_words[] = {
	{ "deflate", COMP_DEFLATE }, { "zlib", COMP_ZLIB }, { NULL, 0 }
};
static const struct word failover_words[] = {
	{ "rr", FAILOVER_RR }, { "prio", FAILOVER_PRIO }, { NULL, 0 }
};
static const struct word logid_words[] = {
	{ "sequential", LOGID_SEQUENTIAL }, { "unique", LOGID_UNIQUE },
	{ "thread", LOGID_THREAD }, { "process", LOGID_PROCESS }, { NULL, 0 }
};
static const struct word transparent_words[] = {
	{ "none", 0 }, { "no", 0 },
	{ "source", TRANSPARENT_SOURCE }, { "yes", TRANSPARENT_SOURCE },
	{ "destination", TRANSPARENT_DESTINATION },
	{ "both", TRANSPARENT_SOURCE | TRANSPARENT_DESTINATION },
	{ NULL, 0 }
};
static const struct word protocol_words[] = {
	{ "cifs", PROTO_CIFS }, { "capwin", PROTO_CAPWIN },
	{ "capwinctrl", PROTO_CAPWINCTRL }, { "connect", PROTO_CONNECT },
	{ "imap", PROTO_IMAP }, { "ldap", PROTO_LDAP }, { "nntp", PROTO_NNTP },
	{ "pgsql", PROTO_PGSQL }, { "pop3", PROTO_POP3 },
	{ "proxy", PROTO_PROXY }, { "smtp", PROTO_SMTP },
	{ "socks", PROTO_SOCKS }, { NULL, 0 }
};
static const struct word level_words[] = {
	{ "emerg", LOG_EMERG }, { "alert", LOG_ALERT }, { "crit", LOG_CRIT },
	{ "err", LOG_ERR }, { "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ NULL, 0 }
};
static const struct word facility_words[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON }, { "ftp", LOG_FTP },
	{ "kern", LOG_KERN }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { "lpr", LOG_LPR }, { "mail", LOG_MAIL },
	{ "news", LOG_NEWS }, { "syslog", LOG_SYSLOG }, { "user", LOG_USER },
	{ "uucp", LOG_UUCP }, { NULL, 0 }
};

/* parsers of the options that need more than the generic kinds */
static int parse_debug(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_engine(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_engine_ref(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_sessiond(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_local(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_tls_options(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_ocsp_flag(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_protocol(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_retry(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_owner(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_socket(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_ssl_version(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_secret(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_psk_secrets(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_provider(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_set_env(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_stack(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_verify(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);
static int parse_verify_switch(const struct option *, struct global *,
    struct service *, void *, const char *, const char **);

#define SECONDS_MAX	(INT_MAX / 1000)

static const struct option table[] = {
	/* global options */
	{ "chroot", G(chroot), K_STRING,
	  .help = "directory to chroot stunnel process" },
	{ "compression", G(compression), K_ENUM, .words = compression_words,
	  .err = "Specified compression type is not available",
	  .help = "compression type" },
	{ "EGD", G(egd), K_STRING,
	  .help = "path to Entropy Gathering Daemon socket" },
	{ "engine", G(engine_cmds), K_CUSTOM, .parse = parse_engine, .store = STORE_LIST,
	  .help = "auto|engine_id" },
	{ "engineCtrl", G(engine_cmds), K_CUSTOM, .parse = parse_engine, .store = STORE_LIST,
	  .help = "cmd[:arg]" },
	{ "engineDefault", G(engine_cmds), K_CUSTOM, .parse = parse_engine, .store = STORE_LIST,
	  .help = "TASK_LIST" },
	{ "fips", G(fips), K_BOOL, .dflt = "no",
	  .help = "yes|no FIPS 140-2 mode" },
	{ "foreground", G(foreground), K_ENUM, .words = foreground_words,
	  .dflt = "no",
	  .err = "The argument needs to be either 'yes', 'quiet' or 'no'",
	  .help = "yes|quiet|no foreground mode (don't fork, log to stderr)" },
	{ "log", G(log_overwrite), K_ENUM, .words = log_words,
	  .dflt = "append",
	  .err = "The argument needs to be either 'append' or 'overwrite'",
	  .help = "append|overwrite log file" },
	{ "output", G(output), K_STRING,
	  .help = "file to append log messages" },
	{ "pid", G(pid), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "pid file" },
	{ "provider", G(provider), K_CUSTOM, .parse = parse_provider, .store = STORE_LIST,
	  .help = "OpenSSL provider to load" },
	{ "providerParameter", G(provider_param), K_CUSTOM,
	  .parse = parse_provider, .store = STORE_LIST,
	  .help = "provider:name=value parameter for a provider" },
	{ "RNDbytes", G(rnd_bytes), K_UINT, .dflt = "1024", .max = INT_MAX,
	  .err = "Illegal number of bytes to read from random seed files",
	  .help = "bytes to read from random seed files", .flags = F_SHOW },
	{ "RNDfile", G(rnd_file), K_STRING, .dflt = "/dev/urandom",
	  .help = "path to file with random seed data", .flags = F_SHOW },
	{ "RNDoverwrite", G(rnd_overwrite), K_BOOL, .dflt = "yes",
	  .help = "yes|no overwrite seed datafiles with new random data",
	  .flags = F_SHOW },
	{ "sandbox", G(sandbox), K_BOOL, .dflt = "yes",
	  .help = "yes|no confine connection processes (Linux seccomp)" },
	{ "setEnv", G(set_env), K_CUSTOM, .parse = parse_set_env, .store = STORE_LIST,
	  .help = "NAME=VALUE environment variable for child processes" },
	{ "spares", G(spares), K_UINT, .dflt = "1", .max = 64,
	  .err = "Illegal number of spare processes",
	  .help = "connection processes forked ahead while idle (0: none)" },
	{ "syslog", G(use_syslog), K_BOOL, .dflt = "yes",
	  .help = "yes|no send logging messages to syslog" },

	/* service-level options */
	{ "accept", S(accept), K_LIST,
	  .help = "[host:]port accept connections on specified host:port" },
	{ "CAengine", S(ca_engine), K_LIST,
	  .help = "engine-specific CA certificate identifier for 'verify' option" },
	{ "CApath", S(ca_path), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "CA certificate directory for 'verify' option" },
	{ "CAfile", S(ca_file), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "CA certificate file for 'verify' option" },
	{ "CAstore", S(ca_store), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "CA certificate store URI for 'verify' option" },
	{ "cert", S(cert), K_STRING, .help = "certificate chain" },
	{ "checkEmail", S(check_email), K_LIST,
	  .help = "peer certificate email address" },
	{ "checkHost", S(check_host), K_LIST,
	  .help = "peer certificate host name pattern" },
	{ "checkIP", S(check_ip), K_LIST,
	  .help = "peer certificate IP address" },
	{ "ciphers", S(ciphers), K_STRING,
	  .dflt = "HIGH:!aNULL:!SSLv2:!DH:!kDHEPSK",
	  .help = "permitted ciphers for TLS 1.2 or older", .flags = F_SHOW },
	{ "ciphersuites", S(ciphersuites), K_STRING,
	  .dflt = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:"
	      "TLS_CHACHA20_POLY1305_SHA256",
	  .help = "permitted ciphersuites for TLS 1.3",
	  .unit = " (with TLSv1.3)", .flags = F_SHOW },
	{ "client", S(client), K_BOOL, .dflt = "no",
	  .help = "yes|no client mode (remote service uses TLS)" },
	{ "config", S(config), K_LIST,
	  .help = "command[:parameter] to execute" },
	{ "connect", S(connect), K_LIST, .help = "[host:]port to connect" },
	{ "CRLpath", S(crl_path), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "CRL directory" },
	{ "CRLfile", S(crl_file), K_STRING, .flags = F_EMPTY_UNSETS,
	  .help = "CRL file" },
	{ "curves", S(curves), K_STRING, .dflt = "X25519:P-256:X448:P-521:P-384",
	  .help = "ECDH curve names", .flags = F_SHOW },
	{ "debug", S(debug), K_CUSTOM, .parse = parse_debug,
	  .dflt = "daemon.notice",
	  .help = "[facility].level (e.g. daemon.info)", .flags = F_SHOW },
	{ "delay", S(delay), K_BOOL, .dflt = "no",
	  .help = "yes|no delay DNS lookup for 'connect' option" },
	{ "engineId", S(engine), K_CUSTOM, .parse = parse_engine_ref,
	  .store = STORE_SCALAR,
	  .help = "ID of engine to read the key from" },
	{ "engineNum", S(engine), K_CUSTOM, .parse = parse_engine_ref,
	  .store = STORE_SCALAR,
	  .help = "number of engine to read the key from" },
	{ "exec", S(exec), K_STRING,
	  .help = "file execute local inetd-type program" },
	{ "execArgs", S(exec_args), K_STRING,
	  .help = "arguments for 'exec' (including $0)" },
	{ "failover", S(failover), K_ENUM, .words = failover_words,
	  .dflt = "prio", .err = "The argument needs to be either 'rr' or 'prio'",
	  .help = "rr|prio failover strategy" },
	{ "ident", S(ident), K_STRING,
	  .help = "username for IDENT (RFC 1413) checking" },
	{ "include", 0, 0, K_INCLUDE,
	  .help = "directory with configuration file snippets" },
	{ "key", S(key), K_STRING, .help = "certificate private key" },
	{ "libwrap", S(libwrap), K_BOOL, .dflt = "no",
	  .help = "yes|no use /etc/hosts.allow and /etc/hosts.deny" },
	{ "local", S(local), K_CUSTOM, .parse = parse_local,
	  .store = STORE_STRING,
	  .help = "IP address to be used as source for remote connections" },
	{ "logId", S(log_id), K_ENUM, .words = logid_words,
	  .dflt = "sequential", .err = "Invalid connection identifier type",
	  .help = "connection identifier type", .flags = F_SHOW },
	{ "OCSP", S(ocsp_url), K_STRING, .help = "OCSP responder URL" },
	{ "OCSPaia", S(ocsp_aia), K_BOOL, .dflt = "no",
	  .help = "yes|no check the AIA responders from certificates" },
	{ "OCSPflag", S(ocsp_flags), K_CUSTOM, .parse = parse_ocsp_flag,
	  .help = "OCSP responder flags" },
	{ "OCSPnonce", S(ocsp_nonce), K_BOOL, .dflt = "no",
	  .help = "yes|no send and verify the OCSP nonce extension" },
	{ "OCSPrequire", S(ocsp_require), K_BOOL, .dflt = "yes",
	  .help = "yes|no require a conclusive OCSP response" },
	{ "options", S(options), K_CUSTOM, .parse = parse_tls_options,
	  .dflt = "NO_SSLv2\nNO_SSLv3",
	  .help = "TLS option to set/reset", .flags = F_SHOW },
	{ "protocol", S(protocol), K_CUSTOM, .parse = parse_protocol,
	  .help = "protocol to negotiate before TLS initialization\n"
	      "currently supported: capwin, capwinctrl, cifs, connect,\n"
	      "    imap, ldap, nntp, pgsql, pop3, proxy, smtp, socks" },
	{ "protocolAuthentication", S(protocol_auth), K_STRING,
	  .help = "authentication type for protocol negotiations" },
	{ "protocolDomain", S(protocol_domain), K_STRING,
	  .help = "domain for protocol negotiations" },
	{ "protocolHeader", S(protocol_header), K_LIST,
	  .help = "custom header for protocol negotiations" },
	{ "protocolHost", S(protocol_host), K_STRING,
	  .help = "host:port for protocol negotiations" },
	{ "protocolPassword", S(protocol_password), K_STRING,
	  .help = "password for protocol negotiations" },
	{ "protocolUsername", S(protocol_username), K_STRING,
	  .help = "username for protocol negotiations" },
	{ "PSKidentity", S(psk_identity), K_STRING,
	  .help = "identity for PSK authentication" },
	{ "PSKsecrets", S(psk_secrets), K_CUSTOM, .parse = parse_psk_secrets,
	  .store = STORE_STRING,
	  .help = "secrets for PSK authentication" },
	{ "pty", S(pty), K_BOOL, .dflt = "no",
	  .help = "yes|no allocate pseudo terminal for 'exec' option" },
	{ "redirect", S(redirect), K_LIST,
	  .help = "[host:]port to redirect on authentication failures" },
	{ "renegotiation", S(renegotiation), K_BOOL, .dflt = "yes",
	  .help = "yes|no support renegotiation" },
	{ "requireCert", S(require_cert), K_BOOL, .dflt = "no",
	  .help = "yes|no require client certificate" },
	{ "reset", S(reset), K_BOOL, .dflt = "yes",
	  .help = "yes|no send TCP RST on error" },
	{ "retry", S(retry), K_CUSTOM, .parse = parse_retry, .dflt = "no",
	  .help = "yes|no|delay retry connect+exec section" },
	{ "securityLevel", S(security_level), K_UINT, .dflt = "2", .max = 5,
	  .err = "Illegal security level",
	  .help = "set the security level", .flags = F_SHOW },
	{ "service", S(service_name), K_STRING, .help = "service name" },
	{ "setgid", S(setgid), K_CUSTOM, .parse = parse_owner,
	  .help = "groupname for setgid()" },
	{ "setuid", S(setuid), K_CUSTOM, .parse = parse_owner,
	  .help = "username for setuid()" },
	{ "sessionCacheSize", S(session_cache_size), K_UINT, .dflt = "1000",
	  .max = INT_MAX, .err = "Illegal session cache size",
	  .help = "session cache size", .flags = F_SHOW },
	{ "sessionCacheTimeout", S(session_cache_timeout), K_UINT, .dflt = "300",
	  .max = SECONDS_MAX, .err = "Illegal session cache timeout",
	  .help = "session cache timeout (in seconds)", .unit = " seconds",
	  .flags = F_SHOW },
	{ "sessionResume", S(session_resume), K_BOOL, .dflt = "yes",
	  .help = "yes|no enable session resumption" },
	{ "sessiond", S(sessiond), K_CUSTOM, .parse = parse_sessiond,
	  .store = STORE_STRING,
	  .help = "[host:]port use sessiond at host:port" },
	{ "sni", S(sni), K_LIST,
	  .help = "primary_service:host_name for an SNI virtual service" },
	{ "socket", S(socket_opts), K_CUSTOM, .parse = parse_socket, .store = STORE_LIST,
	  .help = "a|l|r:option=value[:value]\n"
	      "set an option on accept/local/remote socket" },
	{ "sslVersion", S(versions), K_CUSTOM, .parse = parse_ssl_version,
	  .help = "all|SSLv3|TLSv1|TLSv1.1|TLSv1.2|TLSv1.3 TLS version" },
	{ "sslVersionMax", S(versions.max), K_ENUM, .words = tlsopt_versions,
	  .err = "Invalid protocol version",
	  .help = "all|SSLv3|TLSv1|TLSv1.1|TLSv1.2|TLSv1.3 TLS version" },
	{ "sslVersionMin", S(versions.min), K_ENUM, .words = tlsopt_versions,
	  .err = "Invalid protocol version",
	  .help = "all|SSLv3|TLSv1|TLSv1.1|TLSv1.2|TLSv1.3 TLS version" },
	{ "stack", S(stack), K_CUSTOM, .parse = parse_stack,
	  .help = "thread stack size (in bytes)", .flags = F_HIDDEN },
	{ "ticketKeySecret", S(ticket_key), K_CUSTOM, .parse = parse_secret,
	  .help = "secret key for encryption/decryption TLSv1.3 tickets" },
	{ "ticketMacSecret", S(ticket_mac), K_CUSTOM, .parse = parse_secret,
	  .help = "key for HMAC operations on TLSv1.3 tickets" },
	{ "TIMEOUTbusy", S(timeout_busy), K_UINT, .dflt = "300",
	  .max = SECONDS_MAX, .err = "Illegal busy timeout",
	  .help = "seconds to wait for expected data", .unit = " seconds",
	  .flags = F_SHOW },
	{ "TIMEOUTclose", S(timeout_close), K_UINT, .dflt = "60",
	  .max = SECONDS_MAX, .err = "Illegal close timeout",
	  .help = "seconds to wait for close_notify", .unit = " seconds",
	  .flags = F_SHOW },
	{ "TIMEOUTconnect", S(timeout_connect), K_UINT, .dflt = "10",
	  .max = SECONDS_MAX, .err = "Illegal connect timeout",
	  .help = "seconds to connect remote host", .unit = " seconds",
	  .flags = F_SHOW },
	{ "TIMEOUTidle", S(timeout_idle), K_UINT, .dflt = "43200",
	  .max = SECONDS_MAX, .err = "Illegal idle timeout",
	  .help = "seconds to keep an idle connection", .unit = " seconds",
	  .flags = F_SHOW },
	{ "TIMEOUTocsp", S(timeout_ocsp), K_UINT, .dflt = "5",
	  .max = SECONDS_MAX, .err = "Illegal OCSP connect timeout",
	  .help = "seconds to wait for the OCSP responder", .unit = " seconds",
	  .flags = F_SHOW },
	{ "transparent", S(transparent), K_ENUM, .words = transparent_words,
	  .dflt = "none",
	  .err = "Selected transparent proxy mode is not available",
	  .help = "none|source|destination|both transparent proxy mode" },
	{ "verify", S(verify), K_CUSTOM, .parse = parse_verify,
	  .show = "none",
	  .help = "level of peer certificate verification", .flags = F_SHOW },
	{ "verifyChain", S(verify_chain), K_CUSTOM, .parse = parse_verify_switch,
	  .dflt = "no", .help = "yes|no verify certificate chain" },
	{ "verifyPeer", S(verify_peer), K_CUSTOM, .parse = parse_verify_switch,
	  .dflt = "no", .help = "yes|no verify peer certificate" },
};

/* older spellings that stunnel 5 still reads */
static const struct {
	const char	*alias;
	const char	*name;
} aliases[] = {
	{ "curve", "curves" },
	{ "session", "sessionCacheTimeout" },
};

static enum opt_store
store_of(const struct option *opt)
{
	switch (opt->kind) {
	case K_STRING:
		return STORE_STRING;
	case K_LIST:
		return STORE_LIST;
	case K_CUSTOM:
		return opt->store;
	default:
		return STORE_SCALAR;
	}
}

static const struct option *
find_option(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			name = aliases[i].name;
	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (strcasecmp(name, table[i].name) == 0)
			return &table[i];
	return NULL;
}

/*
 * Strict unsigned decimal: digits only, no sign, within [min, max].
 * Returns 0 and the value, or -1.
 */
int
options_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (ULONG_MAX - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_yesno(const char *arg, int *out)
{
	if (strcasecmp(arg, "yes") == 0)
		*out = 1;
	else if (strcasecmp(arg, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
parse_debug(const struct option *opt UNUSED, struct global *g,
    struct service *svc, void *field, const char *arg, const char **why)
{
	struct debug_level *d = field;
	const char *dot = strchr(arg, '.');
	const char *level = arg;
	unsigned long n;
	char *fac;
	int v;

	if (dot != NULL) {
		if (svc != g->defaults) {
			*why = "Illegal debug level";
			return -1;
		}
		fac = xstrndup(arg, (size_t)(dot - arg));
		v = word_lookup(facility_words, fac, &d->facility);
		free(fac);
		if (v < 0) {
			*why = "Illegal syslog facility";
			return -1;
		}
		level = dot + 1;
	}
	if (word_lookup(level_words, level, &d->level) == 0)
		return 0;
	if (options_parse_uint(level, 0, 7, &n) == 0) {
		d->level = (int)n;
		return 0;
	}
	*why = "Illegal debug level";
	return -1;
}

/*
 * engine, engineCtrl, engineDefault act at once, as in stunnel; the
 * list keeps them in order for the record.
 */
static int
parse_engine(const struct option *opt, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	char *entry;
	int rc;

	if (strcasecmp(opt->name, "engine") == 0)
		rc = engine_open(arg, why);
	else if (strcasecmp(opt->name, "engineCtrl") == 0)
		rc = engine_ctrl(arg, why);
	else
		rc = engine_default(arg, why);
	if (rc < 0)
		return -1;
	entry = xasprintf("%s=%s", opt->name, arg);
	strlist_add(field, entry);
	free(entry);
	return 0;
}

/* engineId = ID, engineNum = N: one of the engines opened above */
static int
parse_engine_ref(const struct option *opt, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	unsigned long n;

	if (strcasecmp(opt->name, "engineId") == 0) {
		if ((*(int *)field = engine_find(arg)) == 0) {
			*why = "Engine ID not found";
			return -1;
		}
		return 0;
	}
	if (options_parse_uint(arg, 1, (unsigned long)engine_count(),
	    &n) < 0) {
		*why = "Illegal engine number";
		return -1;
	}
	*(int *)field = (int)n;
	return 0;
}

/* sessiond = [HOST:]PORT, resolved at its line as stunnel does */
static int
parse_sessiond(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc, void *field, const char *arg, const char **why)
{
	struct addrlist found = { NULL, 0 };

	if (addr_resolve(arg, "localhost", 0, &found) < 0 || found.n == 0 ||
	    found.v[0].sa.ss_family == AF_UNIX) {
		addrlist_free(&found);
		*why = "Failed to resolve sessiond server address";
		return -1;
	}
	svc->sessiond_addr = found.v[0];
	addrlist_free(&found);
	free(*(char **)field);
	*(char **)field = xstrdup(arg);
	return 0;
}

/* local = HOST (no port), resolved at its line as stunnel does */
static int
parse_local(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc, void *field, const char *arg, const char **why)
{
	if (addr_resolve_host(arg, &svc->local_addr) < 0) {
		*why = "Failed to resolve local address";
		return -1;
	}
	free(*(char **)field);
	*(char **)field = xstrdup(arg);
	return 0;
}

/* provider, providerParameter: loaded at their line */
static int
parse_provider(const struct option *opt, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	int rc = strcasecmp(opt->name, "provider") == 0 ?
	    engine_provider_load(arg, why) : engine_provider_param(arg, why);

	if (rc < 0)
		return -1;
	strlist_add(field, arg);
	return 0;
}

/*
 * setEnv = NAME=VALUE: set at once, because providers and engines loaded
 * by later lines read their settings from the environment.
 */
static int
parse_set_env(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	const char *eq = strchr(arg, '=');
	char *name;
	int rc;

	if (eq == NULL || eq == arg) {
		*why = "Malformed environment variable";
		return -1;
	}
	name = xstrndup(arg, (size_t)(eq - arg));
	rc = eq[1] == '\0' ? unsetenv(name) : setenv(name, eq + 1, 1);
	free(name);
	if (rc < 0) {
		*why = "Memory allocation failed";
		return -1;
	}
	strlist_add(field, arg);
	return 0;
}

static int
parse_psk_secrets(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc, void *field, const char *arg, const char **why)
{
	struct psk *keys = psk_load(arg);

	if (keys == NULL) {
		*why = "Failed to read PSK secrets";
		return -1;
	}
	psk_free(svc->psk);
	svc->psk = keys;
	free(*(char **)field);
	*(char **)field = xstrdup(arg);
	return 0;
}

static int
parse_tls_options(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	struct tls_option_masks *m = field;
	unsigned long mask;
	int clear = arg[0] == '-';

	if (tlsopt_option(clear ? arg + 1 : arg, &mask) < 0) {
		*why = "Illegal TLS option";
		return -1;
	}
	if (clear) {
		m->clear |= mask;
		m->set &= ~mask;
	} else {
		m->set |= mask;
		m->clear &= ~mask;
	}
	return 0;
}

static int
parse_ocsp_flag(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	unsigned long flag;

	if (tlsopt_ocsp_flag(arg, &flag) < 0) {
		*why = "Illegal OCSP flag";
		return -1;
	}
	*(unsigned long *)field |= flag;
	return 0;
}

/* an unknown name is reported when the section ends, as stunnel does */
static int
parse_protocol(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why UNUSED)
{
	if (word_lookup(protocol_words, arg, field) < 0)
		*(int *)field = -1;
	return 0;
}

static int
parse_retry(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	unsigned long ms;
	int yes;

	if (parse_yesno(arg, &yes) == 0) {
		*(int *)field = yes ? 1000 : -1;
		return 0;
	}
	if (options_parse_uint(arg, 0, INT_MAX, &ms) < 0) {
		*why = "Illegal retry delay";
		return -1;
	}
	*(int *)field = (int)ms;
	return 0;
}

/* setuid, setgid: a name from the system's databases, or a number */
static int
parse_owner(const struct option *opt, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	int user = strcasecmp(opt->name, "setuid") == 0;
	struct passwd *pw = user ? getpwnam(arg) : NULL;
	struct group *gr = user ? NULL : getgrnam(arg);
	unsigned long id;

	if (pw != NULL)
		*(long *)field = (long)pw->pw_uid;
	else if (gr != NULL)
		*(long *)field = (long)gr->gr_gid;
	else if (options_parse_uint(arg, 0, UINT_MAX - 1, &id) == 0)
		*(long *)field = (long)id;
	else {
		*why = user ? "Illegal UID" : "Illegal GID";
		return -1;
	}
	return 0;
}

static int
parse_socket(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	if (sockopt_check(arg) < 0) {
		*why = "Illegal socket option";
		return -1;
	}
	strlist_add(field, arg);
	return 0;
}

static int
parse_ssl_version(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	struct tls_versions *v = field;
	int version;

	if (word_lookup(tlsopt_versions, arg, &version) < 0) {
		*why = "Invalid protocol version";
		return -1;
	}
	v->min = v->max = version;
	return 0;
}

/* ticketKeySecret, ticketMacSecret: 16 or 32 bytes of hex */
static int
parse_secret(const struct option *opt, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	struct secret *s = field;
	unsigned char buf[512];
	size_t len;

	if (str_hex_decode(arg, buf, sizeof(buf), &len) < 0) {
		log_msg(LOG_ERR, "Required %s is 16 or 32 byte hexadecimal key",
		    opt->name);
		*why = strcasecmp(opt->name, "ticketKeySecret") == 0 ?
		    "Failed to read ticketKeySecret" :
		    "Failed to read ticketMacSecret";
		return -1;
	}
	if (len != 16 && len != 32) {
		log_msg(LOG_ERR,
		    "%s value has %zu bytes instead of required 16 or 32 bytes",
		    opt->name, len);
		*why = strcasecmp(opt->name, "ticketKeySecret") == 0 ?
		    "Failed to read ticketKeySecret" :
		    "Failed to read ticketMacSecret";
		return -1;
	}
	memcpy(s->data, buf, len);
	s->len = len;
	log_msg(LOG_INFO, "%s configured", opt->name);
	return 0;
}

/* threads have stacks; forked children do not need the setting */
static int
parse_stack(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc UNUSED, void *field, const char *arg,
    const char **why)
{
	unsigned long n;

	if (options_parse_uint(arg, 1, INT_MAX, &n) < 0) {
		*why = "Illegal thread stack size";
		return -1;
	}
	*(unsigned *)field = (unsigned)n;
	log_msg(LOG_WARNING,
	    "\"stack\" is ignored: each connection runs in its own process");
	return 0;
}

/*
 * A certificate check that is switched on also requires a certificate,
 * until a later "requireCert = no" says otherwise: stunnel reads these
 * in order, so the last one written wins.
 */
static int
parse_verify(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc, void *field, const char *arg, const char **why)
{
	unsigned long n;

	if (options_parse_uint(arg, 0, 4, &n) < 0) {
		*why = "Bad verify level";
		return -1;
	}
	*(int *)field = (int)n;
	if (n >= 2)
		svc->require_cert = 1;
	return 0;
}

static int
parse_verify_switch(const struct option *opt UNUSED, struct global *g UNUSED,
    struct service *svc, void *field, const char *arg, const char **why)
{
	if (parse_yesno(arg, field) < 0) {
		*why = yesno_err;
		return -1;
	}
	if (*(int *)field)
		svc->require_cert = 1;
	return 0;
}

static int
set_value(const struct option *opt, struct global *g, struct service *svc,
    const char *arg, const char **why)
{
	void *base = opt->scope == SCOPE_GLOBAL ? (void *)g : (void *)svc;
	void *field = (char *)base + opt->off;
	unsigned long n;
	char **str;

	switch (opt->kind) {
	case K_BOOL:
		if (parse_yesno(arg, field) < 0) {
			*why = yesno_err;
			return -1;
		}
		return 0;
	case K_UINT:
		if (options_parse_uint(arg, opt->min, opt->max, &n) < 0) {
			*why = opt->err;
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	case K_STRING:
		str = field;
		free(*str);
		*str = (*arg == '\0' && (opt->flags & F_EMPTY_UNSETS)) ?
		    NULL : xstrdup(arg);
		return 0;
	case K_LIST:
		strlist_add(field, arg);
		return 0;
	case K_ENUM:
		if (word_lookup(opt->words, arg, field) < 0) {
			*why = opt->err;
			return -1;
		}
		return 0;
	case K_CUSTOM:
		return opt->parse(opt, g, svc, field, arg, why);
	case K_INCLUDE:
		break;
	}
	panic("option %s has no parser", opt->name);
}

/*
 * Set NAME = VALUE in the global part (svc == g->defaults) or in a
 * section. Global options are not valid inside a section.
 */
enum opt_result
options_set(struct global *g, struct service *svc, const char *name,
    const char *arg, const char **why)
{
	const struct option *opt = find_option(name);

	if (opt == NULL ||
	    (opt->scope == SCOPE_GLOBAL && svc != g->defaults)) {
		*why = "Specified option name is not valid here";
		return OPT_UNKNOWN;
	}
	if (opt->kind == K_INCLUDE)
		return OPT_INCLUDE;
	return set_value(opt, g, svc, arg, why) < 0 ? OPT_BAD : OPT_OK;
}

/* run each default through its own parser, so defaults obey the rules */
static void
apply_defaults(struct global *g, struct service *svc, enum opt_scope scope)
{
	const char *why = NULL;
	char *copy, *val, *save = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].scope != scope || table[i].dflt == NULL)
			continue;
		copy = xstrdup(table[i].dflt);
		for (val = strtok_r(copy, "\n", &save); val != NULL;
		    val = strtok_r(NULL, "\n", &save))
			if (set_value(&table[i], g, svc, val, &why) < 0)
				panic("bad default for %s", table[i].name);
		free(copy);
	}
}

static struct service *
service_alloc(void)
{
	struct service *svc = xcalloc(1, sizeof(*svc));

	svc->magic = SERVICE_MAGIC;
	svc->verify = -1;
	svc->setuid = -1;
	svc->setgid = -1;
	return svc;
}

struct global *
options_new(void)
{
	struct global *g = xcalloc(1, sizeof(*g));

	g->defaults = service_alloc();
	apply_defaults(g, g->defaults, SCOPE_GLOBAL);
	apply_defaults(g, g->defaults, SCOPE_SERVICE);
	return g;
}

/*
 * A new section starts as a copy of the global part's service-level
 * values; what the section sets afterwards replaces (or, for lists,
 * adds to) the copy.
 */
struct service *
service_new(const struct service *defaults)
{
	struct service *svc = service_alloc();
	size_t i;
	void *dst;
	const void *src;

	*svc = *defaults;
	svc->name = NULL;
	svc->file = NULL;
	svc->next = NULL;
	memset(&svc->accept_addrs, 0, sizeof(svc->accept_addrs));
	memset(&svc->connect_addrs, 0, sizeof(svc->connect_addrs));
	memset(&svc->redirect_addrs, 0, sizeof(svc->redirect_addrs));
	svc->sni_primary = NULL;
	svc->ctx = NULL;
	svc->cache = NULL;
	svc->psk = psk_dup(defaults->psk);
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].scope != SCOPE_SERVICE)
			continue;
		dst = (char *)svc + table[i].off;
		src = (const char *)defaults + table[i].off;
		if (store_of(&table[i]) == STORE_STRING &&
		    *(char *const *)src != NULL)
			*(char **)dst = xstrdup(*(char *const *)src);
		else if (store_of(&table[i]) == STORE_LIST)
			strlist_copy(dst, src);
	}
	/* "service" names the part it is written in: never inherited */
	free(svc->service_name);
	svc->service_name = NULL;
	return svc;
}

static void
free_fields(void *base, enum opt_scope scope)
{
	size_t i;
	void *field;

	for (i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].scope != scope)
			continue;
		field = (char *)base + table[i].off;
		if (store_of(&table[i]) == STORE_STRING) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (store_of(&table[i]) == STORE_LIST) {
			strlist_free(field);
		}
	}
}

void
service_free(struct service *svc)
{
	if (svc == NULL)
		return;
	if (svc->magic != SERVICE_MAGIC)
		panic("Bad magic");
	OPENSSL_cleanse(&svc->ticket_key, sizeof(svc->ticket_key));
	OPENSSL_cleanse(&svc->ticket_mac, sizeof(svc->ticket_mac));
	if (svc->protocol_password != NULL)
		OPENSSL_cleanse(svc->protocol_password,
		    strlen(svc->protocol_password));
	free_fields(svc, SCOPE_SERVICE);
	psk_free(svc->psk);
	addrlist_free(&svc->accept_addrs);
	addrlist_free(&svc->connect_addrs);
	addrlist_free(&svc->redirect_addrs);
	SSL_CTX_free(svc->ctx);
	free(svc->hello);
	sesscache_free(svc->cache);
	free(svc->name);
	free(svc->file);
	svc->magic = 0;
	free(svc);
}

void
options_free(struct global *g)
{
	struct service *svc, *next;

	if (g == NULL)
		return;
	for (svc = g->services; svc != NULL; svc = next) {
		next = svc->next;
		service_free(svc);
	}
	service_free(g->defaults);
	free_fields(g, SCOPE_GLOBAL);
	free(g);
}

static void
print_help_line(const char *name, const char *help)
{
	const char *nl = strchr(help, '\n');

	if (nl == NULL) {
		log_msg(LOG_NOTICE, "%-22s = %s", name, help);
		return;
	}
	log_msg(LOG_NOTICE, "%-22s = %.*s", name, (int)(nl - help), help);
	for (help = nl + 1; (nl = strchr(help, '\n')) != NULL; help = nl + 1)
		log_msg(LOG_NOTICE, "%25s%.*s", "", (int)(nl - help), help);
	log_msg(LOG_NOTICE, "%25s%s", "", help);
}

/* -help: the whole table, global options first */
void
options_print_help(void)
{
	enum opt_scope scope;
	size_t i;

	for (scope = SCOPE_GLOBAL; scope <= SCOPE_SERVICE; scope++) {
		log_msg(LOG_NOTICE, " ");
		log_msg(LOG_NOTICE, scope == SCOPE_GLOBAL ? "Global options:" :
		    "Service-level options:");
		for (i = 0; i < ARRAY_SIZE(table); i++)
			if ((table[i].scope == scope ||
			    (table[i].kind == K_INCLUDE &&
			    scope == SCOPE_SERVICE)) &&
			    !(table[i].flags & F_HIDDEN))
				print_help_line(table[i].name, table[i].help);
	}
}

static void
print_default(const struct option *opt)
{
	char *copy, *val, *save = NULL;

	if (opt->show != NULL) {
		log_msg(LOG_NOTICE, "%-22s = %s", opt->name, opt->show);
		return;
	}
	copy = xstrdup(opt->dflt);
	for (val = strtok_r(copy, "\n", &save); val != NULL;
	    val = strtok_r(NULL, "\n", &save))
		log_msg(LOG_NOTICE, "%-22s = %s%s", opt->name, val,
		    opt->unit != NULL ? opt->unit : "");
	free(copy);
}

/* the defaults part of -version */
void
options_print_defaults(void)
{
	enum opt_scope scope;
	size_t i;

	for (scope = SCOPE_GLOBAL; scope <= SCOPE_SERVICE; scope++) {
		log_msg(LOG_NOTICE, " ");
		log_msg(LOG_NOTICE, scope == SCOPE_GLOBAL ? "Global options:" :
		    "Service-level options:");
		for (i = 0; i < ARRAY_SIZE(table); i++)
			if (table[i].scope == scope &&
			    (table[i].flags & F_SHOW))
				print_default(&table[i]);
	}
}

/* where the configuration says the log goes */
void
options_log_settings(const struct global *g, struct log_config *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->level = g->defaults->debug.level;
	lc->facility = g->defaults->debug.facility;
	lc->use_syslog = g->use_syslog;
	lc->use_stderr = g->foreground == FG_YES;
	lc->ident = g->defaults->service_name != NULL ?
	    g->defaults->service_name : "stunnel";
	lc->output = g->output;
	lc->overwrite = g->log_overwrite;
}
