/*
 * capacity.c: how many connection processes may run at once.
 *
 * Owns the figure stunnel's threaded builds log as "Clients allowed=N".
 * One process per connection makes it a question of processes and
 * memory, not of one process's descriptors: the figure is the least of
 * what the process limit of the user the connections run as
 * (RLIMIT_NPROC), the cgroup's task limit (pids.max, systemd's
 * TasksMax=), the system's process and open file limits and memory (the
 * cgroup's limit, else all of it) allow, each with a share kept back for
 * everything else. RLIMIT_NOFILE bounds each process's own table, which
 * one connection never fills, so it is only checked to be large enough.
 * Must never change a limit: it only reads them.
 */
#include "common.h"
#include "capacity.h"
#include "log.h"

#include <sys/resource.h>
#include <unistd.h>

/* an idle connection process costs about 200 KiB (private memory and page
 * tables, measured by make bench); a busy one keeps its buffers in it */
#define CONN_KIB	256
/* the share of memory connections may take */
#define MEM_SHARE_NUM	3
#define MEM_SHARE_DEN	4
/* descriptors of one connection in the system's table: the accepted and
 * the remote socket, and a pipe pair or pty of an exec'd program */
#define CONN_FILES	4
/* descriptors one connection process may hold at most: standard streams,
 * log, two sockets, an exec'd program's pipes, helper connections */
#define CONN_FDS_MIN	16

/* N less the share kept for everything else: an eighth, at least one */
static unsigned long long
spare(unsigned long long n)
{
	return n - (n >= 16 ? n / 8 : n > 0);
}

static unsigned long long
smaller(unsigned long long a, unsigned long long b)
{
	return a < b ? a : b;
}

/* the number in FILE, or ULLONG_MAX when it is absent or "max" */
static unsigned long long
read_number(const char *file)
{
	unsigned long long n;
	char buf[64];
	FILE *f = fopen(file, "re");

	if (f == NULL)
		return ULLONG_MAX;
	if (fgets(buf, sizeof(buf), f) == NULL ||
	    sscanf(buf, "%llu", &n) != 1)
		n = ULLONG_MAX;
	fclose(f);
	return n;
}

/* the least value of LIMIT in cgroup directory DIR and its ancestors */
static unsigned long long
cgroup_chain(const char *root, char *dir, const char *limit)
{
	unsigned long long least = ULLONG_MAX;
	char path[PATH_MAX];
	char *slash;

	for (;;) {
		snprintf(path, sizeof(path), "%s%s/%s", root,
		    strcmp(dir, "/") == 0 ? "" : dir, limit);
		least = smaller(least, read_number(path));
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			break;
		*slash = '\0';
	}
	return least;
}

/*
 * The cgroup limit named V2 (unified hierarchy) or V1 in CONTROLLER's
 * own hierarchy, whichever this process is under.
 */
static unsigned long long
cgroup_limit(const char *controller, const char *v1, const char *v2)
{
	unsigned long long least = ULLONG_MAX;
	char line[PATH_MAX + 64], root[64], *dir, *list;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (f == NULL)
		return ULLONG_MAX;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		/* "ID:CONTROLLERS:PATH" */
		if ((list = strchr(line, ':')) == NULL ||
		    (dir = strchr(++list, ':')) == NULL)
			continue;
		*dir++ = '\0';
		if (*list == '\0') {
			least = smaller(least,
			    cgroup_chain("/sys/fs/cgroup", dir, v2));
			least = smaller(least,
			    cgroup_chain("/sys/fs/cgroup/unified", dir, v2));
		} else if (strcmp(list, controller) == 0) {
			snprintf(root, sizeof(root), "/sys/fs/cgroup/%s",
			    controller);
			least = smaller(least, cgroup_chain(root, dir, v1));
		}
	}
	fclose(f);
	return least;
}

static unsigned long long
memory_kib(void)
{
	unsigned long long kib = ULLONG_MAX, bytes;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
				break;
		fclose(f);
	}
	bytes = cgroup_limit("memory", "memory.limit_in_bytes", "memory.max");
	return smaller(kib, bytes / 1024);
}

/*
 * Connection processes running as UID may number at most the result,
 * PER processes each (2 when a program is exec'd).
 */
unsigned long
capacity_clients(uid_t uid, unsigned per)
{
	unsigned long long n, procs = ULLONG_MAX, files, mem;
	struct rlimit rl;

	/* the kernel does not hold root to RLIMIT_NPROC */
	if (uid != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY)
		procs = spare(rl.rlim_cur);
	procs = smaller(procs, spare(cgroup_limit("pids", "pids.max",
	    "pids.max")));
	procs = smaller(procs, spare(smaller(
	    read_number("/proc/sys/kernel/pid_max"),
	    read_number("/proc/sys/kernel/threads-max"))));
	files = read_number("/proc/sys/fs/file-max");
	n = procs / (per > 0 ? per : 1);
	if (files != ULLONG_MAX)
		n = smaller(n, spare(files) / CONN_FILES);
	mem = memory_kib();
	if (mem != ULLONG_MAX)
		n = smaller(n, mem / CONN_KIB * MEM_SHARE_NUM / MEM_SHARE_DEN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < CONN_FDS_MIN)
		log_msg(LOG_WARNING, "RLIMIT_NOFILE is %llu: a connection "
		    "may need %d descriptors",
		    (unsigned long long)rl.rlim_cur, CONN_FDS_MIN);
	if (n == 0)
		n = 1;
	if (n > ULONG_MAX)
		n = ULONG_MAX;
	return (unsigned long)n;
}
