/*
 * conffile.c: the configuration file reader.
 *
 * Owns the grammar of stunnel.conf: lines, comments, the UTF-8 byte
 * order mark, CR/LF endings, [sections], "name = value" and include
 * directories, and the "FILE:LINE: "line": reason" form of every error.
 * Each option is handed to options.c; each finished section to
 * validate.c. Stops at the first error, as stunnel does; check mode
 * reads on to report every wrong line. Must never keep state between two
 * loads: a reload reads into fresh structures.
 */
#include "common.h"
#include "conffile.h"
#include "checkmode.h"
#include "log.h"
#include "validate.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_LEN	16384

/* a directory whose files are being read, and the one that included it */
struct include_dir {
	const char		*path;	/* as realpath() has it */
	const struct include_dir *up;
};

struct reader {
	struct global	*g;
	struct service	*cur;		/* section being read, or g->defaults */
	struct service	**tail;		/* where the next section goes */
	int		 depth;		/* include nesting */
	const struct include_dir *reading;	/* innermost include */
	int		 errors;	/* check mode: wrong lines so far */
	int		 stopped;	/* a part failed its checks */
};

static int read_stream(struct reader *, FILE *, const char *);

static void
line_error(const char *file, int line, const char *raw, const char *why)
{
	log_msg(LOG_ERR, "%s:%d: \"%s\": %s", file, line, raw, why);
}

/*
 * The section being read is complete: check it before going on. After a
 * wrong line (check mode) parts are no longer checked as a whole: their
 * errors could follow from that line.
 */
static int
end_section(struct reader *r)
{
	int rc;

	if (r->errors > 0)
		return 0;
	if (r->cur == r->g->defaults)
		rc = validate_global(r->g);
	else
		rc = validate_service(r->g, r->cur);
	r->stopped = rc < 0;
	return rc;
}

/* a start stops at a wrong line; check mode goes on to the next one */
static int
line_failed(struct reader *r)
{
	if (!check_active() || r->stopped)
		return -1;
	r->errors++;
	return 0;
}

/* stunnel accepts these; say so where it is likely a mistake */
static void
warn_odd_name(const struct reader *r, const char *file, int line,
    const char *name)
{
	const struct service *s;

	if (*name == '\0')
		log_msg(LOG_WARNING, "%s:%d: Empty service name", file, line);
	for (s = r->g->services; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0) {
			log_msg(LOG_WARNING, "%s:%d: Service [%s] already "
			    "defined at %s:%d", file, line, name, s->file,
			    s->line);
			break;
		}
	}
}

static int
start_section(struct reader *r, const char *file, int line, const char *name)
{
	struct service *svc;

	if (end_section(r) < 0)
		return -1;
	warn_odd_name(r, file, line, name);
	svc = service_new(r->g->defaults);
	svc->name = xstrdup(name);
	svc->file = xstrdup(file);
	svc->line = line;
	*r->tail = svc;
	r->tail = &svc->next;
	r->cur = svc;
	log_msg(LOG_INFO, "Initializing service [%s]", name);
	return 0;
}

/*
 * DIR is already being read: including it again could only end at the
 * nesting limit, after reading its files a number of times that grows
 * exponentially with the files that include it (stunnel 5.75 recurses
 * until its stack overflows)
 */
static int
include_loop(const struct reader *r, const char *dir)
{
	const struct include_dir *d;

	for (d = r->reading; d != NULL; d = d->up) {
		if (strcmp(d->path, dir) == 0) {
			log_msg(LOG_INFO, "Include loop: %s is already being "
			    "read", dir);
			return 1;
		}
	}
	return 0;
}

/* include = DIR: every regular file of DIR, in name order */
static int
include_dir(struct reader *r, const char *dir)
{
	struct include_dir here = { NULL, r->reading };
	struct dirent **names;
	struct stat st;
	char *path, *real;
	FILE *f;
	int i, n, rc = 0;

	real = realpath(dir, NULL);
	if (real != NULL && include_loop(r, real)) {
		free(real);
		return -1;
	}
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		log_errno("scandir");
		free(real);
		return -1;
	}
	here.path = real != NULL ? real : dir;
	r->reading = &here;
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]->d_name);
		if (rc == 0 && (stat(path, &st) < 0 || !S_ISREG(st.st_mode)))
			log_msg(LOG_DEBUG, "\"%s\" is not a file", path);
		else if (rc == 0) {
			f = fopen(path, "r");
			if (f == NULL) {
				log_errno("%s", path);
				rc = -2;
			} else {
				log_msg(LOG_NOTICE,
				    "Reading configuration from file %s", path);
				r->depth++;
				rc = read_stream(r, f, path) < 0 ? -2 : 0;
				r->depth--;
				fclose(f);
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	r->reading = here.up;
	free(real);
	return rc;
}

static int
option_line(struct reader *r, const char *file, int line, const char *raw,
    char *text)
{
	char *eq = strchr(text, '='), *name, *value;
	const char *why = NULL;
	int rc;

	if (eq == NULL) {
		line_error(file, line, raw, "No '=' found");
		return -1;
	}
	*eq = '\0';
	name = str_trim(text);
	value = str_trim(eq + 1);
	if (strstr(value, " #") != NULL || strstr(value, " ;") != NULL ||
	    strstr(value, "\t#") != NULL || strstr(value, "\t;") != NULL)
		log_msg(LOG_WARNING, "%s:%d: Comments are not allowed after a "
		    "value: \"%s\" is all part of the value", file, line,
		    value);
	switch (options_set(r->g, r->cur, name, value, &why)) {
	case OPT_OK:
		check_option_line(r->cur, name, value, file, line);
		return 0;
	case OPT_INCLUDE:
		if (r->depth > 8) {
			line_error(file, line, raw, "Failed to include directory");
			return -1;
		}
		rc = include_dir(r, value);
		if (rc == 0)
			return 0;
		line_error(file, line, raw, rc == -1 ?
		    "Failed to include directory" : "Failed to include a file");
		return -1;
	case OPT_UNKNOWN:
	case OPT_BAD:
		break;
	}
	line_error(file, line, raw, why);
	return -1;
}

/* "[name]": the name is everything between the brackets, blanks kept */
static int
section_line(struct reader *r, const char *file, int line, char *text)
{
	text[strlen(text) - 1] = '\0';
	return start_section(r, file, line, text + 1);
}

/* BUF is the line as read; its first SKIP bytes are a byte order mark */
static int
read_line(struct reader *r, const char *file, int line, char *buf,
    size_t skip)
{
	char *raw, *text;
	size_t len;
	int rc;

	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	raw = xstrdup(buf);
	text = str_trim(buf + skip);
	len = strlen(text);
	if (len == 0 || text[0] == ';' || text[0] == '#') {
		free(raw);
		return 0;
	}
	if (text[0] == '[' && text[len - 1] == ']') {
		free(raw);
		return section_line(r, file, line, text);
	}
	rc = option_line(r, file, line, raw, text);
	free(raw);
	return rc < 0 ? line_failed(r) : 0;
}

static int
read_stream(struct reader *r, FILE *f, const char *name)
{
	static const char bom[] = "\xef\xbb\xbf";
	char *buf = xmalloc(LINE_MAX_LEN);
	size_t skip;
	int line = 0, rc = 0;

	while (rc == 0 && fgets(buf, LINE_MAX_LEN, f) != NULL) {
		skip = 0;
		if (++line == 1) {
			if (strncmp(buf, bom, 3) == 0) {
				log_msg(LOG_NOTICE,
				    "UTF-8 byte order mark detected");
				skip = 3;
			} else {
				log_msg(LOG_NOTICE,
				    "UTF-8 byte order mark not detected");
			}
		}
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			log_msg(LOG_ERR, "%s:%d: Line too long", name, line);
			r->stopped = 1;
			rc = -1;
			break;
		}
		rc = read_line(r, name, line, buf, skip);
	}
	free(buf);
	return rc;
}

/*
 * Open PATH, or descriptor FD when PATH is NULL. On failure *why says
 * what the caller still has to print.
 */
static FILE *
open_config(const char *path, const char *fd, char **name,
    enum load_failure *why)
{
	unsigned long n;
	char *real;
	FILE *f;

	if (path == NULL) {
		*name = xstrdup(fd);
		log_msg(LOG_NOTICE, "Reading configuration from descriptor %s",
		    fd);
		if (options_parse_uint(fd, 0, INT_MAX, &n) < 0) {
			log_msg(LOG_ERR, "Invalid file descriptor number");
			*why = LOAD_USAGE;
			return NULL;
		}
		f = fdopen(dup((int)n), "r");
	} else {
		real = realpath(path, NULL);
		if (real == NULL) {
			log_msg(LOG_ERR, "Invalid configuration file name "
			    "\"%s\"", path);
			log_errno("realpath");
			*why = LOAD_BAD_NAME;
			return NULL;
		}
		*name = real;
		log_msg(LOG_NOTICE, "Reading configuration from file %s", real);
		f = fopen(real, "r");
	}
	if (f == NULL) {
		log_msg(LOG_ERR, "Cannot open configuration file");
		*why = LOAD_USAGE;
	}
	return f;
}

/*
 * Read a whole configuration from PATH, or from descriptor FD (its text
 * as given on the command line) when PATH is NULL. Returns the loaded
 * configuration, or NULL after logging why, with *why saying what the
 * caller still has to print.
 */
struct global *
conffile_load(const char *path, const char *fd, enum load_failure *why)
{
	struct reader r;
	char *name = NULL;
	FILE *f;
	int rc;

	*why = LOAD_FAILED;
	log_msg(LOG_INFO, "Initializing inetd mode configuration");
	f = open_config(path, fd, &name, why);
	if (f == NULL) {
		free(name);
		return NULL;
	}
	memset(&r, 0, sizeof(r));
	r.g = options_new();
	r.cur = r.g->defaults;
	r.tail = &r.g->services;
	rc = read_stream(&r, f, name);
	fclose(f);
	free(name);
	if (rc == 0)
		rc = end_section(&r);
	if (rc == 0 && r.errors == 0 && r.g->services == NULL) {
		r.g->inetd = 1;
		rc = validate_inetd(r.g);
	}
	if (rc < 0 || r.errors > 0) {
		options_free(r.g);
		return NULL;
	}
	return r.g;
}
