/*
 * stunnel.c: main(): the command line and the start-up sequence.
 *
 * Owns the switches of stunnel 5 on Unix (FILE, -fd N, -help, -version,
 * -sockets, -options) and ours (-check before FILE or -fd N), the banner,
 * and the order of start-up: banner, configuration, "Configuration
 * successful", then the log sinks. Must never parse the configuration
 * itself or touch a connection.
 */
#include "common.h"
#include "stunnel.h"
#include "arena.h"
#include "checkmode.h"
#include "client.h"
#include "conffile.h"
#include "daemon.h"
#include "log.h"
#include "mapshare.h"
#include "options.h"
#include "server.h"
#include "sockopt.h"
#include "tlsopt.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <unistd.h>

enum command { CMD_RUN, CMD_HELP, CMD_VERSION, CMD_SOCKETS, CMD_OPTIONS };

static void
usage(void)
{
	log_msg(LOG_NOTICE, " ");
	log_msg(LOG_NOTICE, "Syntax:");
	log_msg(LOG_NOTICE, "stunnel [<filename>] ] -fd <n> | -help | -version "
	    "| -sockets | -options");
	log_msg(LOG_NOTICE, "    <filename>  - use specified config file");
	log_msg(LOG_NOTICE, "    -fd <n>     - read the config file from a file "
	    "descriptor");
	log_msg(LOG_NOTICE, "    -check      - check the config file (before "
	    "<filename> or -fd <n>) and exit");
	log_msg(LOG_NOTICE, "    -help       - get config file help");
	log_msg(LOG_NOTICE, "    -version    - display version and defaults");
	log_msg(LOG_NOTICE, "    -sockets    - display default socket options");
	log_msg(LOG_NOTICE, "    -options    - display supported TLS options");
}

static const char *
features(void)
{
	return "Threading:FORK Sockets:POLL,IPv6,SYSTEMD TLS:FIPS,OCSP,PSK,SNI"
#ifdef USE_LIBWRAP
	    " Auth:LIBWRAP"
#endif
	    ;
}

/* the lines every run starts with, as stunnel writes them */
void
stunnel_banner(void)
{
	const char *running = OpenSSL_version(OPENSSL_VERSION);

	log_msg(LOG_NOTICE, "stunnel %s on %s platform", STUNNEL_COMPAT,
	    HOST_PLATFORM);
	if (strcmp(running, OPENSSL_VERSION_TEXT) == 0) {
		log_msg(LOG_NOTICE, "Compiled/running with %s", running);
	} else {
		log_msg(LOG_NOTICE, "Compiled with %s", OPENSSL_VERSION_TEXT);
		log_msg(LOG_NOTICE, "Running  with %s", running);
		if ((OpenSSL_version_num() ^ OPENSSL_VERSION_NUMBER) &
		    0xfff00000UL)
			log_msg(LOG_NOTICE, "Update OpenSSL shared libraries or "
			    "rebuild stunnel");
	}
	log_msg(LOG_NOTICE, "%s", features());
}

static int
info(enum command cmd)
{
	log_info_mode();
	switch (cmd) {
	case CMD_HELP:
		options_print_help();
		break;
	case CMD_VERSION:
		log_msg(LOG_NOTICE, "%s %s", PACKAGE_NAME, PACKAGE_VERSION);
		options_print_defaults();
		break;
	case CMD_SOCKETS:
		sockopt_print_table();
		break;
	case CMD_OPTIONS:
		tlsopt_print_options();
		break;
	case CMD_RUN:
		break;
	}
	return 0;
}

static int
failed(enum load_failure why)
{
	if (why == LOAD_USAGE)
		usage();
	if (why != LOAD_BAD_NAME)
		log_msg(LOG_ERR, "Configuration failed");
	log_dump_buffer();
	return 1;
}


/* a start-up step failed after the configuration was accepted */
static int
start_failed(struct global *g)
{
	log_dump_buffer();
	options_free(g);
	return 1;
}

/* no [section]: the connection is on standard input and output */
static int
run_inetd(struct global *g)
{
	struct client_start start = { .g = g, .svc = g->defaults,
	    .rfd = STDIN_FILENO, .wfd = STDOUT_FILENO };
	struct log_config lc;

	options_log_settings(g, &lc);
	if (log_open(&lc) < 0)
		return start_failed(g);
	signal_child_defaults(0);
	client_main(&start);
	options_free(g);
	log_close();
	return 0;
}

/*
 * Bind, chroot, drop privileges, open the log, detach, write the pid
 * file: the order stunnel uses, so that ports below 1024 are bound as
 * root and the log file and pid file are created as the final user.
 * Unlike stunnel, the pid file is created before detaching (the pid
 * written after), so that a launcher whose daemon cannot write it fails.
 */
static int
run(const char *path, const char *fd)
{
	struct log_config lc;
	struct global *g;
	enum load_failure why;
	int nullfd = -1, pidfd;

	g = conffile_load(path, fd, &why);
	if (g == NULL)
		return failed(why);
	log_msg(LOG_NOTICE, "Configuration successful");
	if (g->inetd)
		return run_inetd(g);
	if (g->foreground == FG_NO && (nullfd = daemon_open_null()) < 0)
		return start_failed(g);
	if (signal_init() < 0 || server_bind(g) < 0)
		return start_failed(g);
	mapshare_prepare();	/* needs /proc, which a chroot rarely has */
	if (g->chroot != NULL && daemon_chroot(g->chroot) < 0)
		return start_failed(g);
	if (daemon_drop_privileges(g->defaults->setuid,
	    g->defaults->setgid) < 0)
		return start_failed(g);
	options_log_settings(g, &lc);
	if (log_open(&lc) < 0 || (pidfd = daemon_pid_open(g->pid)) == -1)
		return start_failed(g);
	if (g->foreground == FG_NO) {
		if (daemon_detach(nullfd) < 0)
			return 1;
		log_set_id("main");
	}
	if (daemon_pid_write(pidfd, g->pid) < 0)
		return 1;
	return server_run(g, path, fd);
}

/*
 * -check: the load of a start, then what a start would still refuse and
 * warnings about what would fail later. Nothing is bound, forked or
 * signalled, and the messages go to stderr only (no syslog, no output
 * file, no pid file).
 */
static int
check(const char *path, const char *fd)
{
	struct log_config lc;
	struct global *g;
	enum load_failure why;
	int rc;

	g = conffile_load(path, fd, &why);
	rc = g != NULL ? check_config(g, path, fd) : -1;
	check_end();
	if (g == NULL)
		return failed(why);
	if (rc < 0) {
		options_free(g);
		return failed(LOAD_FAILED);
	}
	log_msg(LOG_NOTICE, "Configuration successful");
	options_log_settings(g, &lc);
	lc.use_syslog = 0;
	lc.use_stderr = 1;
	lc.output = NULL;
	if (lc.level < LOG_NOTICE)
		lc.level = LOG_NOTICE;
	rc = log_open(&lc);
	options_free(g);
	log_close();
	return rc < 0;
}

static int
start(const char *path, const char *fd)
{
	return check_active() ? check(path, fd) : run(path, fd);
}

static int
command(const char *arg, enum command *cmd)
{
	static const struct {
		const char	*name;
		enum command	 cmd;
	} switches[] = {
		{ "-help", CMD_HELP }, { "-version", CMD_VERSION },
		{ "-sockets", CMD_SOCKETS }, { "-options", CMD_OPTIONS },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(switches); i++) {
		if (strcasecmp(arg, switches[i].name) == 0) {
			*cmd = switches[i].cmd;
			return 0;
		}
	}
	return -1;
}

int
main(int argc, char *argv[])
{
	const char *path = CONFDIR "/stunnel.conf";
	enum command cmd = CMD_RUN;

	arena_init();
	/* out of memory, OpenSSL can fail to set itself up and crash later */
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		fatal("TLS initialization failed");
	log_msg(LOG_INFO, "Initializing inetd mode configuration");
	stunnel_banner();
	if (argc > 1 && command(argv[1], &cmd) == 0)
		return info(cmd);
	if (argc > 1 && strcasecmp(argv[1], "-check") == 0) {
		check_begin();
		argc--;
		argv++;
	}
	if (argc > 1 && strcasecmp(argv[1], "-fd") == 0) {
		if (argc < 3) {
			log_msg(LOG_ERR, "No file descriptor specified");
			usage();
			log_dump_buffer();
			return 1;
		}
		return start(NULL, argv[2]);
	}
	if (argc > 1)
		path = argv[1];
	return start(path, NULL);
}
