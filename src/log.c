/*
 * log.c: every message the daemon writes goes through here.
 *
 * Until the configuration is accepted, lines are kept in memory: on
 * success they are replayed into the configured sinks with their original
 * time; on failure all of them, debug included, go to stderr in the short
 * "[c] text" form, as stunnel does. Afterwards a line goes to syslog, the
 * output file and (foreground = yes) stderr, filtered by the current
 * level. This file must never block on anything but the write itself,
 * and must keep errno unchanged for its callers.
 */
#include "common.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define LOG_TEXT_MAX	1024

enum log_mode {
	MODE_BUFFER,	/* before the configuration is accepted */
	MODE_INFO,	/* -help, -version...: bare text on stderr */
	MODE_DAEMON	/* configured sinks */
};

struct log_entry {
	time_t	 when;
	int	 level;
	char	*id;
	char	*text;
};

static enum log_mode	 mode = MODE_BUFFER;
static struct log_entry	*buffer;
static size_t		 nbuffer;
static char		 current_id[64] = "ui";
static int		 current_level = LOG_NOTICE;
static struct log_config config;
static int		 log_fd = -1;
static char		*ident_copy;
static char		*output_copy;

/*
 * The length of the UTF-8 sequence at S when it is valid and printable,
 * else 0: overlong forms, surrogates, code points past U+10FFFF, C1
 * controls (U+0080..U+009F), the line and paragraph separators and the
 * bidirectional controls (which make a line read other than it is) are
 * not.  A cut sequence fails on its NUL or the byte after it.
 */
static size_t
utf8_printable(const unsigned char *s)
{
	uint32_t cp, min;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp <= 0x9f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/*
 * Every line, whatever it quotes (names, identities, protocol lines a
 * peer chose): trailing newlines go, and every byte that is not printable
 * text becomes '.', in place.  stunnel does this for ASCII control bytes
 * only; here any byte that is not part of valid, printable UTF-8 goes
 * too, so that the log is always valid UTF-8 and no peer can write
 * terminal escapes or fake lines into it.
 */
static void
sanitize(char *text)
{
	unsigned char *p = (unsigned char *)text;
	size_t len = strlen(text), n;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f)
			n = 1;
		else if ((n = *p >= 0x80 ? utf8_printable(p) : 0) == 0) {
			*p = '.';
			n = 1;
		}
		p += n;
	}
}

/* the one-character level tag of the short "[c] text" form */
static char
level_tag(int level)
{
	if (level <= LOG_CRIT)
		return '*';
	if (level == LOG_ERR)
		return '!';
	if (level == LOG_WARNING)
		return ':';
	if (level == LOG_NOTICE)
		return '.';
	return ' ';
}

static void
write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void
emit(time_t when, int level, const char *id, const char *text)
{
	char stamp[32], line[LOG_TEXT_MAX + 128];
	struct tm tm;
	int len;

	if (level > config.level)
		return;
	if (config.use_syslog)
		syslog(level, "LOG%d[%s]: %s", level, id, text);
	if (log_fd < 0 && !config.use_stderr)
		return;
	localtime_r(&when, &tm);
	strftime(stamp, sizeof(stamp), "%Y.%m.%d %H:%M:%S", &tm);
	len = snprintf(line, sizeof(line), "%s LOG%d[%s]: %s\n",
	    stamp, level, id, text);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line))
		len = sizeof(line) - 1;
	if (log_fd >= 0)
		write_all(log_fd, line, (size_t)len);
	if (config.use_stderr)
		write_all(STDERR_FILENO, line, (size_t)len);
}

/*
 * The entry is counted only once it is whole: running out of memory
 * here ends in fatal(), which shows (and frees) what was kept.
 */
static void
keep(int level, const char *text)
{
	struct log_entry e = { .when = time(NULL), .level = level };

	e.id = xstrdup(current_id);
	e.text = xstrdup(text);
	buffer = xreallocarray(buffer, nbuffer + 1, sizeof(*buffer));
	buffer[nbuffer++] = e;
}

static void
free_buffer(void)
{
	size_t i;

	for (i = 0; i < nbuffer; i++) {
		free(buffer[i].id);
		free(buffer[i].text);
	}
	free(buffer);
	buffer = NULL;
	nbuffer = 0;
}

static void
info_line(int level, const char *text)
{
	if (level <= LOG_INFO) {
		write_all(STDERR_FILENO, text, strlen(text));
		write_all(STDERR_FILENO, "\n", 1);
	}
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char text[LOG_TEXT_MAX + 1];
	int saved_errno = errno;

	if (mode == MODE_DAEMON && level > current_level) {
		errno = saved_errno;
		return;
	}
	vsnprintf(text, sizeof(text), fmt, ap);
	sanitize(text);
	switch (mode) {
	case MODE_BUFFER:
		keep(level, text);
		break;
	case MODE_INFO:
		info_line(level, text);
		break;
	case MODE_DAEMON:
		emit(time(NULL), level, current_id, text);
		break;
	}
	errno = saved_errno;
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* "TEXT: strerror (errno)" at level 3, the form of every system error */
void
log_errno(const char *fmt, ...)
{
	char what[LOG_TEXT_MAX];
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERR, "%s: %s (%d)", what, strerror(err), err);
	errno = err;
}

void
log_set_id(const char *id)
{
	snprintf(current_id, sizeof(current_id), "%s", id);
}

const char *
log_get_id(void)
{
	return current_id;
}

void
log_set_level(int level)
{
	current_level = level;
}

/* -help, -version...: show what was kept, then write bare text */
void
log_info_mode(void)
{
	size_t i;

	for (i = 0; i < nbuffer; i++)
		info_line(buffer[i].level, buffer[i].text);
	free_buffer();
	mode = MODE_INFO;
}

/* "[!] TEXT" on stderr: a line kept before the configuration was read */
static void
stderr_line(int level, const char *text)
{
	char line[LOG_TEXT_MAX + 8];
	int len;

	len = snprintf(line, sizeof(line), "[%c] %s\n", level_tag(level), text);
	if (len > 0)
		write_all(STDERR_FILENO, line, (size_t)len < sizeof(line) ?
		    (size_t)len : sizeof(line) - 1);
}

/* The configuration or the start-up failed: everything kept goes out. */
void
log_dump_buffer(void)
{
	size_t i;

	for (i = 0; i < nbuffer; i++)
		stderr_line(buffer[i].level, buffer[i].text);
	free_buffer();
}

static int
open_output(void)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC;

	if (config.output == NULL)
		return 0;
	flags |= config.overwrite ? O_TRUNC : O_APPEND;
	log_fd = open(config.output, flags, 0640);
	if (log_fd < 0) {
		log_msg(LOG_ERR, "Cannot open log file: %s", config.output);
		return -1;
	}
	return 0;
}

/*
 * Open the sinks (closing those of an earlier configuration) and replay
 * what was kept. On failure nothing is replayed: at start the caller
 * dumps the buffer to stderr and exits.
 */
int
log_open(const struct log_config *cfg)
{
	size_t i;

	log_close();
	free(ident_copy);
	free(output_copy);
	/* our own copies: the configuration they came from may be freed */
	ident_copy = xstrdup(cfg->ident != NULL ? cfg->ident : "stunnel");
	output_copy = cfg->output != NULL ? xstrdup(cfg->output) : NULL;
	config = *cfg;
	config.ident = ident_copy;
	config.output = output_copy;
	current_level = cfg->level;
	if (open_output() < 0)
		return -1;
	if (config.use_syslog)
		openlog(config.ident, LOG_CONS | LOG_NDELAY, config.facility);
	mode = MODE_DAEMON;
	for (i = 0; i < nbuffer; i++)
		emit(buffer[i].when, buffer[i].level, buffer[i].id,
		    buffer[i].text);
	free_buffer();
	return 0;
}

/* SIGUSR1: the file may have been rotated away */
int
log_reopen(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	return open_output();
}

void
log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	if (config.use_syslog)
		closelog();
	config.use_syslog = 0;
}

/*
 * The environment failed: say so and end with status 1, running nothing
 * more (no exit handlers: they may need the memory that ran out). The
 * lines kept before the configuration was accepted, and this one, go to
 * stderr without allocating: keeping a line may be what failed.
 */
void
fatal(const char *fmt, ...)
{
	static int dying;
	char text[LOG_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sanitize(text);
	if (dying++ == 0 && mode == MODE_DAEMON) {
		log_msg(LOG_ERR, "%s", text);
	} else {
		if (dying == 1)
			log_dump_buffer();
		stderr_line(LOG_ERR, text);
	}
	_exit(1);
}

/* Our own bug: say where, keep a core, never try to carry on. */
void
panic_at(const char *file, int line, const char *fmt, ...)
{
	char text[LOG_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (mode == MODE_DAEMON)
		config.level = LOG_DEBUG;
	current_level = LOG_DEBUG;
	log_msg(LOG_CRIT, "INTERNAL ERROR: %s at %s, line %d", text, file,
	    line);
	if (mode == MODE_BUFFER)
		log_dump_buffer();
	abort();
}
