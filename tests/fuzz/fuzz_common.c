/*
 * fuzz_common.c: the scratch directory, quiet log and network stand-ins
 * that every fuzz target shares (see fuzz_common.h).
 *
 * The targets are linked with --wrap=getaddrinfo,connect,bind,poll, so
 * the calls the daemon's own objects make come here first:
 * - getaddrinfo(): numeric hosts only ("localhost" is 127.0.0.1), so that
 *   no input ever sends a DNS query;
 * - connect(): never reaches anything: an armed call gets a socketpair
 *   (dup'ed over the caller's socket, its flags kept) whose other end
 *   has sent the armed bytes; any other call fails with ECONNREFUSED;
 * - bind(): always refused (nothing fuzzed may listen);
 * - poll(): the 200 ms wait with which the STARTTLS server family asks
 *   "does the client speak first?" can be answered "no" at once.
 * The certificates are a fixed test CA (EC P-256, valid until 2126),
 * a server certificate for localhost signed by it, its key, an empty
 * CRL: generated once with openssl(1), never used outside these tests.
 */
#include "common.h"
#include "conffile.h"
#include "log.h"
#include "fuzz_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char pem_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjDCCATGgAwIBAgIUfoYkWK3vCN2jzdSeXyDqQZtKHGwwCgYIKoZIzj0EAwIw\n"
    "EjEQMA4GA1UEAwwHZnV6eiBDQTAgFw0yNjEyMDcxMjA0NDBaGA8yMTI2MTExMzEy\n"
    "MDQ0MFowEjEQMA4GA1UEAwwHZnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
    "A0IABC8Xt3o2IKJJiqqTpGM00CQYXWe+32Fm5gw/oPF5NE9YYahChBp25ufDdNGy\n"
    "Q7RGF10i3QuNH8J03iootkP4qkijYzBhMB0GA1UdDgQWBBRwUc0X1PttovmjhHf0\n"
    "O/2Pwk/0zjAfBgNVHSMEGDAWgBRwUc0X1PttovmjhHf0O/2Pwk/0zjAPBgNVHRMB\n"
    "Af8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNJADBGAiEAzApq\n"
    "sqvp8Cw70G/7G///0FwEd91Sg6C+aA1j7lS761ECIQC4fo7WzuybZo1yoO7i00Qm\n"
    "+TIAKHxsjOuJhh44EIQ37Q==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char pem_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBwTCCAWigAwIBAgIBAjAKBggqhkjOPQQDAjASMRAwDgYDVQQDDAdmdXp6IENB\n"
    "MCAXDTI2MTIwNzEyMDQ0MFoYDzIxMjYxMTEzMTIwNDQwWjAUMRIwEAYDVQQDDAls\n"
    "b2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASdRcgNmeSSlxycgAo+\n"
    "fTpW36/aqFDhyxWtXuEuz4ccOBPP3PIIJII772PqvsJV1XsUcJGEAAD/pflw9hbK\n"
    "zXPSo4GqMIGnMDsGA1UdEQQ0MDKCCWxvY2FsaG9zdIINKi5leGFtcGxlLm9yZ4cE\n"
    "fwAAAYEQZnV6ekBleGFtcGxlLm9yZzAJBgNVHRMEAjAAMB0GA1UdJQQWMBQGCCsG\n"
    "AQUFBwMBBggrBgEFBQcDAjAdBgNVHQ4EFgQU1wft77y896bx+fiZlHKHvmidU4cw\n"
    "HwYDVR0jBBgwFoAUcFHNF9T7baL5o4R39Dv9j8JP9M4wCgYIKoZIzj0EAwIDRwAw\n"
    "RAIgOx8lA8mJyXKZc5uITTXBIWNr65Cdgylvfxc6OWtfzIUCIBFjzzqn+hUcC+D3\n"
    "x2+EI886YkOtAofgUIGENjnXh5YM\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char pem_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv2kvntueHZisA6X4\n"
    "BW1kKu6TnKGTg1fLXazJMRf5bf+hRANCAASdRcgNmeSSlxycgAo+fTpW36/aqFDh\n"
    "yxWtXuEuz4ccOBPP3PIIJII772PqvsJV1XsUcJGEAAD/pflw9hbKzXPS\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char pem_crl[] =
    "-----BEGIN X509 CRL-----\n"
    "MIGsMFMCAQEwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHZnV6eiBDQRcNMjYxMjA3\n"
    "MTIwNDQwWhgPMjEyNjExMTMxMjA0NDBaoA4wDDAKBgNVHRQEAwIBATAKBggqhkjO\n"
    "PQQDAgNJADBGAiEA4xjOjcVu2GnM/rpUVeCNxBaxm6rLtTCf7YZttFbjh3QCIQC2\n"
    "Wwi8WUhSMDqgUBgsmTCwHwduYS0D5ZwA8fBbXwsrtw==\n"
    "-----END X509 CRL-----\n"
    ;

static const char psk_text[] =
    "test:0123456789abcdef0123456789abcdef\n"
    "other.identity:this-is-a-long-ascii-secret\n";

static char *dir;

int fuzz_client_waits;

static const void *peer_data;
static size_t peer_len;
static int peer_armed;
static int peer_fds[16];
static size_t npeer_fds;

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_dir(void)
{
	if (dir != NULL && getenv("FUZZ_KEEP_TMP") == NULL)
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_dir(void)
{
	return dir;
}

/* NAME inside the scratch directory (to be freed) */
char *
fuzz_path(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

void
fuzz_write(const char *name, const void *data, size_t len)
{
	char *path = fuzz_path(name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "fuzz: cannot write %s\n", path);
		abort();
	}
	free(path);
}

static void
write_text(const char *name, const char *a, const char *b)
{
	char *text = xasprintf("%s%s", a, b);

	fuzz_write(name, text, strlen(text));
	free(text);
}

/*
 * Once per process: the scratch directory (under FUZZ_TMPDIR, else
 * TMPDIR, else /tmp; removed at exit unless FUZZ_KEEP_TMP is set), its
 * files, and the log in daemon mode writing nowhere (every line still
 * formatted and sanitized), or to stderr when FUZZ_LOG is set.
 */
static void
log_to(const char *output)
{
	struct log_config lc = { .level = LOG_DEBUG, .facility = LOG_DAEMON };

	lc.use_stderr = getenv("FUZZ_LOG") != NULL;
	lc.output = output;
	lc.overwrite = 1;
	if (log_open(&lc) < 0)
		abort();
}

void
fuzz_init(void)
{
	const char *base = getenv("FUZZ_TMPDIR");

	if (dir != NULL)
		return;
	if (base == NULL)
		base = getenv("TMPDIR");
	dir = xasprintf("%s/stunnel-fuzz.XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", dir, strerror(errno));
		abort();
	}
	atexit(remove_dir);
	write_text("ca.pem", pem_ca, "");
	write_text("cert.pem", pem_cert, "");
	write_text("key.pem", pem_key, "");
	write_text("server.pem", pem_cert, pem_key);
	write_text("crl.pem", pem_crl, "");
	write_text("psk.txt", psk_text, "");
	signal(SIGPIPE, SIG_IGN);
	log_to(NULL);
}

void
fuzz_log_begin(void)
{
	char *path = fuzz_path("self-test.log");

	log_to(path);
	free(path);
}

char *
fuzz_log_end(void)
{
	char *path = fuzz_path("self-test.log"), *text;
	FILE *f = fopen(path, "r");
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		abort();
	text = xmalloc((size_t)len + 1);
	text[fread(text, 1, (size_t)len, f)] = '\0';
	fclose(f);
	free(path);
	log_to(NULL);
	return text;
}

/*
 * Up to MAX parts of DATA separated by MARK; the last part keeps any
 * further markers. The number of parts (at least 1).
 */
size_t
fuzz_split(const uint8_t *data, size_t size, const char *mark,
    struct fuzz_part *parts, size_t max)
{
	size_t mlen = strlen(mark), n = 0;
	const uint8_t *p = data, *end = data + size, *m;

	while (n + 1 < max && (m = memmem(p, (size_t)(end - p), mark,
	    mlen)) != NULL) {
		parts[n].p = p;
		parts[n++].len = (size_t)(m - p);
		p = m + mlen;
	}
	parts[n].p = p;
	parts[n++].len = (size_t)(end - p);
	return n;
}

/*
 * The fixed configuration the target serves from, FORMAT with the
 * scratch directory for its "%1$s"; it must load.
 */
struct global *
fuzz_load_config(const char *format)
{
	enum load_failure why;
	struct global *g;
	char *text = xasprintf(format, fuzz_dir()), *path;

	fuzz_write("fixed.conf", text, strlen(text));
	free(text);
	path = fuzz_path("fixed.conf");
	g = conffile_load(path, NULL, &why);
	free(path);
	if (g == NULL) {
		fprintf(stderr, "fuzz: the target's own configuration does not "
		    "load (FUZZ_LOG=1 shows why)\n");
		abort();
	}
	return g;
}

/* the section NAME of G; it must be there */
struct service *
fuzz_section(const struct global *g, const char *name)
{
	struct service *s;

	for (s = g->services; s != NULL; s = s->next)
		if (s->name != NULL && strcmp(s->name, name) == 0)
			return s;
	fprintf(stderr, "fuzz: no section [%s]\n", name);
	abort();
}

void
fuzz_peer_arm(const void *data, size_t len)
{
	peer_data = data;
	peer_len = len;
	peer_armed = 1;
}

/* end of an input: forget the armed bytes, close the peers' ends */
void
fuzz_peer_reset(void)
{
	size_t i;

	for (i = 0; i < npeer_fds; i++)
		close(peer_fds[i]);
	npeer_fds = 0;
	peer_armed = 0;
}

int	__real_getaddrinfo(const char *, const char *, const struct addrinfo *,
	    struct addrinfo **);
int	__wrap_getaddrinfo(const char *, const char *, const struct addrinfo *,
	    struct addrinfo **);
int	__real_poll(struct pollfd *, nfds_t, int);
int	__wrap_poll(struct pollfd *, nfds_t, int);
int	__wrap_connect(int, const struct sockaddr *, socklen_t);
int	__wrap_bind(int, const struct sockaddr *, socklen_t);

int
__wrap_getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h;

	if (hints != NULL)
		h = *hints;
	else {
		memset(&h, 0, sizeof(h));
		h.ai_family = AF_UNSPEC;
	}
	if (node != NULL && strcasecmp(node, "localhost") == 0)
		node = "127.0.0.1";
	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(node, service, &h, res);
}

int
__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	socklen_t tlen = sizeof(int);
	int type, flags, sp[2];

	(void)sa;
	(void)len;
	if (!peer_armed || npeer_fds == ARRAY_SIZE(peer_fds) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sp) < 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	peer_armed = 0;
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	if (type == SOCK_DGRAM) {
		/* the datagram is the whole input: one too big is not sent */
		(void)send(sp[1], peer_data, peer_len, 0);
	} else {
		/* what fits in the socket buffer, then EOF */
		if (peer_len > 0)
			(void)write(sp[1], peer_data, peer_len);
		shutdown(sp[1], SHUT_WR);
	}
	flags = fcntl(fd, F_GETFL);
	if (dup3(sp[0], fd, O_CLOEXEC) < 0)
		abort();
	close(sp[0]);
	fcntl(fd, F_SETFL, flags);
	peer_fds[npeer_fds++] = sp[1];
	return 0;
}

int
__wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	errno = EADDRNOTAVAIL;
	return -1;
}

int
__wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (fuzz_client_waits && n == 1 && timeout == 200)
		return 0;
	return __real_poll(fds, n, timeout);
}
