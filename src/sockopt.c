/*
 * sockopt.c: socket options by name.
 *
 * Owns the table of options that "socket =" may set, their value syntax,
 * the built-in defaults (SO_REUSEADDR on accept sockets, TCP_NODELAY on
 * local and remote ones) and the -sockets listing. Must never decide when
 * a socket is created: callers hand it descriptors.
 */
#include "common.h"
#include "sockopt.h"
#include "log.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <unistd.h>

enum sockopt_type { T_FLAG, T_INT, T_LINGER, T_TIMEVAL, T_STRING };

struct sockopt_desc {
	const char		*name;
	int			 level;
	int			 optname;
	enum sockopt_type	 type;
	const char		*dflt[3];	/* accept, local, remote */
};

static const struct sockopt_desc table[] = {
	{ "SO_DEBUG", SOL_SOCKET, SO_DEBUG, T_FLAG, { 0 } },
	{ "SO_DONTROUTE", SOL_SOCKET, SO_DONTROUTE, T_FLAG, { 0 } },
	{ "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, T_FLAG, { 0 } },
	{ "SO_LINGER", SOL_SOCKET, SO_LINGER, T_LINGER, { 0 } },
	{ "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE, T_FLAG, { 0 } },
	{ "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, T_INT, { 0 } },
	{ "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, T_INT, { 0 } },
	{ "SO_RCVLOWAT", SOL_SOCKET, SO_RCVLOWAT, T_INT, { 0 } },
	{ "SO_SNDLOWAT", SOL_SOCKET, SO_SNDLOWAT, T_INT, { 0 } },
	{ "SO_RCVTIMEO", SOL_SOCKET, SO_RCVTIMEO, T_TIMEVAL, { 0 } },
	{ "SO_SNDTIMEO", SOL_SOCKET, SO_SNDTIMEO, T_TIMEVAL, { 0 } },
	{ "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR, T_FLAG, { "yes", 0, 0 } },
	{ "SO_BINDTODEVICE", SOL_SOCKET, SO_BINDTODEVICE, T_STRING, { 0 } },
	{ "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, T_INT, { 0 } },
	{ "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, T_INT, { 0 } },
	{ "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, T_INT, { 0 } },
	{ "IP_TOS", IPPROTO_IP, IP_TOS, T_INT, { 0 } },
	{ "IP_TTL", IPPROTO_IP, IP_TTL, T_INT, { 0 } },
	{ "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, T_FLAG, { 0, "yes", "yes" } },
	{ "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND, T_FLAG, { 0 } },
	{ "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY, T_FLAG, { 0 } },
};

static const struct sockopt_desc *
find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (strlen(table[i].name) == len &&
		    strncasecmp(table[i].name, name, len) == 0)
			return &table[i];
	return NULL;
}

/*
 * A number as stunnel reads it: what strtol() takes whole, so leading
 * blanks and a sign are allowed and an empty text is 0.
 */
static int
check_number(const char *s, const char *end)
{
	char *stop;

	if (s == end)
		return 0;
	(void)strtol(s, &stop, 10);
	return stop == end ? 0 : -1;
}

/* on/off options take yes/no or 1/0, nothing else */
static int
flag_value(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		return 0;
	return -1;
}

static int
check_value(enum sockopt_type type, const char *v)
{
	const char *colon = strchr(v, ':');

	switch (type) {
	case T_FLAG:
		return flag_value(v) < 0 ? -1 : 0;
	case T_INT:
		return check_number(v, v + strlen(v));
	case T_LINGER:
	case T_TIMEVAL:
		if (colon == NULL)
			return check_number(v, v + strlen(v));
		if (check_number(v, colon) < 0)
			return -1;
		return check_number(colon + 1, colon + 1 + strlen(colon + 1));
	case T_STRING:
		return 0;
	}
	return -1;
}

/* Is "a|l|r:NAME=VALUE" something we can set? 0 if so. */
int
sockopt_check(const char *arg)
{
	const struct sockopt_desc *d;
	const char *eq;

	if (arg[0] == '\0' || strchr("alr", arg[0]) == NULL || arg[1] != ':')
		return -1;
	eq = strchr(arg + 2, '=');
	if (eq == NULL)
		return -1;
	d = find(arg + 2, (size_t)(eq - (arg + 2)));
	if (d == NULL)
		return -1;
	return check_value(d->type, eq + 1);
}

static const char *const target_names[] = { "accept", "local", "remote" };

static int
set_one(int fd, const struct sockopt_desc *d, const char *value,
    enum sockopt_target target)
{
	union {
		int		i;
		struct linger	l;
		struct timeval	t;
	} v;
	const void *ptr = &v;
	socklen_t len = sizeof(v.i);
	const char *colon = strchr(value, ':');

	memset(&v, 0, sizeof(v));
	switch (d->type) {
	case T_FLAG:
		v.i = flag_value(value);
		break;
	case T_INT:
		v.i = atoi(value);
		break;
	case T_LINGER:
		v.l.l_onoff = atoi(value);
		v.l.l_linger = colon != NULL ? atoi(colon + 1) : 0;
		len = sizeof(v.l);
		break;
	case T_TIMEVAL:
		v.t.tv_sec = atol(value);
		v.t.tv_usec = colon != NULL ? atol(colon + 1) : 0;
		len = sizeof(v.t);
		break;
	case T_STRING:
		ptr = value;
		len = (socklen_t)strlen(value) + 1;
		break;
	}
	if (setsockopt(fd, d->level, d->optname, ptr, len) < 0) {
		if (errno == ENOPROTOOPT || errno == EINVAL ||
		    errno == EOPNOTSUPP) {
			log_msg(LOG_DEBUG, "Option %s not supported on %s socket",
			    d->name, target_names[target]);
			return 0;
		}
		log_errno("%s", d->name);
		return -1;
	}
	log_msg(LOG_DEBUG, "Option %s set on %s socket", d->name,
	    target_names[target]);
	return 0;
}

/*
 * The built-in defaults for TARGET, then each "socket =" line of USER
 * for TARGET, in order. IPv4-only options on an IPv6 socket are skipped.
 */
int
sockopt_apply(int fd, enum sockopt_target target, const struct strlist *user)
{
	const struct sockopt_desc *d;
	const char *eq;
	size_t i;
	int rc = 0;

	log_msg(LOG_DEBUG, "Setting %s socket options (FD=%d)",
	    target_names[target], fd);
	for (i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].dflt[target] != NULL &&
		    set_one(fd, &table[i], table[i].dflt[target], target) < 0)
			rc = -1;
	for (i = 0; i < user->n; i++) {
		if (user->v[i][0] != "alr"[target])
			continue;
		eq = strchr(user->v[i] + 2, '=');
		d = find(user->v[i] + 2, (size_t)(eq - (user->v[i] + 2)));
		if (set_one(fd, d, eq + 1, target) < 0)
			rc = -1;
	}
	return rc;
}

/* what the kernel gives a fresh TCP socket, as -sockets shows it */
static void
os_default(const struct sockopt_desc *d, char *out, size_t len)
{
	union {
		int		i;
		struct linger	l;
		struct timeval	t;
		char		s[64];
	} v;
	socklen_t vlen = sizeof(v);
	int fd;

	memset(&v, 0, sizeof(v));
	fd = socket(d->level == IPPROTO_IPV6 ? AF_INET6 : AF_INET,
	    SOCK_STREAM, 0);
	if (fd < 0 || getsockopt(fd, d->level, d->optname, &v, &vlen) < 0) {
		snprintf(out, len, "write-only");
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	switch (d->type) {
	case T_FLAG:
		snprintf(out, len, "%s", v.i ? "yes" : "no");
		break;
	case T_INT:
		snprintf(out, len, "%d", v.i);
		break;
	case T_LINGER:
		snprintf(out, len, "%d:%d", v.l.l_onoff, v.l.l_linger);
		break;
	case T_TIMEVAL:
		snprintf(out, len, "%d:%d", (int)v.t.tv_sec,
		    (int)v.t.tv_usec);
		break;
	case T_STRING:
		v.s[sizeof(v.s) - 1] = '\0';
		snprintf(out, len, "%s", v.s);
		break;
	}
}

static const char *
column(const char *value)
{
	return value != NULL ? value : "    --    ";
}

/* -sockets */
void
sockopt_print_table(void)
{
	char os[64];
	size_t i;

	log_msg(LOG_NOTICE, " ");
	log_msg(LOG_NOTICE, "Socket option defaults:");
	log_msg(LOG_NOTICE, "    Option Name         |  Accept  |   Local  |"
	    "  Remote  |OS default");
	log_msg(LOG_NOTICE, "    --------------------+----------+----------+"
	    "----------+----------");
	for (i = 0; i < ARRAY_SIZE(table); i++) {
		os_default(&table[i], os, sizeof(os));
		log_msg(LOG_NOTICE, "    %-20s|%10s|%10s|%10s|%10s",
		    table[i].name, column(table[i].dflt[SOCK_ACCEPT]),
		    column(table[i].dflt[SOCK_LOCAL]),
		    column(table[i].dflt[SOCK_REMOTE]), os);
	}
}
