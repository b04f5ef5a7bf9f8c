/*
 * libstunnel.c: libstunnel.so, preloaded into a program that "exec ="
 * starts in a section with transparent source.
 *
 * The program talks to the daemon over a Unix socket pair on its
 * standard input and output, so getpeername() there would name no one.
 * This library replaces getpeername() for that socket (the Unix socket
 * standard input was when the program started, wherever it is
 * duplicated later) with the client's address, which the daemon exports as REMOTE_HOST
 * and REMOTE_PORT: the program believes the client connected to it
 * directly. Every other descriptor gets the real answer. Must never
 * depend on more than the C library, and never change errno on the
 * paths it does not take.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*getpeername_fn)(int, struct sockaddr *, socklen_t *);

static getpeername_fn real_getpeername;
static dev_t channel_dev;
static ino_t channel_ino;
static int channel_known;

/* remember which socket is the daemon's channel, before anything moves */
__attribute__((constructor)) static void
libstunnel_init(void)
{
	struct stat st;

	real_getpeername = (getpeername_fn)dlsym(RTLD_NEXT, "getpeername");
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISSOCK(st.st_mode)) {
		channel_dev = st.st_dev;
		channel_ino = st.st_ino;
		channel_known = 1;
	}
}

static int
is_channel(int fd)
{
	struct stat st;
	int err = errno, rc;

	rc = channel_known && fstat(fd, &st) == 0 &&
	    st.st_dev == channel_dev && st.st_ino == channel_ino;
	errno = err;
	return rc;
}

/* the client's address as the daemon exported it; 0 on success */
static int
client_address(struct sockaddr_storage *ss, socklen_t *len)
{
	const char *host = getenv("REMOTE_HOST"), *port = getenv("REMOTE_PORT");
	struct addrinfo hints, *res;

	if (host == NULL || port == NULL)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct sockaddr_storage real, ss;
	socklen_t real_len = sizeof(real), len;
	int err = errno;

	if (real_getpeername == NULL) {
		errno = ENOSYS;
		return -1;
	}
	/* the daemon's end of the pair: a Unix socket without a name */
	if (addr == NULL || addrlen == NULL || !is_channel(fd) ||
	    real_getpeername(fd, (struct sockaddr *)&real, &real_len) < 0 ||
	    real.ss_family != AF_UNIX || client_address(&ss, &len) < 0) {
		errno = err;
		return real_getpeername(fd, addr, addrlen);
	}
	/* as the kernel does: truncate to the caller's buffer, say the size */
	memcpy(addr, &ss, *addrlen < len ? *addrlen : len);
	*addrlen = len;
	errno = err;
	return 0;
}
