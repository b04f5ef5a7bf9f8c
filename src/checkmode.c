/*
 * checkmode.c: "-check", the configuration check mode.
 *
 * Owns what "stunnel -check" adds to a load: the line that set each
 * option (conffile.c tells it while checking), what a start would meet
 * after the load (a chroot directory that is not there: an error), and
 * and what the daemon would meet once privileges are dropped, judged
 * from stat() alone with the credentials it keeps: the pid and log files
 * created after the drop (errors: the start would fail), then warnings
 * about files a reload reads again (inside the chroot when there is
 * one) and what exec, CApath and CRLpath need at connection time. Must never bind, fork, write a file, signal a
 * process or change its own credentials.
 */
#include "common.h"
#include "checkmode.h"
#include "log.h"

#include <elf.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define R	4
#define W	2
#define X	1

/* where an option was set */
struct seen {
	const struct service	*part;	/* its section, or the defaults */
	char			*name;
	char			*value;
	char			*file;
	int			 line;
};

/* who the daemon is once privileges are dropped */
struct creds {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;	/* supplementary groups kept */
	int	 ngroups;
	int	 dropped;	/* setuid or setgid: a reload has less */
	char	 who[160];
};

struct check {
	const struct global	*g;
	struct creds		 c;
	const char		*jail;		/* chroot, or NULL */
	struct strlist		 said;		/* warnings given */
};

static int		 active;
static struct seen	*seen;
static size_t		 nseen;

void
check_begin(void)
{
	active = 1;
}

int
check_active(void)
{
	return active;
}

/* conffile.c, while checking: PART's option NAME = VALUE at FILE:LINE */
void
check_option_line(const struct service *part, const char *name,
    const char *value, const char *file, int line)
{
	struct seen *s;

	if (!active)
		return;
	seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
	s = &seen[nseen++];
	s->part = part;
	s->name = xstrdup(name);
	s->value = xstrdup(value);
	s->file = xstrdup(file);
	s->line = line;
}

/* what check_option_line() kept, once the configuration is judged */
void
check_end(void)
{
	size_t i;

	for (i = 0; i < nseen; i++) {
		free(seen[i].name);
		free(seen[i].value);
		free(seen[i].file);
	}
	free(seen);
	seen = NULL;
	nseen = 0;
}

/* the last line that set NAME in PART, or in the global part it inherits */
static const struct seen *
where(const struct check *k, const struct service *part, const char *name)
{
	const struct seen *in_defaults = NULL;
	size_t i;

	for (i = nseen; i-- > 0;) {
		if (strcasecmp(seen[i].name, name) != 0)
			continue;
		if (seen[i].part == part)
			return &seen[i];
		if (seen[i].part == k->g->defaults && in_defaults == NULL)
			in_defaults = &seen[i];
	}
	return in_defaults;
}

/* "FILE:LINE: name = value: TEXT", once each */
static void PRINTF_LIKE(5, 6)
say(struct check *k, int level, const struct service *part,
    const char *name, const char *fmt, ...)
{
	const struct seen *s = where(k, part, name);
	char *text, *line;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (s != NULL)
		line = xasprintf("%s:%d: %s = %s: %s", s->file, s->line,
		    s->name, s->value, text);
	else
		line = xasprintf("%s (default): %s", name, text);
	free(text);
	for (i = 0; i < k->said.n; i++)
		if (strcmp(k->said.v[i], line) == 0)
			break;
	if (i == k->said.n) {
		log_msg(level, "%s", line);
		strlist_add(&k->said, line);
	}
	free(line);
}

static int
in_group(const struct creds *c, gid_t gid)
{
	int i;

	if (gid == c->gid)
		return 1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

/*
 * The access ACL of PATH as the kernel stores it (little-endian: a
 * version, then tag, permissions and id per entry) judged for C: 1 or 0,
 * or -1 when PATH has none. Owner, named user, then the groups (any
 * matching entry that grants WANT under the mask), then other.
 */
static int
acl_allows(const struct creds *c, const char *path, const struct stat *st,
    int want)
{
	unsigned char acl[8 * 64 + 4], *e;
	int i, n, tag, perm, mask = 7, user = -1, group = -1, other = 0;
	uint32_t id;
	ssize_t len;

	len = getxattr(path, "system.posix_acl_access", acl, sizeof(acl));
	if (len < 4 || (len - 4) % 8 != 0 || acl[0] != 2)
		return -1;
	n = (int)(len - 4) / 8;
	for (i = 0; i < n; i++) {
		e = acl + 4 + 8 * i;
		tag = e[0] | e[1] << 8;
		perm = e[2] & 7;
		id = (uint32_t)e[4] | (uint32_t)e[5] << 8 |
		    (uint32_t)e[6] << 16 | (uint32_t)e[7] << 24;
		if (tag == 0x10)
			mask = perm;
		else if (tag == 0x20)
			other = perm;
		else if (tag == 0x01 && st->st_uid == c->uid)
			user = perm | 0x100;	/* the owner: no mask */
		else if (tag == 0x02 && id == c->uid && user < 0x100)
			user = perm;
		else if ((tag == 0x04 && in_group(c, st->st_gid)) ||
		    (tag == 0x08 && in_group(c, (gid_t)id)))
			group = group < 0 || (perm & want) == want ? perm : group;
	}
	if (user >= 0x100)
		return (user & want) == want;
	if (user >= 0)
		return (user & mask & want) == want;
	if (group >= 0)
		return (group & mask & want) == want;
	return (other & want) == want;
}

/* Does the mode (or the ACL) of PATH let C do WANT? */
static int
allowed(const struct creds *c, const char *path, const struct stat *st,
    int want)
{
	int bits;

	if (c->uid == 0)
		return (want & X) == 0 || S_ISDIR(st->st_mode) ||
		    (st->st_mode & 0111) != 0;
	if ((bits = acl_allows(c, path, st, want)) >= 0)
		return bits;
	if (st->st_uid == c->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_group(c, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
}

static void
describe(const char *path, const struct stat *st, char *out, size_t len)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%lu", (unsigned long)st->st_uid);
	snprintf(g, sizeof(g), "%lu", (unsigned long)st->st_gid);
	snprintf(out, len, "%s is mode %04o%s, owner %s:%s", path,
	    (unsigned)(st->st_mode & 07777),
	    getxattr(path, "system.posix_acl_access", NULL, 0) > 0 ?
	    " with an ACL" : "", pw != NULL ? pw->pw_name : u,
	    gr != NULL ? gr->gr_name : g);
}

/*
 * May C use PATH for WANT, searching every directory above it? 0 when
 * it may; -1 with the obstacle described in WHY.
 */
static int
judge(const struct creds *c, const char *path, int want, char *why,
    size_t len)
{
	char *p = xstrdup(path), *slash;
	struct stat st;
	int rc = 0;

	for (slash = strchr(p + 1, '/'); rc == 0 && slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (stat(p, &st) < 0) {
			snprintf(why, len, "%s: %s", p, strerror(errno));
			rc = -1;
		} else if (!allowed(c, p, &st, X)) {
			describe(p, &st, why, len);
			rc = -1;
		}
		*slash = '/';
	}
	if (rc == 0 && stat(p, &st) < 0) {
		snprintf(why, len, "%s: %s", p, strerror(errno));
		rc = -1;
	} else if (rc == 0 && !allowed(c, p, &st, want)) {
		describe(p, &st, why, len);
		rc = -1;
	}
	free(p);
	return rc;
}

/* PATH as the daemon sees it after chroot (relative: from the jail's /) */
static char *
in_jail(const struct check *k, const char *path)
{
	if (k->jail == NULL)
		return xstrdup(path);
	return xasprintf("%s%s%s", k->jail, path[0] == '/' ? "" : "/", path);
}

/* key and certificate values may be URIs: only files are judged */
static const char *
file_of(const char *value)
{
	const char *p = value;

	if (str_prefix(value, "file://"))
		return value + 7;
	if (str_prefix(value, "file:"))
		return value + 5;
	while (*p != '\0' && strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.",
	    *p) != NULL)
		p++;
	return *p == ':' && p != value ? NULL : value;
}

static const char *
jail_note(const struct check *k)
{
	return k->jail != NULL ? " in the chroot" : "";
}

/* a file read again by a reload, after the drop (and inside the jail) */
static void
reload_file(struct check *k, const struct service *part, const char *name,
    const char *value, int want)
{
	const char *file = value != NULL ? file_of(value) : NULL;
	char why[PATH_MAX + 128], *path;

	if (file == NULL || !k->c.dropped)
		return;
	path = in_jail(k, file);
	if (judge(&k->c, path, want, why, sizeof(why)) < 0)
		say(k, LOG_WARNING, part, name, "%s could not read it%s after "
		    "dropping privileges (%s): a reload (SIGHUP) would fail",
		    k->c.who, jail_note(k), why);
	free(path);
}

/* CApath, CRLpath: read at connection time, after the drop, in the jail */
static void
lookup_dir(struct check *k, const struct service *part, const char *name,
    const char *value)
{
	char why[PATH_MAX + 128], *path;

	if (value == NULL || (k->jail == NULL && !k->c.dropped))
		return;
	path = in_jail(k, value);
	if (judge(&k->c, path, R | X, why, sizeof(why)) < 0)
		say(k, LOG_WARNING, part, name, "%s could not read this "
		    "directory%s at connection time (%s): certificates would "
		    "not be found there", k->c.who, jail_note(k), why);
	free(path);
}

/* the ELF interpreter or "#!" program that runs PATH, or NULL */
static char *
interpreter(const char *path)
{
	unsigned char buf[256];
	char *interp = NULL, *s;
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	ssize_t n;
	int fd, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 2 && buf[0] == '#' && buf[1] == '!') {
		buf[n] = '\0';
		s = (char *)buf + 2;
		s += strspn(s, " \t");
		if (*s == '/')
			interp = xstrndup(s, strcspn(s, " \t\r\n"));
	} else if (n >= (ssize_t)sizeof(eh) &&
	    memcmp(buf, ELFMAG, SELFMAG) == 0 &&
	    buf[EI_CLASS] == ELFCLASS64) {
		memcpy(&eh, buf, sizeof(eh));
		if (eh.e_phentsize != sizeof(ph))
			eh.e_phnum = 0;
		for (i = 0; i < eh.e_phnum && interp == NULL; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (Elf64_Off)i * eh.e_phentsize)) != sizeof(ph) ||
			    ph.p_type != PT_INTERP || ph.p_filesz >= PATH_MAX)
				continue;
			interp = xmalloc(ph.p_filesz + 1);
			n = pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset);
			interp[n > 0 ? n : 0] = '\0';
		}
	}
	close(fd);
	return interp;
}

/* exec = PROGRAM: found as execvp() would, inside the jail */
static char *
find_program(const struct check *k, const char *prog)
{
	const char *dirs = getenv("PATH"), *end;
	char *path;
	size_t len;

	if (strchr(prog, '/') != NULL)
		return in_jail(k, prog);
	if (dirs == NULL)
		dirs = "/bin:/usr/bin";
	for (; *dirs != '\0'; dirs = *end == ':' ? end + 1 : end) {
		end = strchrnul(dirs, ':');
		len = (size_t)(end - dirs);
		/* an empty entry is the working directory, / after chroot */
		if (len == 0)
			path = xasprintf("%s/%s", k->jail != NULL ? k->jail : ".",
			    prog);
		else
			path = xasprintf("%s%.*s/%s", k->jail != NULL ?
			    k->jail : "", (int)len, dirs, prog);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

static void
exec_program(struct check *k, const struct service *svc)
{
	char why[PATH_MAX + 128], *path, *interp, *ipath;
	const char *name = svc->name != NULL ? svc->name : "inetd mode";

	if (svc->exec == NULL)
		return;
	path = find_program(k, svc->exec);
	if (path == NULL) {
		say(k, LOG_WARNING, svc, "exec", "not found in PATH%s: every "
		    "connection of [%s] would fail", jail_note(k), name);
		return;
	}
	if (judge(&k->c, path, X, why, sizeof(why)) < 0) {
		say(k, LOG_WARNING, svc, "exec", "%s could not run it%s (%s): "
		    "every connection of [%s] would fail", k->c.who,
		    jail_note(k), why, name);
	} else if (k->jail != NULL && (interp = interpreter(path)) != NULL) {
		ipath = in_jail(k, interp);
		if (access(ipath, F_OK) < 0)
			say(k, LOG_WARNING, svc, "exec", "%s needs %s, which is "
			    "not in the chroot (%s: %s): every connection of "
			    "[%s] would fail", path, interp, ipath,
			    strerror(errno), name);
		free(ipath);
		free(interp);
	}
	free(path);
}

static void
check_service(struct check *k, const struct service *svc)
{
	reload_file(k, svc, "cert", svc->cert, R);
	if (svc->key != NULL && (svc->cert == NULL ||
	    strcmp(svc->key, svc->cert) != 0))
		reload_file(k, svc, "key", svc->key, R);
	reload_file(k, svc, "CAfile", svc->ca_file, R);
	reload_file(k, svc, "CRLfile", svc->crl_file, R);
	reload_file(k, svc, "PSKsecrets", svc->psk_secrets, R);
	lookup_dir(k, svc, "CApath", svc->ca_path);
	lookup_dir(k, svc, "CRLpath", svc->crl_path);
	exec_program(k, svc);
}

/*
 * The pid file (unlinked, then created) and the log file are opened
 * after chroot and the drop, at every start: one the dropped user cannot
 * write stops the start, so it fails the check (-1, logged).
 */
static int
created_file(struct check *k, const char *name, const char *value,
    int reuse)
{
	char why[PATH_MAX + 128], *path, *dir, *slash;
	const char *verb = "write";
	struct stat st;
	int rc;

	if (value == NULL || k->c.uid == 0)
		return 0;
	path = in_jail(k, value);
	if (reuse && stat(path, &st) == 0) {
		rc = judge(&k->c, path, W, why, sizeof(why));
	} else {
		verb = "create";
		slash = strrchr(path, '/');
		dir = slash == NULL ? xstrdup(".") : slash == path ?
		    xstrdup("/") : xstrndup(path, (size_t)(slash - path));
		rc = judge(&k->c, dir, W | X, why, sizeof(why));
		free(dir);
	}
	if (rc < 0)
		say(k, LOG_ERR, k->g->defaults, name, "%s could not %s it%s "
		    "after dropping privileges (%s): the daemon would fail to "
		    "start", k->c.who, verb, jail_note(k), why);
	free(path);
	return rc < 0 ? -1 : 0;
}

/*
 * A reload reads the configuration again, as the dropped user: PATH and
 * the files it includes (a descriptor FD is read again as it is).
 */
static void
config_files(struct check *k, const char *path, const char *fd)
{
	char why[PATH_MAX + 128], *real, *p;
	struct strlist files = { NULL, 0 };
	size_t i, j;

	if (!k->c.dropped)
		return;
	if (path != NULL && (real = realpath(path, NULL)) != NULL) {
		strlist_add(&files, real);
		free(real);
	}
	for (i = 0; i < nseen; i++) {
		if (fd != NULL && strcmp(seen[i].file, fd) == 0)
			continue;
		for (j = 0; j < files.n; j++)
			if (strcmp(files.v[j], seen[i].file) == 0)
				break;
		if (j == files.n)
			strlist_add(&files, seen[i].file);
	}
	for (i = 0; i < files.n; i++) {
		p = in_jail(k, files.v[i]);
		if (judge(&k->c, p, R, why, sizeof(why)) < 0)
			log_msg(LOG_WARNING, "Configuration file %s: %s could "
			    "not read it%s after dropping privileges (%s): a "
			    "reload (SIGHUP) would fail", files.v[i], k->c.who,
			    jail_note(k), why);
		free(p);
	}
	strlist_free(&files);
}

static void
set_creds(struct creds *c, const struct service *defaults)
{
	struct passwd *pw;
	struct group *gr;
	char u[48], g[48];
	int n;

	c->dropped = defaults->setuid >= 0 || defaults->setgid >= 0;
	c->uid = defaults->setuid >= 0 ? (uid_t)defaults->setuid : geteuid();
	c->gid = defaults->setgid >= 0 ? (gid_t)defaults->setgid : getegid();
	c->ngroups = 0;
	c->groups = NULL;
	/* daemon.c keeps no supplementary group once it drops privileges */
	if (!c->dropped && (n = getgroups(0, NULL)) > 0) {
		c->groups = xreallocarray(NULL, (size_t)n, sizeof(gid_t));
		c->ngroups = getgroups(n, c->groups);
		if (c->ngroups < 0)
			c->ngroups = 0;
	}
	pw = getpwuid(c->uid);
	gr = getgrgid(c->gid);
	snprintf(u, sizeof(u), "user %s", pw != NULL ? pw->pw_name : "");
	snprintf(g, sizeof(g), "group %s", gr != NULL ? gr->gr_name : "");
	snprintf(c->who, sizeof(c->who), "%s (uid %lu), %s (gid %lu)",
	    pw != NULL ? u : "user", (unsigned long)c->uid,
	    gr != NULL ? g : "group", (unsigned long)c->gid);
}

/* chroot() of a start would fail: an error, as it stops every start */
static int
check_jail(struct check *k)
{
	struct stat st;
	const char *why;

	if (k->jail == NULL)
		return 0;
	if (stat(k->jail, &st) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = strerror(ENOTDIR);
	else
		return 0;
	say(k, LOG_ERR, k->g->defaults, "chroot", "%s", why);
	return -1;
}

/*
 * After a successful load of PATH (or descriptor FD): what a start would
 * still refuse (-1, logged), and warnings about what would fail later,
 * which leave the verdict alone (0).
 */
int
check_config(const struct global *g, const char *path, const char *fd)
{
	struct check k;
	const struct service *svc;
	int rc;

	memset(&k, 0, sizeof(k));
	k.g = g;
	k.jail = g->chroot;
	rc = check_jail(&k);
	if (rc == 0) {
		set_creds(&k.c, g->defaults);
		config_files(&k, path, fd);
		if (created_file(&k, "pid", g->pid, 0) < 0)
			rc = -1;
		if (created_file(&k, "output", g->output, 1) < 0)
			rc = -1;
		if (g->inetd)
			check_service(&k, g->defaults);
		for (svc = g->services; svc != NULL; svc = svc->next)
			check_service(&k, svc);
		free(k.c.groups);
	}
	strlist_free(&k.said);
	return rc;
}
