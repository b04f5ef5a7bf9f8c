/*
 * sandbox.c: what a connection process may still ask of the kernel.
 *
 * Owns confining a connection process once it has what it needs:
 * PR_SET_NO_NEW_PRIVS, then seccomp allow-lists written here in classic
 * BPF with the kernel's own interface (no libseccomp), for x86_64 and
 * aarch64. A call outside the list kills the process with SIGSYS, which
 * the parent logs as "Process PID terminated on SIGSYS". Elsewhere, on a
 * kernel without seccomp filters, in a sanitizer build (its reports and
 * its leak check open files, start threads and ptrace) or with
 * "sandbox = no", nothing is confined. Must never confine the parent (it
 * reloads, forks and binds), nor a process that will still start its
 * exec'd program: the program would inherit the filter and
 * NO_NEW_PRIVS, which turns its setuid bits off.
 *
 * Two filters, stacked (the kernel runs both; both must allow):
 * - HANDSHAKE, once libwrap (whose spawn and twist fork a shell) and
 *   ident are done, before any byte of TLS or of a negotiation is read:
 *   in server mode the peer's bytes are parsed before the remote side
 *   exists, so this stage still connects (remote side, OCSP, sessiond,
 *   SOCKS and CONNECT destinations, capwin's LDAP), resolves names (NSS
 *   reads files and may load its modules) and reads CApath and CRLpath
 *   files. It cannot fork, exec, ptrace, open a file for writing
 *   (EACCES: glibc's syslog then skips its /dev/console fallback) or
 *   reach the kernel's rarer interfaces (bpf, io_uring, keys,
 *   namespaces, mounts, modules, perf...). A service whose remote side
 *   is a program skips it: the program starts after the handshake.
 * - TRANSFER, once both sides are connected: reading, writing, polling,
 *   the half-close, SO_LINGER for a reset, memory that is never
 *   executable, randomness, the clock, reaping the program, exiting.
 *   With syslog, glibc reconnects to /dev/log after a syslogd restart:
 *   a Unix socket may still be made and connected, but connect() is
 *   refused on the connection's descriptors (it would re-aim a TCP
 *   socket) and no other socket can be made. No file is opened (EACCES
 *   for syslog's console fallback). It is not installed when the peer
 *   may renegotiate (TLS 1.2 or older, client mode or
 *   ALLOW_CLIENT_RENEGOTIATION): a new handshake needs the first
 *   stage's calls (CApath, OCSP). OpenSSL 3 servers refuse a client's
 *   renegotiation by default.
 * A loaded engine, or a provider other than OpenSSL's own, may make any
 * system call (a token's library talks to a daemon or a device): then
 * nothing is confined. Every filter checks the architecture (another
 * one, and the x32 calls of x86_64, are killed).
 */
#include "common.h"
#include "sandbox.h"
#include "engine.h"
#include "log.h"

#include <openssl/provider.h>
#include <openssl/ssl.h>

/* clang says "address_sanitizer" where gcc defines __SANITIZE_ADDRESS__ */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED	1
#endif
#endif

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(SANITIZED) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && \
    (defined(__x86_64__) || defined(__aarch64__))
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __x86_64__
#define AUDIT_ARCH_HERE	AUDIT_ARCH_X86_64
/* glibc's poll() and, without the vDSO, time() */
#define ARCH_CALLS	__NR_poll, __NR_time,
#else
#define AUDIT_ARCH_HERE	AUDIT_ARCH_AARCH64
#define ARCH_CALLS
#endif

#define RULES_MAX	80	/* a stage has about 60 */
#define LEAF_RULES	4	/* rules tried in turn at the end of a search */
#define FILTER_MAX	512	/* instructions; a stage uses about 200 */
#define ACT_ALLOW	SECCOMP_RET_ALLOW
#define ACT_KILL	SECCOMP_RET_KILL_PROCESS
#define ACT_EACCES	(SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA))
#define ACT_NEXT	0xffffffffu	/* not an action: the next rule decides */
#define ALL		0xffffffffu

/* the low 32 bits of argument N: every test is on an int or flags */
#define ARG(n)		(offsetof(struct seccomp_data, args) + (n) * 8)
#define TEST(n, mask, count, ...) \
	{ ARG(n), (mask), 0, (count), { __VA_ARGS__ } }

struct test {
	unsigned	 off;		/* 0: no test */
	uint32_t	 mask;		/* applied to the argument first */
	int		 none_of;	/* pass when no value matches */
	unsigned	 nvals;
	uint32_t	 vals[6];
};

/* a call: PASS when every test passes, else FAIL */
struct rule {
	int		 nr;
	uint32_t	 pass;
	uint32_t	 fail;
	struct test	 test[2];
};

struct filter {
	struct rule	 rule[RULES_MAX];
	size_t		 nrules;
	struct sock_filter insn[FILTER_MAX];
	size_t		 len;
};

/*
 * Both stages: the transfer (read, write, recv/send, poll, shutdown,
 * close; recvmsg/sendmsg for kernel TLS records), memory (arena.c's
 * mappings, glibc's heap), OpenSSL's randomness and fork check
 * (getpid), the clock without the vDSO, abort(), a poll restarted after
 * SIGSTOP, reaping the exec'd program (wait4) and the end.
 */
static const int base_calls[] = {
	__NR_read, __NR_write, __NR_recvfrom, __NR_sendto, __NR_recvmsg,
	__NR_sendmsg, __NR_ppoll, __NR_shutdown, __NR_close,
	__NR_munmap, __NR_mremap, __NR_madvise, __NR_brk,
	__NR_getrandom, __NR_clock_gettime, __NR_clock_getres,
	__NR_gettimeofday, __NR_nanosleep, __NR_clock_nanosleep,
	__NR_getpid, __NR_gettid, __NR_rt_sigaction, __NR_rt_sigprocmask,
	__NR_rt_sigreturn, __NR_restart_syscall, __NR_wait4,
	__NR_exit, __NR_exit_group, ARCH_CALLS
};

static const struct rule base_rules[] = {
	/* glibc's locks and the session cache's process-shared mutex */
	{ __NR_futex, ACT_ALLOW, ACT_KILL, { TEST(1,
	    ~(uint32_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME), 4,
	    FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET) } },
};

/*
 * The handshake adds connecting (remote side, OCSP, sessiond, SOCKS,
 * CONNECT, capwin), socket options, name resolution (glibc's resolver:
 * sendmmsg, writev over TCP, FIONREAD; NSS: files, its modules mapped
 * executable, uname) and reading CApath/CRLpath files.
 */
static const int handshake_calls[] = {
	__NR_connect, __NR_bind, __NR_getsockname, __NR_getpeername,
	__NR_getsockopt, __NR_setsockopt, __NR_sendmmsg, __NR_writev,
	__NR_newfstatat, __NR_fstat, __NR_lseek, __NR_pread64,
	__NR_mmap, __NR_mprotect, __NR_uname,
	__NR_getuid, __NR_geteuid, __NR_getgid, __NR_getegid
};

static const struct rule handshake_rules[] = {
	{ __NR_socket, ACT_ALLOW, ACT_NEXT,
	  { TEST(0, ALL, 3, AF_UNIX, AF_INET, AF_INET6) } },
	/* the addresses of the host, for NSS and AI_ADDRCONFIG */
	{ __NR_socket, ACT_ALLOW, ACT_KILL,
	  { TEST(0, ALL, 1, AF_NETLINK), TEST(2, ALL, 1, NETLINK_ROUTE) } },
	{ __NR_openat, ACT_ALLOW, ACT_EACCES,
	  { TEST(2, O_ACCMODE | O_CREAT | O_TRUNC, 1, O_RDONLY) } },
	{ __NR_fcntl, ACT_ALLOW, ACT_KILL,
	  { TEST(1, ALL, 4, F_GETFD, F_SETFD, F_GETFL, F_SETFL) } },
	{ __NR_ioctl, ACT_ALLOW, ACT_KILL,
	  { TEST(1, ALL, 2, FIONREAD, TCGETS) } },
	/* the transfer's filter, which can only take more away */
	{ __NR_seccomp, ACT_ALLOW, ACT_KILL,
	  { TEST(0, ALL, 1, SECCOMP_SET_MODE_FILTER) } },
};

static const struct rule transfer_rules[] = {
	{ __NR_mmap, ACT_ALLOW, ACT_KILL, { TEST(2, PROT_EXEC, 1, 0) } },
	{ __NR_mprotect, ACT_ALLOW, ACT_KILL, { TEST(2, PROT_EXEC, 1, 0) } },
	/* a reset (linger 0), and kernel TLS taking new keys */
	{ __NR_setsockopt, ACT_ALLOW, ACT_NEXT,
	  { TEST(1, ALL, 1, SOL_SOCKET), TEST(2, ALL, 1, SO_LINGER) } },
	{ __NR_setsockopt, ACT_ALLOW, ACT_KILL, { TEST(1, ALL, 1, SOL_TLS) } },
};

/* glibc's syslog(): a new /dev/log socket; /dev/console refused */
static const struct rule transfer_syslog_rules[] = {
	{ __NR_socket, ACT_ALLOW, ACT_KILL,
	  { TEST(0, ALL, 1, AF_UNIX), TEST(1, ALL, 2,
	    SOCK_DGRAM | SOCK_CLOEXEC, SOCK_STREAM | SOCK_CLOEXEC) } },
	{ __NR_openat, ACT_EACCES, ACT_KILL, { { 0, 0, 0, 0, { 0 } } } },
};

static void
emit(struct filter *f, uint16_t code, uint32_t k, unsigned jt, unsigned jf)
{
	if (f->len < FILTER_MAX && jt <= UINT8_MAX && jf <= UINT8_MAX) {
		f->insn[f->len].code = code;
		f->insn[f->len].jt = (uint8_t)jt;
		f->insn[f->len].jf = (uint8_t)jf;
		f->insn[f->len].k = k;
	} else {
		f->len = FILTER_MAX;	/* too big: refused at install */
	}
	f->len++;
}

static unsigned
test_len(const struct test *t)
{
	if (t->off == 0)
		return 0;
	return 1 + (t->mask != ALL) + t->nvals;
}

/* instructions of a rule after its "nr == NR?" */
static unsigned
body_len(const struct rule *r)
{
	unsigned n = test_len(&r->test[0]) + test_len(&r->test[1]);

	return n == 0 ? 1 : n + 2;
}

/*
 * One rule: "nr == NR?" then each test (load, mask, compare with each
 * value), the pass action, and the fail action, or for ACT_NEXT the
 * number reloaded for the rule after it, on the same call.
 */
static void
emit_rule(struct filter *f, const struct rule *r)
{
	unsigned rest, left, i, j;
	const struct test *t;

	emit(f, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, body_len(r));
	for (i = 0; i < 2; i++) {
		t = &r->test[i];
		if (t->off == 0)
			continue;
		/* from this test's last comparison to the fail action */
		rest = (i == 0 ? test_len(&r->test[1]) : 0) + 1;
		emit(f, BPF_LD | BPF_W | BPF_ABS, t->off, 0, 0);
		if (t->mask != ALL)
			emit(f, BPF_ALU | BPF_AND | BPF_K, t->mask, 0, 0);
		for (j = 0; j < t->nvals; j++) {
			left = t->nvals - 1 - j;
			if (t->none_of)
				emit(f, BPF_JMP | BPF_JEQ | BPF_K, t->vals[j],
				    left + rest, 0);
			else
				emit(f, BPF_JMP | BPF_JEQ | BPF_K, t->vals[j],
				    left, left > 0 ? 0 : rest);
		}
	}
	emit(f, BPF_RET | BPF_K, r->pass, 0, 0);
	if (body_len(r) == 1)
		return;
	if (r->fail == ACT_NEXT)
		emit(f, BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr), 0, 0);
	else
		emit(f, BPF_RET | BPF_K, r->fail, 0, 0);
}

static void
add_rules(struct filter *f, const struct rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f->nrules < RULES_MAX)
			f->rule[f->nrules++] = r[i];
		else
			f->len = FILTER_MAX + 1;
}

static void
add_calls(struct filter *f, const int *nr, size_t n)
{
	struct rule r = { 0, ACT_ALLOW, ACT_KILL, { { 0 } } };
	size_t i;

	for (i = 0; i < n; i++) {
		r.nr = nr[i];
		add_rules(f, &r, 1);
	}
}

/* Where rules [LO, HI) split in two: not between two of one call. */
static size_t
split(const struct filter *f, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;

	if (hi - lo <= LEAF_RULES)
		return hi;
	while (mid < hi && f->rule[mid].nr == f->rule[mid - 1].nr)
		mid++;
	return mid;
}

static unsigned
tree_len(const struct filter *f, size_t lo, size_t hi)
{
	size_t mid = split(f, lo, hi), i;
	unsigned n = 1;

	if (mid < hi)
		return 1 + tree_len(f, lo, mid) + tree_len(f, mid, hi);
	for (i = lo; i < hi; i++)
		n += 1 + body_len(&f->rule[i]);
	return n;
}

/*
 * Rules [LO, HI), sorted by call number, as a binary search ("nr >=
 * MID?") down to a few rules tried in turn, then the kill: a call costs
 * a handful of comparisons, and so does the kernel's check, at install,
 * of which calls the filter always allows.
 */
static void
emit_tree(struct filter *f, size_t lo, size_t hi)
{
	size_t mid = split(f, lo, hi), i;

	if (mid < hi) {
		emit(f, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)f->rule[mid].nr,
		    tree_len(f, lo, mid), 0);
		emit_tree(f, lo, mid);
		emit_tree(f, mid, hi);
		return;
	}
	for (i = lo; i < hi; i++)
		emit_rule(f, &f->rule[i]);
	emit(f, BPF_RET | BPF_K, ACT_KILL, 0, 0);
}

/* by call number, rules of one call in the order they were added */
static void
sort_rules(struct filter *f)
{
	struct rule r;
	size_t i, j;

	for (i = 1; i < f->nrules; i++) {
		r = f->rule[i];
		for (j = i; j > 0 && f->rule[j - 1].nr > r.nr; j--)
			f->rule[j] = f->rule[j - 1];
		f->rule[j] = r;
	}
}

/* The architecture first: another one (i386, x32) is killed. */
static void
compile(struct filter *f)
{
	sort_rules(f);
	emit(f, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch),
	    0, 0);
	emit(f, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0);
	emit(f, BPF_RET | BPF_K, ACT_KILL, 0, 0);
	emit(f, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr),
	    0, 0);
	/* x32's numbers carry bit 30; no aarch64 number comes near it */
	emit(f, BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
	emit(f, BPF_RET | BPF_K, ACT_KILL, 0, 0);
	emit_tree(f, 0, f->nrules);
}

/* what abort() needs to signal the process itself */
static void
add_self_signal(struct filter *f)
{
	struct rule r = { __NR_tgkill, ACT_ALLOW, ACT_KILL,
	    { TEST(0, ALL, 1, (uint32_t)getpid()) } };

	add_rules(f, &r, 1);
}

/*
 * syslog's reconnection, on anything but the connection's descriptors
 * (refused, not fatal: once they are closed, syslog's new socket may
 * get one of their numbers)
 */
static void
add_syslog_connect(struct filter *f, const struct client *c)
{
	struct rule r = { __NR_connect, ACT_ALLOW, ACT_EACCES,
	    { { ARG(0), ALL, 1, 6, { 0, 1, 2, (uint32_t)c->local_rfd,
	    (uint32_t)c->local_wfd, (uint32_t)c->remote_fd } } } };

	add_rules(f, &r, 1);
	add_rules(f, transfer_syslog_rules, ARRAY_SIZE(transfer_syslog_rules));
}

static void
build(struct filter *f, const struct client *c, enum sandbox_stage stage)
{
	f->len = 0;
	f->nrules = 0;
	add_calls(f, base_calls, ARRAY_SIZE(base_calls));
	add_rules(f, base_rules, ARRAY_SIZE(base_rules));
	add_self_signal(f);
	if (stage == SANDBOX_HANDSHAKE) {
		add_calls(f, handshake_calls, ARRAY_SIZE(handshake_calls));
		add_rules(f, handshake_rules, ARRAY_SIZE(handshake_rules));
	} else {
		add_rules(f, transfer_rules, ARRAY_SIZE(transfer_rules));
		if (c->g->use_syslog)
			add_syslog_connect(f, c);
	}
	compile(f);
}

static int
own_provider(OSSL_PROVIDER *prov, void *foreign)
{
	static const char *const own[] = {
		"default", "base", "legacy", "fips", "null"
	};
	const char *name = OSSL_PROVIDER_get0_name(prov);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own); i++)
		if (strcmp(name, own[i]) == 0)
			return 1;
	*(const char **)foreign = name;
	return 0;
}

static int confinable;		/* 0: not judged yet, 1: yes, -1: no */
static char why_not[160];

/*
 * Whether connection processes can be confined: the engines and the
 * providers loaded decide, and the kernel. Judged by the parent after
 * each load (sandbox_prepare()), which every child inherits: walking
 * OpenSSL's providers in each child cost some 4 % of its CPU.
 */
static void
judge(void)
{
	uint32_t action = SECCOMP_RET_KILL_PROCESS;
	const char *foreign = NULL;

	confinable = -1;
	if (engine_count() > 0) {
		snprintf(why_not, sizeof(why_not), "an engine may need any "
		    "system call");
		return;
	}
	if (!OSSL_PROVIDER_do_all(NULL, own_provider, &foreign)) {
		snprintf(why_not, sizeof(why_not), "provider %s may need any "
		    "system call", foreign);
		return;
	}
	if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		snprintf(why_not, sizeof(why_not), "%s (%d)", strerror(errno),
		    errno);
		return;
	}
	confinable = 1;
}

void
sandbox_prepare(void)
{
	judge();
}

/*
 * Whether this process can be confined, with one debug line per process
 * when it cannot. NO_NEW_PRIVS is set here, before the first filter.
 */
static int
possible(void)
{
	static int told, no_new_privs;

	if (confinable == 0)		/* inetd mode: nobody judged before */
		judge();
	if (confinable > 0 && !no_new_privs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			confinable = -1;
			snprintf(why_not, sizeof(why_not), "%s (%d)",
			    strerror(errno), errno);
		} else {
			no_new_privs = 1;
		}
	}
	if (confinable > 0)
		return 1;
	if (!told)
		log_msg(LOG_DEBUG, "Seccomp filter not installed: %s", why_not);
	told = 1;
	return 0;
}

/* a new handshake in the transfer would need the first stage's calls */
static int
may_renegotiate(const struct client *c)
{
	uint64_t opts;

	if (c->ssl == NULL || SSL_version(c->ssl) >= TLS1_3_VERSION)
		return 0;
	opts = SSL_get_options(c->ssl);
	if (opts & SSL_OP_NO_RENEGOTIATION)
		return 0;
	return c->svc->client || (opts & SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
}

static const char *
skipped(const struct client *c, enum sandbox_stage stage)
{
	if (stage == SANDBOX_HANDSHAKE)
		return c->svc->exec != NULL && !c->exec_local ?
		    "the exec'd program starts later" : NULL;
	return may_renegotiate(c) ? "the peer may renegotiate" : NULL;
}

/*
 * Confine the process for STAGE. 0 when confined, or when it cannot or
 * must not be; -1 (the connection is reset) when the kernel refused a
 * filter it said it supports.
 */
int
sandbox_enter(struct client *c, enum sandbox_stage stage)
{
	struct filter f;
	const char *name = stage == SANDBOX_HANDSHAKE ? "handshake" :
	    "transfer";
	const char *why;
	struct sock_fprog prog;

	CLIENT_CHECK(c);
	if (!c->g->sandbox)
		return 0;
	if ((why = skipped(c, stage)) != NULL) {
		log_msg(LOG_DEBUG, "Seccomp filter for the %s not installed: "
		    "%s", name, why);
		return 0;
	}
	if (!possible())
		return 0;
	build(&f, c, stage);
	prog.len = (unsigned short)f.len;
	prog.filter = f.insn;
	if (f.len > FILTER_MAX) {
		errno = E2BIG;
	} else if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
	    &prog) == 0) {
		log_msg(LOG_DEBUG, "Seccomp filter installed for the %s "
		    "(%zu rules)", name, f.nrules);
		return 0;
	}
	log_errno("seccomp");
	if (c->error == CERR_NONE)
		c->error = CERR_RESET;
	return -1;
}

#else

void
sandbox_prepare(void)
{
}

int
sandbox_enter(struct client *c, enum sandbox_stage stage)
{
	if (c->g->sandbox && stage == SANDBOX_HANDSHAKE)
		log_msg(LOG_DEBUG, "Seccomp filter not installed: not in this "
		    "build (Linux on x86_64 or aarch64, no sanitizer)");
	return 0;
}

#endif
