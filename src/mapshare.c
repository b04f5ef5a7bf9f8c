/*
 * mapshare.c: the parent's code and read-only data, handed to every
 * connection process by fork() instead of faulted in again by each.
 *
 * fork() copies the page tables of a private mapping only if it has
 * anonymous pages (an anon_vma); the code and read-only data of the
 * libraries and of the daemon have none, so every child used to map
 * them again, one page fault at a time (about 75 of its 140 faults, and
 * a fault is the dearest thing a child does on a virtualised machine).
 * So, once in the parent (at start and after a reload, which may load
 * an engine or a provider): each such mapping of a file that has code
 * is made present (MADV_POPULATE_READ) and given an anonymous page, by
 * writing one byte back in place while the mapping is briefly writable.
 * The pages stay the page cache's, shared with every other process;
 * children get their entries copied at fork and never fault on them.
 *
 * Must never change what a byte of code or data says, nor leave a
 * mapping writable, nor touch other files' mappings (locale archives,
 * the session cache), which would only grow every child's page tables.
 * Where the kernel refuses (no MADV_POPULATE_READ before Linux 5.14, a
 * security module refusing a writable code mapping) that mapping is
 * left as it was: it costs speed, never correctness.
 */
#include "common.h"
#include "mapshare.h"
#include "log.h"

#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#endif

#define MAPPINGS_MAX	512	/* more are left as they are */

struct mapping {
	uintptr_t	 start, end;
	int		 prot;
	unsigned long	 inode;
	unsigned	 dev_major, dev_minor;
};

/* one line of /proc/self/maps: a private mapping of a file, or 0 */
static int
parse(const char *line, struct mapping *m)
{
	char perm[5];
	unsigned long start, end, offset;
	int path = 0;

	if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perm,
	    &offset, &m->dev_major, &m->dev_minor, &m->inode, &path) < 7 ||
	    path == 0 || line[path] != '/' || m->inode == 0 || perm[3] != 'p')
		return 0;
	m->start = start;
	m->end = end;
	m->prot = (perm[0] == 'r' ? PROT_READ : 0) |
	    (perm[1] == 'w' ? PROT_WRITE : 0) | (perm[2] == 'x' ? PROT_EXEC : 0);
	return 1;
}

/* all of them read before any changes (a change splits and merges lines) */
static size_t
read_maps(struct mapping *all)
{
	char line[4096];
	size_t n = 0;
	FILE *maps = fopen("/proc/self/maps", "re");

	if (maps == NULL)
		return 0;
	while (n < MAPPINGS_MAX && fgets(line, sizeof(line), maps) != NULL)
		if (parse(line, &all[n]))
			n++;
	fclose(maps);
	return n;
}

/* does the file of M have code mapped: an ELF object, not a data file? */
static int
has_code(const struct mapping *m, const struct mapping *all, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((all[i].prot & PROT_EXEC) && all[i].inode == m->inode &&
		    all[i].dev_major == m->dev_major &&
		    all[i].dev_minor == m->dev_minor)
			return 1;
	return 0;
}

/* present, with an anonymous page so that fork() copies its entries */
static void
share(const struct mapping *m)
{
	volatile unsigned char *first = (unsigned char *)m->start;
	unsigned char byte;

	if (madvise((void *)m->start, m->end - m->start,
	    MADV_POPULATE_READ) < 0)
		return;
	/* PROT_EXEC stays: this very code may be in the mapping */
	if (mprotect((void *)m->start, m->end - m->start,
	    m->prot | PROT_WRITE) < 0)
		return;
	byte = *first;
	*first = byte;
	if (mprotect((void *)m->start, m->end - m->start, m->prot) < 0)
		fatal("mprotect: %s", strerror(errno));
}

void
mapshare_prepare(void)
{
	static struct mapping all[MAPPINGS_MAX];
	size_t i, n = read_maps(all);

	for (i = 0; i < n; i++)
		if (!(all[i].prot & PROT_WRITE) && has_code(&all[i], all, n))
			share(&all[i]);
}
