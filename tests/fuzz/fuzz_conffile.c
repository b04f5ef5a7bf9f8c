/*
 * fuzz_conffile.c: the configuration loader on a whole file, as
 * "stunnel -check FILE" loads it: conffile.c, options.c, validate.c
 * (with ctx.c, keys.c, psk.c...), then checkmode.c's checks.
 *
 * The input is a main file, optionally followed by "\n##fuzz-include##\n"
 * and the text of include.d/10-a.conf, then the same marker and
 * include.d/20-b.conf ("include = @T@/include.d" reads them). "@T@"
 * names the scratch directory, which holds ca.pem, cert.pem, key.pem,
 * server.pem (certificate and key), crl.pem and psk.txt.
 *
 * Nothing outside the scratch directory is named: before writing,
 * every ".." becomes "._" and a '/' that starts a path (not after a
 * letter, digit, '.', '_' or '-') becomes "./", and the load runs with
 * the scratch directory as its working directory. Lines naming an
 * engine or a provider (code loaded into the process) or setting the
 * environment ("setEnv") are commented out. Names resolve numerically
 * only and nothing binds (fuzz_common.c).
 */
#include "common.h"
#include "checkmode.h"
#include "conffile.h"
#include "options.h"
#include "fuzz_common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define INCLUDE_MARK	"\n##fuzz-include##\n"

static int home = -1;

static int
path_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* does the line set an option the fuzzer must not use? */
static int
denied(const uint8_t *p, const uint8_t *end)
{
	static const char *const names[] = { "engine", "provider", "setenv" };
	size_t i, len;

	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\v' || *p == '\f'))
		p++;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		len = strlen(names[i]);
		if ((size_t)(end - p) >= len &&
		    strncasecmp((const char *)p, names[i], len) == 0)
			return 1;
	}
	return 0;
}

/* PART rewritten as described above, NUL-terminated (to be freed) */
static char *
confine(const struct fuzz_part *part, size_t *out_len)
{
	const char *d = fuzz_dir();
	size_t dlen = strlen(d), cap = part->len * 2 + 16, n = 0, i;
	const uint8_t *p = part->p, *end = p + part->len, *eol;
	char *out = xmalloc(cap);
	int prev = 0;

	for (; p < end; p = eol) {
		eol = memchr(p, '\n', (size_t)(end - p));
		eol = eol != NULL ? eol + 1 : end;
		if (denied(p, eol))
			out[n++] = '#';
		prev = 0;
		for (i = 0; p + i < eol; i++) {
			if (n + dlen + 4 > cap)
				out = xreallocarray(out, cap *= 2, 1);
			if (eol - (p + i) >= 3 && memcmp(p + i, "@T@", 3) == 0) {
				memcpy(out + n, d, dlen);
				n += dlen;
				out[n++] = '/';
				prev = 'x';
				i += 2;
				continue;
			}
			if (p[i] == '.' && p + i + 1 < eol && p[i + 1] == '.') {
				out[n++] = '.';
				out[n++] = '_';
				prev = '_';
				i++;
				continue;
			}
			if (p[i] == '/' && !path_char(prev))
				out[n++] = '.';
			out[n++] = (char)p[i];
			prev = p[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

static void
write_part(const char *name, const struct fuzz_part *part)
{
	size_t len;
	char *text = confine(part, &len);

	fuzz_write(name, text, len);
	free(text);
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *inc;

	(void)argc;
	(void)argv;
	fuzz_init();
	inc = fuzz_path("include.d");
	if (mkdir(inc, 0700) < 0)
		abort();
	free(inc);
	home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (home < 0)
		abort();
	check_begin();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	static const struct fuzz_part none = { empty, 0 };
	struct fuzz_part parts[3];
	enum load_failure why;
	struct global *g;
	size_t n;
	char *path;

	n = fuzz_split(data, size, INCLUDE_MARK, parts, 3);
	write_part("main.conf", &parts[0]);
	write_part("include.d/10-a.conf", n > 1 ? &parts[1] : &none);
	write_part("include.d/20-b.conf", n > 2 ? &parts[2] : &none);
	path = fuzz_path("main.conf");
	if (chdir(fuzz_dir()) < 0)
		abort();
	g = conffile_load(path, NULL, &why);
	if (g != NULL)
		check_config(g, path, NULL);
	check_end();
	options_free(g);
	if (fchdir(home) < 0)
		abort();
	free(path);
	return 0;
}
