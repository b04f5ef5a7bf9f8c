/*
 * unit.h: helpers shared by the Check unit tests.
 *
 * Owns a private temporary directory (created on first use, removed with
 * everything in it when the process that created it exits), files written
 * into it, a throwaway self-signed certificate, loading a configuration
 * text through conffile_load() and capturing what the logger kept. Must
 * never depend on the daemon's own output sinks: every log line is taken
 * from the buffer that src/log.c keeps until a configuration is accepted.
 */
#ifndef STUNNEL_UNIT_H
#define STUNNEL_UNIT_H

#include "common.h"	/* first: config.h sets the feature macros */

#include <check.h>

#include "conffile.h"
#include "options.h"

/* the temporary directory, an absolute path without symbolic links */
const char	*unit_dir(void);

/*
 * Write TEXT to NAME inside unit_dir() (NAME may contain "sub/file"
 * if sub exists), or to a fresh "XXXXXX.conf" when NAME is NULL.
 * Returns the path; the caller frees it.
 */
char	*unit_write(const char *name, const char *text);

/* mkdir NAME inside unit_dir(); returns the path, the caller frees it */
char	*unit_mkdir(const char *name);

/*
 * Write CONF_TEXT to a temporary file and load it with
 * conffile_load(path, NULL, ...). In CONF_TEXT, "@CERT@" is replaced by
 * unit_cert() and "@TMP@" by unit_dir(). Everything the logger kept
 * (anything logged before the call is discarded first) is returned in
 * the "[c] text\n" form of log_dump_buffer(); the caller frees it. *OUT
 * receives the configuration (NULL if it was rejected); when OUT is
 * NULL an accepted configuration is freed at once. The file is removed;
 * its name stays available through unit_path().
 */
char	*unit_load(const char *conf_text, struct global **out);

/* the file name the last unit_load() used, as conffile.c reports it */
const char *unit_path(void);

/* what the last unit_load() got from conffile_load() in *why */
enum load_failure unit_why(void);

/* take the kept log lines out of the logger, as text or into nowhere */
char	*unit_log_capture(void);
void	 unit_log_discard(void);

/* the "[!] " and "[*] " lines of LOG, in order; the caller frees it */
char	*unit_log_errors(const char *log);

/* 1 if LOG has LINE (without its '\n') as one of its lines */
int	 unit_log_has(const char *log, const char *line);

/* a PEM file with an EC P-256 key and its self-signed CN=localhost cert */
const char *unit_cert(void);

/* xasprintf() for tests */
char	*unit_fmt(const char *, ...) PRINTF_LIKE(1, 2);

/* LOG has the line built from the format (checked, with the log shown) */
#define ck_assert_log_has(log, ...) do {				\
	char *want_ = unit_fmt(__VA_ARGS__);				\
	int found_ = unit_log_has((log), want_);			\
	ck_assert_msg(found_, "log line not found: %s\n--- log ---\n%s",	\
	    want_, (log));						\
	free(want_);							\
} while (0)

#define ck_assert_log_lacks(log, ...) do {				\
	char *want_ = unit_fmt(__VA_ARGS__);				\
	int found_ = unit_log_has((log), want_);			\
	ck_assert_msg(!found_, "unexpected log line: %s\n--- log ---\n%s",	\
	    want_, (log));						\
	free(want_);							\
} while (0)

/* run SUITE with CK_NORMAL output; returns main()'s exit status */
int	 unit_run(Suite *);

#endif
