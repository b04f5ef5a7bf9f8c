/*
 * check_options.c: unit tests of src/options.c.
 *
 * Every value parser is driven through options_set() on a fresh
 * options_new(): yes/no options, numbers and their bounds, keyword
 * options, the custom parsers (debug, options, OCSPflag, socket, ticket
 * secrets, retry, setuid/setgid, protocol, engine), lists, strings,
 * scope rules, aliases, the defaults, and how service_new() copies the
 * global part's service-level values into a section.
 */
#include "unit.h"
#include "log.h"

#include <grp.h>
#include <pwd.h>
#include <syslog.h>

#include <openssl/ocsp.h>
#include <openssl/ssl.h>

/* the bound the implementation puts on seconds: they must fit in ms */
#define SECONDS_MAX	(INT_MAX / 1000)

static const char yesno_err[] = "The argument needs to be either 'yes' or 'no'";
static const char not_here[] = "Specified option name is not valid here";

static struct global *g;

static void
setup(void)
{
	g = options_new();
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(g->defaults);
}

static void
teardown(void)
{
	options_free(g);
	g = NULL;
	unit_log_discard();
}

/* a section as conffile.c makes one; freed with g */
static struct service *
section(const char *name)
{
	struct service *svc = service_new(g->defaults);

	svc->name = xstrdup(name);
	svc->next = g->services;
	g->services = svc;
	return svc;
}

#define GLOBAL	(g->defaults)

#define ck_set_ok(svc, name, value) do {				\
	const char *why_ = NULL;					\
	enum opt_result r_ = options_set(g, (svc), (name), (value), &why_); \
	ck_assert_msg(r_ == OPT_OK, "\"%s = %s\": result %d (%s)",	\
	    (name), (value), (int)r_, why_ != NULL ? why_ : "no reason"); \
} while (0)

#define ck_set_bad(svc, name, value, reason) do {			\
	const char *why_ = NULL;					\
	enum opt_result r_ = options_set(g, (svc), (name), (value), &why_); \
	ck_assert_msg(r_ == OPT_BAD, "\"%s = %s\": result %d, not OPT_BAD", \
	    (name), (value), (int)r_);					\
	ck_assert_msg(why_ != NULL && strcmp(why_, (reason)) == 0,	\
	    "\"%s = %s\": reason \"%s\", expected \"%s\"", (name), (value), \
	    why_ != NULL ? why_ : "(null)", (reason));			\
} while (0)

#define ck_set_unknown(svc, name, value) do {				\
	const char *why_ = NULL;					\
	enum opt_result r_ = options_set(g, (svc), (name), (value), &why_); \
	ck_assert_msg(r_ == OPT_UNKNOWN, "\"%s = %s\": result %d, not "	\
	    "OPT_UNKNOWN", (name), (value), (int)r_);			\
	ck_assert_msg(why_ != NULL && strcmp(why_, not_here) == 0,	\
	    "\"%s = %s\": reason \"%s\"", (name), (value),		\
	    why_ != NULL ? why_ : "(null)");				\
} while (0)

/* an int or unsigned field of g (SCOPE_GLOBAL) or of a service */
static void *
field(enum opt_scope scope, struct service *svc, size_t off)
{
	return scope == SCOPE_GLOBAL ? (char *)g + off : (char *)svc + off;
}

/* ---------------------------------------------------------------- */
/* yes/no options */

#define GB(f)	SCOPE_GLOBAL, offsetof(struct global, f)
#define SB(f)	SCOPE_SERVICE, offsetof(struct service, f)

static const struct {
	const char	*name;
	enum opt_scope	 scope;
	size_t		 off;
	int		 dflt;
} bools[] = {
	{ "fips", GB(fips), 0 },
	{ "RNDoverwrite", GB(rnd_overwrite), 1 },
	{ "sandbox", GB(sandbox), 1 },
	{ "syslog", GB(use_syslog), 1 },
	{ "client", SB(client), 0 },
	{ "delay", SB(delay), 0 },
	{ "libwrap", SB(libwrap), 0 },
	{ "OCSPaia", SB(ocsp_aia), 0 },
	{ "OCSPnonce", SB(ocsp_nonce), 0 },
	{ "OCSPrequire", SB(ocsp_require), 1 },
	{ "pty", SB(pty), 0 },
	{ "renegotiation", SB(renegotiation), 1 },
	{ "requireCert", SB(require_cert), 0 },
	{ "reset", SB(reset), 1 },
	{ "sessionResume", SB(session_resume), 1 },
	{ "verifyChain", SB(verify_chain), 0 },
	{ "verifyPeer", SB(verify_peer), 0 },
};

START_TEST(bool_values)
{
	static const char *bad[] = { "", "1", "0", "true", "y", "yes please",
	    "nope", "on" };
	const char *name = bools[_i].name;
	int *v = field(bools[_i].scope, GLOBAL, bools[_i].off);
	size_t i;

	ck_assert_msg(*v == bools[_i].dflt, "%s defaults to %d", name, *v);
	ck_set_ok(GLOBAL, name, "yes");
	ck_assert_int_eq(*v, 1);
	ck_set_ok(GLOBAL, name, "no");
	ck_assert_int_eq(*v, 0);
	ck_set_ok(GLOBAL, name, "YES");
	ck_assert_int_eq(*v, 1);
	ck_set_ok(GLOBAL, name, "No");
	ck_assert_int_eq(*v, 0);
	ck_set_ok(GLOBAL, name, "yEs");
	ck_assert_int_eq(*v, 1);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_set_bad(GLOBAL, name, bad[i], yesno_err);
	ck_assert_int_eq(*v, 1);	/* a rejected value changes nothing */
}
END_TEST

/* checks switched on require a certificate; the last line written wins */
START_TEST(require_cert_order)
{
	struct service *a = section("a"), *b = section("b"), *c = section("c");

	ck_set_ok(a, "verifyChain", "yes");
	ck_assert_int_eq(a->require_cert, 1);
	ck_set_ok(a, "requireCert", "no");
	ck_assert_int_eq(a->require_cert, 0);
	ck_set_ok(b, "requireCert", "no");
	ck_set_ok(b, "verifyPeer", "yes");
	ck_assert_int_eq(b->require_cert, 1);
	ck_set_ok(c, "verify", "1");
	ck_assert_int_eq(c->require_cert, 0);
	ck_set_ok(c, "verify", "2");
	ck_assert_int_eq(c->require_cert, 1);
	ck_set_ok(c, "verifyChain", "no");
	ck_assert_int_eq(c->require_cert, 1);
	ck_assert_int_eq(GLOBAL->require_cert, 0);
}
END_TEST

START_TEST(bool_in_section)
{
	struct service *svc = section("s");
	const char *name = bools[_i].name;
	int *v;

	if (bools[_i].scope == SCOPE_GLOBAL) {
		ck_set_unknown(svc, name, "yes");
		return;
	}
	v = field(SCOPE_SERVICE, svc, bools[_i].off);
	ck_set_ok(svc, name, bools[_i].dflt ? "no" : "yes");
	ck_assert_int_eq(*v, !bools[_i].dflt);
	ck_set_bad(svc, name, "maybe", yesno_err);
	ck_assert_int_eq(*v, !bools[_i].dflt);
	/* the global part's value is untouched */
	ck_assert_int_eq(*(int *)field(SCOPE_SERVICE, GLOBAL, bools[_i].off),
	    bools[_i].dflt);
}
END_TEST

/* ---------------------------------------------------------------- */
/* numbers */

static const struct {
	const char	*name;
	enum opt_scope	 scope;
	size_t		 off;
	unsigned long	 min, max;
	long		 dflt;
	int		 is_int;	/* int field, else unsigned */
	const char	*reason;
} numbers[] = {
	{ "RNDbytes", GB(rnd_bytes), 0, INT_MAX, 1024, 0,
	  "Illegal number of bytes to read from random seed files" },
	{ "securityLevel", SB(security_level), 0, 5, 2, 0,
	  "Illegal security level" },
	{ "sessionCacheSize", SB(session_cache_size), 0, INT_MAX, 1000, 0,
	  "Illegal session cache size" },
	{ "sessionCacheTimeout", SB(session_cache_timeout), 0, SECONDS_MAX,
	  300, 0, "Illegal session cache timeout" },
	{ "stack", SB(stack), 1, INT_MAX, 0, 0, "Illegal thread stack size" },
	{ "TIMEOUTbusy", SB(timeout_busy), 0, SECONDS_MAX, 300, 0,
	  "Illegal busy timeout" },
	{ "TIMEOUTclose", SB(timeout_close), 0, SECONDS_MAX, 60, 0,
	  "Illegal close timeout" },
	{ "TIMEOUTconnect", SB(timeout_connect), 0, SECONDS_MAX, 10, 0,
	  "Illegal connect timeout" },
	{ "TIMEOUTidle", SB(timeout_idle), 0, SECONDS_MAX, 43200, 0,
	  "Illegal idle timeout" },
	{ "TIMEOUTocsp", SB(timeout_ocsp), 0, SECONDS_MAX, 5, 0,
	  "Illegal OCSP connect timeout" },
	{ "verify", SB(verify), 0, 4, -1, 1, "Bad verify level" },
};

static long
number_value(size_t i)
{
	void *p = field(numbers[i].scope, GLOBAL, numbers[i].off);

	return numbers[i].is_int ? (long)*(int *)p : (long)*(unsigned *)p;
}

START_TEST(number_bounds)
{
	static const char *junk[] = { "", "-1", "+1", "10s", " 1", "1 ",
	    "0x10", "1.0", "ten", "99999999999999999999999" };
	const char *name = numbers[_i].name, *reason = numbers[_i].reason;
	char buf[32];
	size_t i;

	ck_assert_msg(number_value(_i) == numbers[_i].dflt,
	    "%s defaults to %ld", name, number_value(_i));
	snprintf(buf, sizeof(buf), "%lu", numbers[_i].min);
	ck_set_ok(GLOBAL, name, buf);
	ck_assert_int_eq(number_value(_i), (long)numbers[_i].min);
	snprintf(buf, sizeof(buf), "%lu", numbers[_i].max);
	ck_set_ok(GLOBAL, name, buf);
	ck_assert_int_eq(number_value(_i), (long)numbers[_i].max);
	snprintf(buf, sizeof(buf), "%lu", numbers[_i].max + 1);
	ck_set_bad(GLOBAL, name, buf, reason);
	if (numbers[_i].min > 0) {
		snprintf(buf, sizeof(buf), "%lu", numbers[_i].min - 1);
		ck_set_bad(GLOBAL, name, buf, reason);
	}
	for (i = 0; i < ARRAY_SIZE(junk); i++)
		ck_set_bad(GLOBAL, name, junk[i], reason);
	ck_assert_int_eq(number_value(_i), (long)numbers[_i].max);
}
END_TEST

START_TEST(number_specific_values)
{
	struct service *svc = section("s");

	ck_set_bad(svc, "securityLevel", "6", "Illegal security level");
	ck_set_ok(svc, "securityLevel", "0");
	ck_assert_uint_eq(svc->security_level, 0);
	ck_set_ok(svc, "TIMEOUTidle", "600");
	ck_assert_uint_eq(svc->timeout_idle, 600);
	ck_set_bad(svc, "TIMEOUTidle", "forever", "Illegal idle timeout");
	ck_assert_uint_eq(svc->timeout_idle, 600);
	ck_set_ok(svc, "verify", "2");
	ck_assert_int_eq(svc->verify, 2);
	ck_set_bad(svc, "verify", "5", "Bad verify level");
	ck_set_ok(svc, "sessionCacheSize", "0");
	ck_assert_uint_eq(svc->session_cache_size, 0);
	ck_set_bad(svc, "sessionCacheSize", "", "Illegal session cache size");
	ck_set_unknown(svc, "RNDbytes", "64");
}
END_TEST

START_TEST(stack_is_ignored)
{
	char *log;

	ck_set_ok(GLOBAL, "stack", "65536");
	ck_assert_uint_eq(GLOBAL->stack, 65536);
	log = unit_log_capture();
	ck_assert_log_has(log, "[:] \"stack\" is ignored: each connection "
	    "runs in its own process");
	free(log);
}
END_TEST

/* ---------------------------------------------------------------- */
/* keyword options */

START_TEST(enum_foreground)
{
	ck_assert_int_eq(g->foreground, FG_NO);
	ck_set_ok(GLOBAL, "foreground", "yes");
	ck_assert_int_eq(g->foreground, FG_YES);
	ck_set_ok(GLOBAL, "foreground", "quiet");
	ck_assert_int_eq(g->foreground, FG_QUIET);
	ck_set_ok(GLOBAL, "foreground", "no");
	ck_assert_int_eq(g->foreground, FG_NO);
	ck_set_ok(GLOBAL, "foreground", "QUIET");
	ck_assert_int_eq(g->foreground, FG_QUIET);
	ck_set_bad(GLOBAL, "foreground", "maybe",
	    "The argument needs to be either 'yes', 'quiet' or 'no'");
	ck_set_bad(GLOBAL, "foreground", "",
	    "The argument needs to be either 'yes', 'quiet' or 'no'");
	ck_assert_int_eq(g->foreground, FG_QUIET);
	ck_set_unknown(section("s"), "foreground", "yes");
}
END_TEST

START_TEST(enum_log)
{
	ck_assert_int_eq(g->log_overwrite, 0);
	ck_set_ok(GLOBAL, "log", "overwrite");
	ck_assert_int_eq(g->log_overwrite, 1);
	ck_set_ok(GLOBAL, "log", "append");
	ck_assert_int_eq(g->log_overwrite, 0);
	ck_set_ok(GLOBAL, "log", "OverWrite");
	ck_assert_int_eq(g->log_overwrite, 1);
	ck_set_bad(GLOBAL, "log", "truncate",
	    "The argument needs to be either 'append' or 'overwrite'");
	ck_assert_int_eq(g->log_overwrite, 1);
}
END_TEST

START_TEST(enum_compression)
{
	ck_assert_int_eq(g->compression, COMP_NONE);
	ck_set_ok(GLOBAL, "compression", "zlib");
	ck_assert_int_eq(g->compression, COMP_ZLIB);
	ck_set_ok(GLOBAL, "compression", "Deflate");
	ck_assert_int_eq(g->compression, COMP_DEFLATE);
	ck_set_bad(GLOBAL, "compression", "rle",
	    "Specified compression type is not available");
	ck_assert_int_eq(g->compression, COMP_DEFLATE);
}
END_TEST

START_TEST(enum_failover)
{
	struct service *svc = section("s");

	ck_assert_int_eq(svc->failover, FAILOVER_PRIO);
	ck_set_ok(svc, "failover", "rr");
	ck_assert_int_eq(svc->failover, FAILOVER_RR);
	ck_set_ok(svc, "failover", "PRIO");
	ck_assert_int_eq(svc->failover, FAILOVER_PRIO);
	ck_set_bad(svc, "failover", "random",
	    "The argument needs to be either 'rr' or 'prio'");
	ck_assert_int_eq(svc->failover, FAILOVER_PRIO);
}
END_TEST

START_TEST(enum_logid)
{
	ck_assert_int_eq(GLOBAL->log_id, LOGID_SEQUENTIAL);
	ck_set_ok(GLOBAL, "logId", "unique");
	ck_assert_int_eq(GLOBAL->log_id, LOGID_UNIQUE);
	ck_set_ok(GLOBAL, "logId", "thread");
	ck_assert_int_eq(GLOBAL->log_id, LOGID_THREAD);
	ck_set_ok(GLOBAL, "logId", "process");
	ck_assert_int_eq(GLOBAL->log_id, LOGID_PROCESS);
	ck_set_ok(GLOBAL, "logId", "Sequential");
	ck_assert_int_eq(GLOBAL->log_id, LOGID_SEQUENTIAL);
	ck_set_bad(GLOBAL, "logId", "random",
	    "Invalid connection identifier type");
}
END_TEST

START_TEST(enum_transparent)
{
	static const char reason[] =
	    "Selected transparent proxy mode is not available";
	struct service *svc = section("s");

	ck_assert_int_eq(svc->transparent, 0);
	ck_set_ok(svc, "transparent", "source");
	ck_assert_int_eq(svc->transparent, TRANSPARENT_SOURCE);
	ck_set_ok(svc, "transparent", "none");
	ck_assert_int_eq(svc->transparent, 0);
	ck_set_ok(svc, "transparent", "destination");
	ck_assert_int_eq(svc->transparent, TRANSPARENT_DESTINATION);
	ck_set_ok(svc, "transparent", "both");
	ck_assert_int_eq(svc->transparent,
	    TRANSPARENT_SOURCE | TRANSPARENT_DESTINATION);
	/* the stunnel 4 spellings */
	ck_set_ok(svc, "transparent", "yes");
	ck_assert_int_eq(svc->transparent, TRANSPARENT_SOURCE);
	ck_set_ok(svc, "transparent", "no");
	ck_assert_int_eq(svc->transparent, 0);
	ck_set_ok(svc, "transparent", "BOTH");
	ck_set_bad(svc, "transparent", "full", reason);
	ck_set_bad(svc, "transparent", "", reason);
	ck_assert_int_eq(svc->transparent,
	    TRANSPARENT_SOURCE | TRANSPARENT_DESTINATION);
}
END_TEST

START_TEST(enum_ssl_version)
{
	static const char reason[] = "Invalid protocol version";
	struct service *svc = section("s");

	ck_assert_int_eq(svc->versions.min, 0);
	ck_assert_int_eq(svc->versions.max, 0);
	ck_set_ok(svc, "sslVersion", "TLSv1.2");
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
	ck_assert_int_eq(svc->versions.max, TLS1_2_VERSION);
	ck_set_ok(svc, "sslVersion", "tlsv1.3");
	ck_assert_int_eq(svc->versions.min, TLS1_3_VERSION);
	ck_assert_int_eq(svc->versions.max, TLS1_3_VERSION);
	ck_set_ok(svc, "sslVersion", "SSLv3");
	ck_assert_int_eq(svc->versions.min, SSL3_VERSION);
	ck_set_ok(svc, "sslVersion", "TLSv1");
	ck_assert_int_eq(svc->versions.min, TLS1_VERSION);
	ck_set_ok(svc, "sslVersion", "TLSv1.1");
	ck_assert_int_eq(svc->versions.max, TLS1_1_VERSION);
	ck_set_ok(svc, "sslVersion", "all");
	ck_assert_int_eq(svc->versions.min, 0);
	ck_assert_int_eq(svc->versions.max, 0);
	ck_set_bad(svc, "sslVersion", "TLSv1.4", reason);
	ck_set_bad(svc, "sslVersion", "SSLv2", reason);
	ck_set_bad(svc, "sslVersion", "", reason);
	ck_assert_int_eq(svc->versions.min, 0);
}
END_TEST

START_TEST(enum_ssl_version_min_max)
{
	static const char reason[] = "Invalid protocol version";
	struct service *svc = section("s");

	ck_set_ok(svc, "sslVersionMin", "TLSv1.2");
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
	ck_assert_int_eq(svc->versions.max, 0);
	ck_set_ok(svc, "sslVersionMax", "TLSv1.3");
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
	ck_assert_int_eq(svc->versions.max, TLS1_3_VERSION);
	ck_set_ok(svc, "sslVersionMax", "all");
	ck_assert_int_eq(svc->versions.max, 0);
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
	ck_set_bad(svc, "sslVersionMin", "TLSv9", reason);
	ck_set_bad(svc, "sslVersionMax", "tls1.2", reason);
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
}
END_TEST

/* ---------------------------------------------------------------- */
/* debug = [FACILITY.]LEVEL */

START_TEST(debug_names)
{
	static const char *names[] = { "emerg", "alert", "crit", "err",
	    "warning", "notice", "info", "debug" };
	struct service *svc = section("s");
	int i;

	for (i = 0; i < 8; i++) {
		ck_set_ok(GLOBAL, "debug", names[i]);
		ck_assert_int_eq(GLOBAL->debug.level, i);
		ck_set_ok(svc, "debug", names[7 - i]);
		ck_assert_int_eq(svc->debug.level, 7 - i);
	}
	ck_set_ok(GLOBAL, "debug", "WARNING");
	ck_assert_int_eq(GLOBAL->debug.level, LOG_WARNING);
	ck_assert_int_eq(GLOBAL->debug.facility, LOG_DAEMON);
}
END_TEST

START_TEST(debug_numbers)
{
	char buf[4];
	int i;

	for (i = 0; i <= 7; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		ck_set_ok(GLOBAL, "debug", buf);
		ck_assert_int_eq(GLOBAL->debug.level, i);
	}
	ck_set_bad(GLOBAL, "debug", "8", "Illegal debug level");
	ck_set_bad(GLOBAL, "debug", "-1", "Illegal debug level");
	ck_set_bad(GLOBAL, "debug", "", "Illegal debug level");
	ck_set_bad(GLOBAL, "debug", "verbose", "Illegal debug level");
	ck_set_bad(GLOBAL, "debug", "7 ", "Illegal debug level");
	ck_assert_int_eq(GLOBAL->debug.level, 7);
}
END_TEST

START_TEST(debug_facility_global)
{
	ck_set_ok(GLOBAL, "debug", "local0.info");
	ck_assert_int_eq(GLOBAL->debug.facility, LOG_LOCAL0);
	ck_assert_int_eq(GLOBAL->debug.level, LOG_INFO);
	ck_set_ok(GLOBAL, "debug", "AUTHPRIV.3");
	ck_assert_int_eq(GLOBAL->debug.facility, LOG_AUTHPRIV);
	ck_assert_int_eq(GLOBAL->debug.level, LOG_ERR);
	ck_set_ok(GLOBAL, "debug", "daemon.Debug");
	ck_assert_int_eq(GLOBAL->debug.facility, LOG_DAEMON);
	ck_assert_int_eq(GLOBAL->debug.level, LOG_DEBUG);
	ck_set_bad(GLOBAL, "debug", "bogus.info", "Illegal syslog facility");
	ck_set_bad(GLOBAL, "debug", ".info", "Illegal syslog facility");
	ck_set_bad(GLOBAL, "debug", "local0.8", "Illegal debug level");
	ck_set_bad(GLOBAL, "debug", "local0.", "Illegal debug level");
	ck_assert_int_eq(GLOBAL->debug.level, LOG_DEBUG);
}
END_TEST

START_TEST(debug_facility_in_section)
{
	struct service *svc = section("s");

	ck_set_bad(svc, "debug", "local0.info", "Illegal debug level");
	ck_set_bad(svc, "debug", "daemon.notice", "Illegal debug level");
	ck_assert_int_eq(svc->debug.level, LOG_NOTICE);
	ck_assert_int_eq(svc->debug.facility, LOG_DAEMON);
	ck_set_ok(svc, "debug", "info");
	ck_assert_int_eq(svc->debug.level, LOG_INFO);
	ck_assert_int_eq(svc->debug.facility, LOG_DAEMON);
	ck_assert_int_eq(GLOBAL->debug.level, LOG_NOTICE);
}
END_TEST

/* ---------------------------------------------------------------- */
/* options = [-]NAME, OCSPflag = NAME */

START_TEST(tls_options_masks)
{
	struct service *svc = section("s");
	unsigned long set0 = svc->options.set;

	ck_set_ok(svc, "options", "NO_TLSv1");
	ck_assert(svc->options.set == (set0 | SSL_OP_NO_TLSv1));
	ck_assert_uint_eq(svc->options.clear, 0);
	ck_set_ok(svc, "options", "-NO_SSLv3");
	ck_assert(svc->options.clear == SSL_OP_NO_SSLv3);
	ck_assert((svc->options.set & SSL_OP_NO_SSLv3) == 0);
	ck_assert((svc->options.set & SSL_OP_NO_TLSv1) != 0);
	ck_set_ok(svc, "options", "NO_SSLv3");
	ck_assert((svc->options.set & SSL_OP_NO_SSLv3) != 0);
	ck_assert_uint_eq(svc->options.clear, 0);
	ck_set_ok(svc, "options", "-no_tlsv1");
	ck_assert((svc->options.set & SSL_OP_NO_TLSv1) == 0);
	ck_assert(svc->options.clear == SSL_OP_NO_TLSv1);
	ck_set_ok(svc, "options", "cipher_server_preference");
	ck_assert((svc->options.set & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
	/* the global part keeps its own masks */
	ck_assert(GLOBAL->options.set == set0);
	ck_assert_uint_eq(GLOBAL->options.clear, 0);
}
END_TEST

START_TEST(tls_options_bad)
{
	unsigned long set0 = GLOBAL->options.set;

	ck_set_bad(GLOBAL, "options", "FOO", "Illegal TLS option");
	ck_set_bad(GLOBAL, "options", "-FOO", "Illegal TLS option");
	ck_set_bad(GLOBAL, "options", "", "Illegal TLS option");
	ck_set_bad(GLOBAL, "options", "-", "Illegal TLS option");
	ck_set_bad(GLOBAL, "options", "--NO_TLSv1", "Illegal TLS option");
	ck_set_bad(GLOBAL, "options", "SSL_OP_NO_TLSv1", "Illegal TLS option");
	ck_assert(GLOBAL->options.set == set0);
	ck_assert_uint_eq(GLOBAL->options.clear, 0);
}
END_TEST

START_TEST(ocsp_flags)
{
	ck_assert_uint_eq(GLOBAL->ocsp_flags, 0);
	ck_set_ok(GLOBAL, "OCSPflag", "NOCERTS");
	ck_assert_uint_eq(GLOBAL->ocsp_flags, OCSP_NOCERTS);
	ck_set_ok(GLOBAL, "OCSPflag", "nointern");
	ck_assert_uint_eq(GLOBAL->ocsp_flags, OCSP_NOCERTS | OCSP_NOINTERN);
	ck_set_ok(GLOBAL, "OCSPflag", "NOCERTS");
	ck_assert_uint_eq(GLOBAL->ocsp_flags, OCSP_NOCERTS | OCSP_NOINTERN);
	ck_set_bad(GLOBAL, "OCSPflag", "FOO", "Illegal OCSP flag");
	ck_set_bad(GLOBAL, "OCSPflag", "", "Illegal OCSP flag");
	ck_set_bad(GLOBAL, "OCSPflag", "OCSP_NOCERTS", "Illegal OCSP flag");
	ck_assert_uint_eq(GLOBAL->ocsp_flags, OCSP_NOCERTS | OCSP_NOINTERN);
}
END_TEST

/* ---------------------------------------------------------------- */
/* socket = a|l|r:NAME=VALUE */

START_TEST(socket_good)
{
	static const char *good[] = {
		"a:SO_REUSEADDR=yes", "l:TCP_NODELAY=no", "r:SO_KEEPALIVE=1",
		"a:SO_LINGER=1:60", "r:SO_RCVTIMEO=5", "r:SO_SNDTIMEO=5:0",
		"l:SO_BINDTODEVICE=eth0", "a:ip_tos=16", "r:TCP_KEEPIDLE=60",
		"a:IPV6_V6ONLY=no", "r:SO_RCVBUF=65536",
		/* what stunnel's strtol() takes: a sign, blanks, nothing */
		"r:SO_SNDBUF=+4096", "r:SO_RCVBUF= 5", "a:SO_RCVBUF=",
		"a:SO_LINGER=:5", "r:SO_RCVTIMEO=5:",
	};
	struct service *svc = section("s");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ck_set_ok(svc, "socket", good[i]);
	ck_assert_uint_eq(svc->socket_opts.n, ARRAY_SIZE(good));
	for (i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_str_eq(svc->socket_opts.v[i], good[i]);
	ck_assert_uint_eq(GLOBAL->socket_opts.n, 0);
}
END_TEST

START_TEST(socket_bad)
{
	static const char *bad[] = {
		"x:TCP_NODELAY=yes", "TCP_NODELAY=yes", "a:TCP_NODELAY",
		"r:SO_REUSEPORT=yes", "a:SO_KEEPALIVE=maybe", "a:IP_TOS=0x10",
		"a:SO_LINGER=x:1", "a:SO_LINGER=1:x", "", "a",
		"a:", "a:=1", "A:TCP_NODELAY=yes", "al:TCP_NODELAY=yes",
		/* on/off options: yes, no, 1 or 0 and nothing else */
		"r:SO_OOBINLINE=2", "a:SO_KEEPALIVE=-1", "l:TCP_NODELAY=01",
		"a:SO_REUSEADDR=", "a:SO_LINGER=1:60:3", "r:SO_RCVBUF=-",
	};
	size_t i;

	ck_set_ok(GLOBAL, "socket", "r:TCP_NODELAY=yes");
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_set_bad(GLOBAL, "socket", bad[i], "Illegal socket option");
	ck_assert_uint_eq(GLOBAL->socket_opts.n, 1);
	ck_assert_str_eq(GLOBAL->socket_opts.v[0], "r:TCP_NODELAY=yes");
}
END_TEST

/* ---------------------------------------------------------------- */
/* ticketKeySecret, ticketMacSecret */

#define HEX16	"00112233445566778899aabbccddeeff"

START_TEST(ticket_secret_16_32)
{
	static const unsigned char want[16] = { 0x00, 0x11, 0x22, 0x33, 0x44,
	    0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	char *log;

	ck_set_ok(GLOBAL, "ticketKeySecret", HEX16);
	ck_assert_uint_eq(GLOBAL->ticket_key.len, 16);
	ck_assert_mem_eq(GLOBAL->ticket_key.data, want, 16);
	ck_set_ok(GLOBAL, "ticketMacSecret", HEX16 HEX16);
	ck_assert_uint_eq(GLOBAL->ticket_mac.len, 32);
	ck_assert_mem_eq(GLOBAL->ticket_mac.data, want, 16);
	ck_assert_mem_eq(GLOBAL->ticket_mac.data + 16, want, 16);
	log = unit_log_capture();
	ck_assert_log_has(log, "[ ] ticketKeySecret configured");
	ck_assert_log_has(log, "[ ] ticketMacSecret configured");
	free(log);
}
END_TEST

START_TEST(ticket_secret_colons)
{
	ck_set_ok(GLOBAL, "ticketKeySecret",
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
	ck_assert_uint_eq(GLOBAL->ticket_key.len, 16);
	ck_assert_uint_eq(GLOBAL->ticket_key.data[10], 0xaa);
	ck_assert_uint_eq(GLOBAL->ticket_key.data[15], 0xff);
}
END_TEST

START_TEST(ticket_secret_wrong_length)
{
	struct service *svc = section("s");
	char *log;

	ck_set_ok(svc, "ticketKeySecret", HEX16);
	unit_log_discard();
	ck_set_bad(svc, "ticketKeySecret", "0011223344556677",
	    "Failed to read ticketKeySecret");
	ck_set_bad(svc, "ticketMacSecret", HEX16 "0011223344556677",
	    "Failed to read ticketMacSecret");
	log = unit_log_capture();
	ck_assert_str_eq(log,
	    "[!] ticketKeySecret value has 8 bytes instead of required 16 or "
	    "32 bytes\n"
	    "[!] ticketMacSecret value has 24 bytes instead of required 16 or "
	    "32 bytes\n");
	free(log);
	ck_set_bad(svc, "ticketKeySecret", "", "Failed to read ticketKeySecret");
	/* the earlier value stays */
	ck_assert_uint_eq(svc->ticket_key.len, 16);
	ck_assert_uint_eq(svc->ticket_mac.len, 0);
}
END_TEST

START_TEST(ticket_secret_not_hex)
{
	char *log;

	unit_log_discard();
	ck_set_bad(GLOBAL, "TICKETKEYSECRET", "zz112233445566778899aabbccddeeff",
	    "Failed to read ticketKeySecret");
	ck_set_bad(GLOBAL, "ticketMacSecret", HEX16 "0",
	    "Failed to read ticketMacSecret");
	log = unit_log_capture();
	ck_assert_str_eq(log,
	    "[!] Required ticketKeySecret is 16 or 32 byte hexadecimal key\n"
	    "[!] Required ticketMacSecret is 16 or 32 byte hexadecimal key\n");
	free(log);
	ck_assert_uint_eq(GLOBAL->ticket_key.len, 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* retry, setuid, setgid, protocol, engine */

START_TEST(retry_values)
{
	ck_assert_int_eq(GLOBAL->retry, -1);
	ck_set_ok(GLOBAL, "retry", "yes");
	ck_assert_int_eq(GLOBAL->retry, 1000);
	ck_set_ok(GLOBAL, "retry", "no");
	ck_assert_int_eq(GLOBAL->retry, -1);
	ck_set_ok(GLOBAL, "retry", "500");
	ck_assert_int_eq(GLOBAL->retry, 500);
	ck_set_ok(GLOBAL, "retry", "0");
	ck_assert_int_eq(GLOBAL->retry, 0);
	ck_set_ok(GLOBAL, "retry", "YES");
	ck_assert_int_eq(GLOBAL->retry, 1000);
	ck_set_bad(GLOBAL, "retry", "-5", "Illegal retry delay");
	ck_set_bad(GLOBAL, "retry", "maybe", "Illegal retry delay");
	ck_set_bad(GLOBAL, "retry", "", "Illegal retry delay");
	ck_set_bad(GLOBAL, "retry", "1s", "Illegal retry delay");
	ck_assert_int_eq(GLOBAL->retry, 1000);
}
END_TEST

START_TEST(setuid_values)
{
	struct passwd *pw;

	ck_assert_int_eq(GLOBAL->setuid, -1);
	ck_set_ok(GLOBAL, "setuid", "root");
	ck_assert_int_eq(GLOBAL->setuid, 0);
	ck_set_ok(GLOBAL, "setuid", "12345");
	ck_assert_int_eq(GLOBAL->setuid, 12345);
	ck_set_ok(GLOBAL, "setuid", "0");
	ck_assert_int_eq(GLOBAL->setuid, 0);
	pw = getpwnam("nobody");
	if (pw != NULL) {
		ck_set_ok(GLOBAL, "setuid", "nobody");
		ck_assert_int_eq(GLOBAL->setuid, (long)pw->pw_uid);
	}
	ck_set_bad(GLOBAL, "setuid", "no-such-user-unit", "Illegal UID");
	ck_set_bad(GLOBAL, "setuid", "-1", "Illegal UID");
	ck_set_bad(GLOBAL, "setuid", "", "Illegal UID");
	ck_set_bad(GLOBAL, "setuid", "4294967295", "Illegal UID");
	ck_set_ok(section("s"), "setuid", "0");
}
END_TEST

START_TEST(setgid_values)
{
	ck_assert_int_eq(GLOBAL->setgid, -1);
	if (getgrnam("root") != NULL) {
		ck_set_ok(GLOBAL, "setgid", "root");
		ck_assert_int_eq(GLOBAL->setgid, (long)getgrnam("root")->gr_gid);
	}
	ck_set_ok(GLOBAL, "setgid", "0");
	ck_assert_int_eq(GLOBAL->setgid, 0);
	ck_set_ok(GLOBAL, "setgid", "4242");
	ck_assert_int_eq(GLOBAL->setgid, 4242);
	ck_set_bad(GLOBAL, "setgid", "no-such-group-unit", "Illegal GID");
	ck_set_bad(GLOBAL, "setgid", "-1", "Illegal GID");
	ck_assert_int_eq(GLOBAL->setgid, 4242);
}
END_TEST

START_TEST(protocol_values)
{
	static const struct {
		const char	*name;
		int		 value;
	} known[] = {
		{ "cifs", PROTO_CIFS }, { "capwin", PROTO_CAPWIN },
		{ "capwinctrl", PROTO_CAPWINCTRL }, { "connect", PROTO_CONNECT },
		{ "imap", PROTO_IMAP }, { "ldap", PROTO_LDAP },
		{ "nntp", PROTO_NNTP }, { "pgsql", PROTO_PGSQL },
		{ "pop3", PROTO_POP3 }, { "proxy", PROTO_PROXY },
		{ "smtp", PROTO_SMTP }, { "socks", PROTO_SOCKS },
		{ "SMTP", PROTO_SMTP }, { "Socks", PROTO_SOCKS },
	};
	struct service *svc = section("s");
	size_t i;

	ck_assert_int_eq(svc->protocol, PROTO_NONE);
	for (i = 0; i < ARRAY_SIZE(known); i++) {
		ck_set_ok(svc, "protocol", known[i].name);
		ck_assert_int_eq(svc->protocol, known[i].value);
	}
	/* unknown names are accepted here and rejected with the section */
	ck_set_ok(svc, "protocol", "gopher");
	ck_assert_int_eq(svc->protocol, -1);
	ck_set_ok(svc, "protocol", "imap");
	ck_assert_int_eq(svc->protocol, PROTO_IMAP);
	ck_set_ok(svc, "protocol", "");
	ck_assert_int_eq(svc->protocol, -1);
}
END_TEST

START_TEST(engine_commands)
{
	/* engineCtrl and engineDefault act on the engine opened last */
	ck_set_bad(GLOBAL, "engineCtrl", "SO_PATH:/x.so",
	    "No engine was defined");
	ck_set_bad(GLOBAL, "engineDefault", "ALL", "No engine was defined");
	ck_assert_uint_eq(g->engine_cmds.n, 0);
	ck_set_bad(GLOBAL, "engine", "no-such-engine-unit",
	    "Failed to open the engine");
	ck_assert_uint_eq(g->engine_cmds.n, 0);
	ck_set_ok(GLOBAL, "ENGINE", "auto");
	ck_assert_uint_eq(g->engine_cmds.n, 1);
	ck_assert_str_eq(g->engine_cmds.v[0], "engine=auto");
	ck_set_unknown(section("s"), "engine", "auto");
}
END_TEST

START_TEST(set_env)
{
	ck_set_ok(GLOBAL, "setEnv", "STUNNEL_UNIT_VAR=one two");
	ck_assert_str_eq(getenv("STUNNEL_UNIT_VAR"), "one two");
	ck_set_ok(GLOBAL, "setEnv", "STUNNEL_UNIT_VAR=");
	ck_assert_ptr_null(getenv("STUNNEL_UNIT_VAR"));
	ck_assert_uint_eq(g->set_env.n, 2);
	ck_assert_str_eq(g->set_env.v[0], "STUNNEL_UNIT_VAR=one two");
	ck_assert_str_eq(g->set_env.v[1], "STUNNEL_UNIT_VAR=");
	ck_set_bad(GLOBAL, "setEnv", "NOVALUE",
	    "Malformed environment variable");
	ck_set_bad(GLOBAL, "setEnv", "=x", "Malformed environment variable");
	ck_assert_uint_eq(g->set_env.n, 2);
	ck_set_unknown(section("s"), "setEnv", "A=1");
}
END_TEST

/*
 * A loaded provider stays loaded until exit, when it is unloaded: under
 * AddressSanitizer "provider = default" must not leak.
 */
START_TEST(provider_load)
{
	ck_set_ok(GLOBAL, "provider", "default");
	ck_assert_uint_eq(g->provider.n, 1);
	ck_assert_str_eq(g->provider.v[0], "default");
	ck_set_bad(GLOBAL, "provider", "no-such-provider-unit",
	    "Failed to load provider");
	ck_set_bad(GLOBAL, "providerParameter", "default",
	    "Malformed parameter");
	ck_set_bad(GLOBAL, "providerParameter", "no-such-provider-unit:a=b",
	    "Provider not found");
	ck_assert_uint_eq(g->provider.n, 1);
	ck_assert_uint_eq(g->provider_param.n, 0);
}
END_TEST

/* ---------------------------------------------------------------- */
/* lists, strings, scope, names */

START_TEST(lists_accumulate)
{
	struct service *svc = section("s");

	ck_set_ok(svc, "connect", "127.0.0.1:1");
	ck_set_ok(svc, "connect", "127.0.0.1:2");
	ck_assert_uint_eq(svc->connect.n, 2);
	ck_assert_str_eq(svc->connect.v[0], "127.0.0.1:1");
	ck_assert_str_eq(svc->connect.v[1], "127.0.0.1:2");
	ck_set_ok(svc, "accept", "1");
	ck_set_ok(svc, "accept", "::1:2");
	ck_set_ok(svc, "accept", "/run/x.sock");
	ck_assert_uint_eq(svc->accept.n, 3);
	ck_assert_str_eq(svc->accept.v[2], "/run/x.sock");
	ck_set_ok(svc, "checkHost", "a.example");
	ck_set_ok(svc, "CHECKHOST", "b.example");
	ck_assert_uint_eq(svc->check_host.n, 2);
	ck_set_ok(svc, "sni", "a:*.example");
	ck_assert_uint_eq(svc->sni.n, 1);
	/* no engine is open here: nothing to select */
	ck_set_bad(svc, "engineId", "pkcs11", "Engine ID not found");
	ck_set_bad(svc, "engineNum", "1", "Illegal engine number");
	ck_set_bad(svc, "engineNum", "0", "Illegal engine number");
	ck_assert_int_eq(svc->engine, 0);
	ck_set_ok(svc, "CAengine", "a");
	ck_set_ok(svc, "CAengine", "b");
	ck_assert_uint_eq(svc->ca_engine.n, 2);
	ck_set_ok(svc, "config", "Options:-SessionTicket");
	ck_set_ok(svc, "config", "MinProtocol:TLSv1.2");
	ck_assert_uint_eq(svc->config.n, 2);
	ck_assert_str_eq(svc->config.v[1], "MinProtocol:TLSv1.2");
}
END_TEST

START_TEST(strings_replace)
{
	struct service *svc = section("s");

	ck_set_ok(svc, "cert", "/a.pem");
	ck_set_ok(svc, "cert", "/b.pem");
	ck_assert_str_eq(svc->cert, "/b.pem");
	ck_set_ok(svc, "exec", "/bin/cat");
	ck_set_ok(svc, "execArgs", "cat -u");
	ck_assert_str_eq(svc->exec_args, "cat -u");
	ck_set_ok(GLOBAL, "output", "/var/log/a.log");
	ck_set_ok(GLOBAL, "output", "/var/log/b.log");
	ck_assert_str_eq(g->output, "/var/log/b.log");
	ck_set_ok(GLOBAL, "RNDfile", "/tmp/seed");
	ck_assert_str_eq(g->rnd_file, "/tmp/seed");
}
END_TEST

START_TEST(strings_empty_unsets)
{
	static const char *names[] = { "CApath", "CAfile", "CAstore",
	    "CRLpath", "CRLfile" };
	struct service *svc = section("s");
	char **fields[] = { &svc->ca_path, &svc->ca_file, &svc->ca_store,
	    &svc->crl_path, &svc->crl_file };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ck_set_ok(svc, names[i], "/etc/ssl/x");
		ck_assert_str_eq(*fields[i], "/etc/ssl/x");
		ck_set_ok(svc, names[i], "");
		ck_assert_msg(*fields[i] == NULL, "%s = (empty) unsets it",
		    names[i]);
	}
	ck_set_ok(GLOBAL, "pid", "/run/stunnel.pid");
	ck_set_ok(GLOBAL, "pid", "");
	ck_assert_ptr_null(g->pid);
}
END_TEST

START_TEST(global_option_in_section)
{
	static const char *globals[] = { "chroot", "compression", "EGD",
	    "engine", "engineCtrl", "engineDefault", "fips", "foreground",
	    "log", "output", "pid", "provider", "providerParameter",
	    "RNDbytes", "RNDfile", "RNDoverwrite", "sandbox", "setEnv",
	    "syslog" };
	struct service *svc = section("s");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(globals); i++)
		ck_set_unknown(svc, globals[i], "yes");
	ck_assert_int_eq(g->use_syslog, 1);
}
END_TEST

START_TEST(unknown_names)
{
	static const char *unknown[] = { "bogus", "", "connectx", "conne",
	    "iconIdle", "taskbar", "TIMEOUT", "debug level" };
	struct service *svc = section("s");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		ck_set_unknown(GLOBAL, unknown[i], "1");
		ck_set_unknown(svc, unknown[i], "1");
	}
}
END_TEST

START_TEST(service_option_in_global)
{
	ck_set_ok(GLOBAL, "connect", "127.0.0.1:1");
	ck_set_ok(GLOBAL, "client", "yes");
	ck_set_ok(GLOBAL, "TIMEOUTidle", "10");
	ck_assert_uint_eq(GLOBAL->connect.n, 1);
	ck_assert_int_eq(GLOBAL->client, 1);
	ck_assert_uint_eq(GLOBAL->timeout_idle, 10);
}
END_TEST

START_TEST(include_is_for_the_reader)
{
	const char *why = NULL;

	ck_assert_int_eq(options_set(g, GLOBAL, "include", "/x", &why),
	    OPT_INCLUDE);
	ck_assert_int_eq(options_set(g, section("s"), "INCLUDE", "/x", &why),
	    OPT_INCLUDE);
}
END_TEST

START_TEST(aliases)
{
	struct service *svc = section("s");

	ck_set_ok(svc, "curve", "P-256");
	ck_assert_str_eq(svc->curves, "P-256");
	ck_set_ok(svc, "CURVE", "X25519");
	ck_assert_str_eq(svc->curves, "X25519");
	ck_set_ok(svc, "session", "77");
	ck_assert_uint_eq(svc->session_cache_timeout, 77);
	ck_set_bad(svc, "Session", "x", "Illegal session cache timeout");
	ck_assert_uint_eq(svc->session_cache_timeout, 77);
}
END_TEST

START_TEST(names_case_insensitive)
{
	struct service *svc = section("s");

	ck_set_ok(svc, "timeoutBUSY", "7");
	ck_assert_uint_eq(svc->timeout_busy, 7);
	ck_set_ok(svc, "CONNECT", "127.0.0.1:1");
	ck_assert_uint_eq(svc->connect.n, 1);
	ck_set_ok(svc, "Cert", "/c.pem");
	ck_assert_str_eq(svc->cert, "/c.pem");
	ck_set_ok(GLOBAL, "rndBYTES", "64");
	ck_assert_uint_eq(g->rnd_bytes, 64);
	ck_set_ok(GLOBAL, "ForeGround", "yes");
	ck_assert_int_eq(g->foreground, FG_YES);
	ck_set_ok(svc, "VERIFYCHAIN", "yes");
	ck_assert_int_eq(svc->verify_chain, 1);
}
END_TEST

/* ---------------------------------------------------------------- */
/* defaults */

START_TEST(defaults_global)
{
	ck_assert_ptr_null(g->chroot);
	ck_assert_int_eq(g->compression, COMP_NONE);
	ck_assert_ptr_null(g->egd);
	ck_assert_uint_eq(g->engine_cmds.n, 0);
	ck_assert_int_eq(g->fips, 0);
	ck_assert_int_eq(g->foreground, FG_NO);
	ck_assert_int_eq(g->log_overwrite, 0);
	ck_assert_ptr_null(g->output);
	ck_assert_ptr_null(g->pid);
	ck_assert_uint_eq(g->provider.n, 0);
	ck_assert_uint_eq(g->rnd_bytes, 1024);
	ck_assert_str_eq(g->rnd_file, "/dev/urandom");
	ck_assert_int_eq(g->rnd_overwrite, 1);
	ck_assert_uint_eq(g->set_env.n, 0);
	ck_assert_int_eq(g->use_syslog, 1);
	ck_assert_ptr_null(g->services);
	ck_assert_int_eq(g->inetd, 0);
}
END_TEST

START_TEST(defaults_service)
{
	const struct service *d = GLOBAL;
	unsigned long ssl23 = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3;

	ck_assert_uint_eq(d->magic, SERVICE_MAGIC);
	ck_assert_ptr_null(d->name);
	ck_assert_uint_eq(d->timeout_busy, 300);
	ck_assert_uint_eq(d->timeout_close, 60);
	ck_assert_uint_eq(d->timeout_connect, 10);
	ck_assert_uint_eq(d->timeout_idle, 43200);
	ck_assert_uint_eq(d->timeout_ocsp, 5);
	ck_assert_uint_eq(d->session_cache_size, 1000);
	ck_assert_uint_eq(d->session_cache_timeout, 300);
	ck_assert_uint_eq(d->security_level, 2);
	ck_assert_str_eq(d->ciphers, "HIGH:!aNULL:!SSLv2:!DH:!kDHEPSK");
	ck_assert_str_eq(d->ciphersuites, "TLS_AES_256_GCM_SHA384:"
	    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
	ck_assert_str_eq(d->curves, "X25519:P-256:X448:P-521:P-384");
	/* SSL_OP_NO_SSLv2 is 0 in OpenSSL 3 */
	ck_assert((d->options.set & ssl23) == ssl23);
	ck_assert(d->options.set == ssl23);
	ck_assert_uint_eq(d->options.clear, 0);
	ck_assert_int_eq(d->failover, FAILOVER_PRIO);
	ck_assert_int_eq(d->reset, 1);
	ck_assert_int_eq(d->renegotiation, 1);
	ck_assert_int_eq(d->ocsp_require, 1);
	ck_assert_int_eq(d->session_resume, 1);
	ck_assert_int_eq(d->debug.level, LOG_NOTICE);
	ck_assert_int_eq(d->debug.facility, LOG_DAEMON);
	ck_assert_int_eq(d->client, 0);
	ck_assert_int_eq(d->verify, -1);
	ck_assert_int_eq(d->verify_chain, 0);
	ck_assert_int_eq(d->verify_peer, 0);
	ck_assert_int_eq(d->retry, -1);
	ck_assert_int_eq(d->setuid, -1);
	ck_assert_int_eq(d->setgid, -1);
	ck_assert_int_eq(d->protocol, PROTO_NONE);
	ck_assert_int_eq(d->transparent, 0);
	ck_assert_int_eq(d->log_id, LOGID_SEQUENTIAL);
	ck_assert_int_eq(d->versions.min, 0);
	ck_assert_int_eq(d->versions.max, 0);
	ck_assert_uint_eq(d->ocsp_flags, 0);
	ck_assert_uint_eq(d->ticket_key.len, 0);
	ck_assert_uint_eq(d->ticket_mac.len, 0);
	ck_assert_uint_eq(d->accept.n, 0);
	ck_assert_uint_eq(d->connect.n, 0);
	ck_assert_uint_eq(d->socket_opts.n, 0);
	ck_assert_ptr_null(d->cert);
	ck_assert_ptr_null(d->key);
	ck_assert_ptr_null(d->ca_file);
	ck_assert_ptr_null(d->ca_path);
	ck_assert_ptr_null(d->exec);
	ck_assert_ptr_null(d->ctx);
	ck_assert_ptr_null(d->next);
}
END_TEST

START_TEST(defaults_independent)
{
	struct global *other = options_new();

	ck_set_ok(GLOBAL, "ciphers", "HIGH");
	ck_assert_str_eq(other->defaults->ciphers,
	    "HIGH:!aNULL:!SSLv2:!DH:!kDHEPSK");
	ck_assert_ptr_ne(other->defaults->ciphers, GLOBAL->ciphers);
	ck_assert_ptr_ne(other->rnd_file, g->rnd_file);
	options_free(other);
	options_free(NULL);
	service_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- */
/* service_new(): a section starts as a copy of the global part */

START_TEST(inherit_values)
{
	struct service *svc;

	ck_set_ok(GLOBAL, "cert", "/global/cert.pem");
	ck_set_ok(GLOBAL, "client", "yes");
	ck_set_ok(GLOBAL, "TIMEOUTidle", "77");
	ck_set_ok(GLOBAL, "debug", "info");
	ck_set_ok(GLOBAL, "options", "-NO_SSLv3");
	ck_set_ok(GLOBAL, "OCSPflag", "NOCERTS");
	ck_set_ok(GLOBAL, "sslVersionMin", "TLSv1.2");
	ck_set_ok(GLOBAL, "retry", "250");
	ck_set_ok(GLOBAL, "protocol", "smtp");
	ck_set_ok(GLOBAL, "ticketKeySecret", HEX16);
	svc = section("s");
	ck_assert_uint_eq(svc->magic, SERVICE_MAGIC);
	ck_assert_str_eq(svc->name, "s");
	ck_assert_ptr_null(svc->file);
	ck_assert_ptr_null(svc->ctx);
	ck_assert_ptr_null(svc->sni_primary);
	ck_assert_str_eq(svc->cert, "/global/cert.pem");
	ck_assert_int_eq(svc->client, 1);
	ck_assert_uint_eq(svc->timeout_idle, 77);
	ck_assert_int_eq(svc->debug.level, LOG_INFO);
	ck_assert_int_eq(svc->debug.facility, LOG_DAEMON);
	ck_assert(svc->options.clear == SSL_OP_NO_SSLv3);
	ck_assert_uint_eq(svc->ocsp_flags, OCSP_NOCERTS);
	ck_assert_int_eq(svc->versions.min, TLS1_2_VERSION);
	ck_assert_int_eq(svc->retry, 250);
	ck_assert_int_eq(svc->protocol, PROTO_SMTP);
	ck_assert_uint_eq(svc->ticket_key.len, 16);
	ck_assert_mem_eq(svc->ticket_key.data, GLOBAL->ticket_key.data, 16);
	ck_assert_str_eq(svc->ciphers, GLOBAL->ciphers);
	/* a section's own value does not reach back */
	ck_set_ok(svc, "TIMEOUTidle", "5");
	ck_set_ok(svc, "client", "no");
	ck_assert_uint_eq(GLOBAL->timeout_idle, 77);
	ck_assert_int_eq(GLOBAL->client, 1);
}
END_TEST

START_TEST(inherit_strings_duplicated)
{
	struct service *svc;

	ck_set_ok(GLOBAL, "cert", "/global/cert.pem");
	ck_set_ok(GLOBAL, "CAfile", "/global/ca.pem");
	svc = section("s");
	ck_assert_ptr_ne(svc->cert, GLOBAL->cert);
	ck_assert_ptr_ne(svc->ca_file, GLOBAL->ca_file);
	ck_assert_ptr_ne(svc->ciphers, GLOBAL->ciphers);
	ck_assert_ptr_ne(svc->curves, GLOBAL->curves);
	/* replacing (so freeing) the defaults' copies: the section's stay */
	ck_set_ok(GLOBAL, "cert", "/other.pem");
	ck_set_ok(GLOBAL, "CAfile", "");
	ck_set_ok(GLOBAL, "ciphers", "HIGH");
	ck_assert_str_eq(svc->cert, "/global/cert.pem");
	ck_assert_str_eq(svc->ca_file, "/global/ca.pem");
	ck_assert_str_eq(svc->ciphers, "HIGH:!aNULL:!SSLv2:!DH:!kDHEPSK");
	/* and the other way round */
	ck_set_ok(svc, "cert", "/section.pem");
	ck_assert_str_eq(GLOBAL->cert, "/other.pem");
}
END_TEST

START_TEST(inherit_free_defaults_first)
{
	struct service *svc;

	ck_set_ok(GLOBAL, "cert", "/global/cert.pem");
	ck_set_ok(GLOBAL, "connect", "127.0.0.1:1");
	ck_set_ok(GLOBAL, "socket", "a:SO_KEEPALIVE=yes");
	svc = service_new(GLOBAL);
	service_free(GLOBAL);
	g->defaults = NULL;
	/* under AddressSanitizer any shared pointer is a use after free */
	ck_assert_str_eq(svc->cert, "/global/cert.pem");
	ck_assert_str_eq(svc->connect.v[0], "127.0.0.1:1");
	ck_assert_str_eq(svc->socket_opts.v[0], "a:SO_KEEPALIVE=yes");
	ck_assert_str_eq(svc->ciphersuites, "TLS_AES_256_GCM_SHA384:"
	    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
	g->defaults = svc;	/* freed by the teardown */
}
END_TEST

START_TEST(inherit_lists_independent)
{
	struct service *a, *b;

	ck_set_ok(GLOBAL, "connect", "127.0.0.1:1");
	ck_set_ok(GLOBAL, "socket", "r:TCP_NODELAY=yes");
	ck_set_ok(GLOBAL, "checkHost", "h.example");
	a = section("a");
	ck_set_ok(a, "connect", "127.0.0.1:2");
	ck_set_ok(a, "socket", "l:SO_KEEPALIVE=yes");
	ck_set_ok(GLOBAL, "connect", "127.0.0.1:3");
	b = section("b");
	ck_assert_uint_eq(a->connect.n, 2);
	ck_assert_str_eq(a->connect.v[0], "127.0.0.1:1");
	ck_assert_str_eq(a->connect.v[1], "127.0.0.1:2");
	ck_assert_uint_eq(GLOBAL->connect.n, 2);
	ck_assert_str_eq(GLOBAL->connect.v[1], "127.0.0.1:3");
	ck_assert_uint_eq(b->connect.n, 2);
	ck_assert_str_eq(b->connect.v[1], "127.0.0.1:3");
	ck_assert_ptr_ne(a->connect.v, GLOBAL->connect.v);
	ck_assert_ptr_ne(a->connect.v[0], GLOBAL->connect.v[0]);
	ck_assert_uint_eq(a->socket_opts.n, 2);
	ck_assert_uint_eq(GLOBAL->socket_opts.n, 1);
	ck_assert_uint_eq(b->socket_opts.n, 1);
	ck_assert_ptr_ne(a->socket_opts.v[0], GLOBAL->socket_opts.v[0]);
	ck_assert_uint_eq(a->check_host.n, 1);
	ck_assert_ptr_ne(a->check_host.v[0], GLOBAL->check_host.v[0]);
}
END_TEST

START_TEST(inherit_psk)
{
	char *path = unit_write("psk.txt",
	    "client1:00112233445566778899aabbccddeeff\n"
	    "client2:a text key of more than sixteen bytes\n");
	struct service *svc;

	ck_set_ok(GLOBAL, "PSKsecrets", path);
	ck_assert_ptr_nonnull(GLOBAL->psk);
	svc = section("s");
	ck_assert_ptr_nonnull(svc->psk);
	ck_assert_ptr_ne(svc->psk, GLOBAL->psk);
	ck_assert_str_eq(svc->psk_secrets, path);
	ck_assert_ptr_ne(svc->psk_secrets, GLOBAL->psk_secrets);
	ck_assert_str_eq(svc->psk->identity, "client1");
	ck_assert_uint_eq(svc->psk->key_len, 16);
	ck_assert_ptr_nonnull(psk_find(svc->psk, "client2"));
	/* reloading the global part's keys frees its copy, not the section's */
	ck_set_ok(GLOBAL, "PSKsecrets", path);
	ck_assert_str_eq(svc->psk->identity, "client1");
	ck_assert_uint_eq(svc->psk->key[15], 0xff);
	ck_set_bad(svc, "PSKsecrets", "/nonexistent/psk.txt",
	    "Failed to read PSK secrets");
	ck_assert_ptr_nonnull(svc->psk);
	free(path);
}
END_TEST

static Suite *
options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc;

	tc = tcase_create("bool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, bool_values, 0, (int)ARRAY_SIZE(bools));
	tcase_add_loop_test(tc, bool_in_section, 0, (int)ARRAY_SIZE(bools));
	tcase_add_test(tc, require_cert_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("number");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, number_bounds, 0, (int)ARRAY_SIZE(numbers));
	tcase_add_test(tc, number_specific_values);
	tcase_add_test(tc, stack_is_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("enum");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, enum_foreground);
	tcase_add_test(tc, enum_log);
	tcase_add_test(tc, enum_compression);
	tcase_add_test(tc, enum_failover);
	tcase_add_test(tc, enum_logid);
	tcase_add_test(tc, enum_transparent);
	tcase_add_test(tc, enum_ssl_version);
	tcase_add_test(tc, enum_ssl_version_min_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("debug");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, debug_names);
	tcase_add_test(tc, debug_numbers);
	tcase_add_test(tc, debug_facility_global);
	tcase_add_test(tc, debug_facility_in_section);
	suite_add_tcase(s, tc);

	tc = tcase_create("custom");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tls_options_masks);
	tcase_add_test(tc, tls_options_bad);
	tcase_add_test(tc, ocsp_flags);
	tcase_add_test(tc, socket_good);
	tcase_add_test(tc, socket_bad);
	tcase_add_test(tc, ticket_secret_16_32);
	tcase_add_test(tc, ticket_secret_colons);
	tcase_add_test(tc, ticket_secret_wrong_length);
	tcase_add_test(tc, ticket_secret_not_hex);
	tcase_add_test(tc, retry_values);
	tcase_add_test(tc, setuid_values);
	tcase_add_test(tc, setgid_values);
	tcase_add_test(tc, protocol_values);
	tcase_add_test(tc, engine_commands);
	tcase_add_test(tc, set_env);
	tcase_add_test(tc, provider_load);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lists_accumulate);
	tcase_add_test(tc, strings_replace);
	tcase_add_test(tc, strings_empty_unsets);
	tcase_add_test(tc, global_option_in_section);
	tcase_add_test(tc, unknown_names);
	tcase_add_test(tc, service_option_in_global);
	tcase_add_test(tc, include_is_for_the_reader);
	tcase_add_test(tc, aliases);
	tcase_add_test(tc, names_case_insensitive);
	suite_add_tcase(s, tc);

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults_global);
	tcase_add_test(tc, defaults_service);
	tcase_add_test(tc, defaults_independent);
	suite_add_tcase(s, tc);

	tc = tcase_create("inherit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, inherit_values);
	tcase_add_test(tc, inherit_strings_duplicated);
	tcase_add_test(tc, inherit_free_defaults_first);
	tcase_add_test(tc, inherit_lists_independent);
	tcase_add_test(tc, inherit_psk);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(options_suite());
}
