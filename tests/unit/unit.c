/*
 * unit.c: helpers shared by the Check unit tests (see unit.h).
 *
 * Owns the temporary directory of one test program and everything put in
 * it, the throwaway certificate (made with the OpenSSL API, so no openssl
 * binary is needed) and the capture of the logger's kept lines through a
 * temporary redirection of descriptor 2. Must never leave a file behind:
 * the directory goes when the process that created it exits (Check's
 * forked children inherit the exit handler but do not run it).
 */
#include "unit.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char		*tmp_dir;
static pid_t		 tmp_owner;
static char		*cert_path;
static char		*last_path;
static enum load_failure last_why;

static void die(const char *, ...) PRINTF_LIKE(1, 2) NORETURN;

/* a helper cannot go on: say why and end this (child) process */
static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "unit: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(99);
}

char *
unit_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static int
remove_entry(const char *path, const struct stat *st UNUSED, int type UNUSED,
    struct FTW *ftw UNUSED)
{
	if (remove(path) < 0)
		fprintf(stderr, "unit: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
cleanup(void)
{
	if (tmp_dir != NULL && getpid() == tmp_owner)
		nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp_dir);
	free(cert_path);
	free(last_path);
	tmp_dir = cert_path = last_path = NULL;
}

const char *
unit_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl;

	if (tmp_dir != NULL)
		return tmp_dir;
	tmpl = unit_fmt("%s/stunnel-unit.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp %s: %s", tmpl, strerror(errno));
	/* conffile.c reports files by their realpath() */
	tmp_dir = realpath(tmpl, NULL);
	if (tmp_dir == NULL)
		die("realpath %s: %s", tmpl, strerror(errno));
	free(tmpl);
	tmp_owner = getpid();
	atexit(cleanup);
	return tmp_dir;
}

static void
write_all(int fd, const char *path, const char *text, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write %s: %s", path, strerror(errno));
		text += n;
		len -= (size_t)n;
	}
}

char *
unit_write(const char *name, const char *text)
{
	char *path;
	int fd;

	if (name != NULL) {
		path = unit_fmt("%s/%s", unit_dir(), name);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		path = unit_fmt("%s/XXXXXX.conf", unit_dir());
		fd = mkstemps(path, 5);
	}
	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	write_all(fd, path, text, strlen(text));
	if (close(fd) < 0)
		die("close %s: %s", path, strerror(errno));
	return path;
}

char *
unit_mkdir(const char *name)
{
	char *path = unit_fmt("%s/%s", unit_dir(), name);

	if (mkdir(path, 0700) < 0)
		die("mkdir %s: %s", path, strerror(errno));
	return path;
}

/* TEXT with every WHAT replaced by WITH; the caller frees it */
static char *
replace(const char *text, const char *what, const char *with)
{
	size_t wlen = strlen(what), n = 0;
	const char *p;
	char *out, *o;

	for (p = strstr(text, what); p != NULL; p = strstr(p + wlen, what))
		n++;
	out = xmalloc(strlen(text) + n * strlen(with) + 1);
	for (o = out; (p = strstr(text, what)) != NULL; text = p + wlen) {
		memcpy(o, text, (size_t)(p - text));
		o += p - text;
		memcpy(o, with, strlen(with));
		o += strlen(with);
	}
	strcpy(o, text);
	return out;
}

static char *
substitute(const char *text)
{
	char *a, *b;

	a = strstr(text, "@CERT@") != NULL ?
	    replace(text, "@CERT@", unit_cert()) : xstrdup(text);
	if (strstr(a, "@TMP@") == NULL)
		return a;
	b = replace(a, "@TMP@", unit_dir());
	free(a);
	return b;
}

char *
unit_log_capture(void)
{
	char *path = unit_fmt("%s/log.XXXXXX", unit_dir());
	int fd = mkstemp(path), saved;
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		die("mkstemp %s: %s", path, strerror(errno));
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (saved < 0 || dup2(fd, STDERR_FILENO) < 0)
		die("redirecting stderr: %s", strerror(errno));
	log_dump_buffer();
	if (dup2(saved, STDERR_FILENO) < 0)
		die("restoring stderr: %s", strerror(errno));
	close(saved);
	if (fstat(fd, &st) < 0)
		die("fstat %s: %s", path, strerror(errno));
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = pread(fd, text + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read %s: %s", path, strerror(errno));
		got += (size_t)n;
	}
	text[got] = '\0';
	close(fd);
	unlink(path);
	free(path);
	return text;
}

void
unit_log_discard(void)
{
	free(unit_log_capture());
}

char *
unit_load(const char *conf_text, struct global **out)
{
	char *text = substitute(conf_text);
	struct global *g;

	unit_log_discard();
	free(last_path);
	last_path = unit_write(NULL, text);
	free(text);
	g = conffile_load(last_path, NULL, &last_why);
	unlink(last_path);
	if (out != NULL)
		*out = g;
	else
		options_free(g);
	return unit_log_capture();
}

const char *
unit_path(void)
{
	return last_path != NULL ? last_path : "(no file loaded)";
}

enum load_failure
unit_why(void)
{
	return last_why;
}

char *
unit_log_errors(const char *log)
{
	size_t len = strlen(log), n = 0;
	const char *line, *nl;
	char *out = xmalloc(len + 1);

	for (line = log; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		if (strncmp(line, "[!] ", 4) == 0 ||
		    strncmp(line, "[*] ", 4) == 0) {
			memcpy(out + n, line, (size_t)(nl - line));
			n += (size_t)(nl - line);
		}
	}
	out[n] = '\0';
	return out;
}

int
unit_log_has(const char *log, const char *want)
{
	size_t wlen = strlen(want);
	const char *line, *nl;

	for (line = log; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if ((size_t)(nl - line) == wlen &&
		    strncmp(line, want, wlen) == 0)
			return 1;
		if (*nl == '\0')
			break;
	}
	return 0;
}

static void
make_cert(const char *path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	if (key == NULL || x == NULL)
		die("cannot create a key and a certificate");
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 2L * 24 * 3600) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
	    !X509_sign(x, key, EVP_sha256()))
		die("cannot sign the test certificate");
	f = fopen(path, "w");
	if (f == NULL)
		die("fopen %s: %s", path, strerror(errno));
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_X509(f, x) || fclose(f) != 0)
		die("cannot write %s", path);
	X509_free(x);
	EVP_PKEY_free(key);
}

const char *
unit_cert(void)
{
	if (cert_path == NULL) {
		cert_path = unit_fmt("%s/cert.pem", unit_dir());
		make_cert(cert_path);
	}
	return cert_path;
}

int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
