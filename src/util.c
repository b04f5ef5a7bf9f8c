/*
 * util.c: small helpers with one job each.
 *
 * Owns allocation that ends the process through fatal() (logged, status
 * 1, no core: running out of memory is the environment's failure, not
 * ours) rather than return NULL, string trimming, hex decoding, keyword
 * tables, string lists and the monotonic clock. Must never log otherwise
 * nor know about the configuration.
 */
#include "common.h"
#include "util.h"
#include "log.h"

#include <signal.h>
#include <time.h>

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatal("Out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("Out of memory");
	return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		fatal("Out of memory");
	p = realloc(ptr, n * size != 0 ? n * size : 1);
	if (p == NULL)
		fatal("Out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		fatal("Out of memory");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	    c == '\f' || c == '\v';
}

/* Cut leading and trailing white space in place; returns the new start. */
char *
str_trim(char *s)
{
	size_t len;

	while (is_blank((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_blank((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* does S start with PREFIX: exactly, or whatever the case */
int
str_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* "SIGTERM": the form stunnel logs signals in */
const char *
str_signal(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode hexadecimal digits, allowing ':' between bytes as in
 * "0A:1B:2C". Returns 0 and the length, or -1 on a bad digit, an odd
 * number of digits or more than max bytes.
 */
int
str_hex_decode(const char *s, unsigned char *out, size_t max, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	while (*s != '\0') {
		if (*s == ':') {
			s++;
			continue;
		}
		hi = hex_digit((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hex_digit((unsigned char)s[1]);
		if (lo < 0 || n >= max)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	*len = n;
	return 0;
}

/*
 * LEN bytes as upper-case hexadecimal into OUT (SIZE bytes, terminated):
 * as many whole bytes as fit.
 */
void
str_hex_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (size == 0)
		return;
	for (i = 0; i < len && 2 * i + 2 < size; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * i] = '\0';
}

/* Case-insensitive lookup in a keyword table; 0 if found, -1 if not. */
int
word_lookup(const struct word *w, const char *name, int *value)
{
	for (; w->name != NULL; w++) {
		if (strcasecmp(w->name, name) == 0) {
			*value = w->value;
			return 0;
		}
	}
	return -1;
}

const char *
word_name(const struct word *w, int value)
{
	for (; w->name != NULL; w++)
		if (w->value == value)
			return w->name;
	return "?";
}

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t i;

	dst->v = NULL;
	dst->n = 0;
	for (i = 0; i < src->n; i++)
		strlist_add(dst, src->v[i]);
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* milliseconds on the monotonic clock: for deadlines, never for dates */
long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
