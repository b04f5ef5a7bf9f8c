/*
 * mapshare.c: the parent's code and read-only data, handed to every
 * connection process by fork() as cheaply as the machine allows.
 *
 * A child pays for each page of its address space it touches for the
 * first time: a page fault where fork() did not copy the page-table
 * entry (about 75 of a child's 140 faults were code and read-only
 * data), and on a virtual machine with shadow page tables an exit to
 * the hypervisor even where it did (measured here: 4.5 us for each page
 * a child first reads, 1.1 us where the page is part of a 2 MiB huge
 * page). So, in the parent, at start (before chroot, while /proc is
 * there) and after each reload that mapped new code (an engine or a
 * provider), for the private mappings of every file
 * that has code mapped (ELF objects; never data files such as locale
 * archives, nor the session cache):
 *
 * - each 2 MiB-aligned stretch wholly made of such read-only mappings
 *   (most of libcrypto) is copied into a transparent huge page and moved
 *   in place (mremap), executable and read-only: one page-table entry
 *   that fork() copies, one huge page for the hypervisor. Its read-only
 *   data becomes executable with its code, as one mapping has one
 *   protection; /proc/PID/maps shows it as anonymous memory (debuggers
 *   find the library through the dynamic linker's list, not the maps);
 * - every other such mapping is made present (MADV_POPULATE_READ) and
 *   given an anonymous page, by writing one byte back in place while the
 *   mapping is briefly writable: fork() copies the page tables of a
 *   mapping with anonymous pages (an anon_vma), and only of those.
 *
 * Must never change what a byte of code or data says, nor leave a
 * mapping writable. Where the kernel refuses (no MADV_POPULATE_READ
 * before Linux 5.14, transparent huge pages off, a security module
 * refusing a writable code mapping) that mapping is left as it was:
 * it costs speed, never correctness.
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
#define HUGE_SIZE	((uintptr_t)2 << 20)
#define THP_SETTING	"/sys/kernel/mm/transparent_hugepage/enabled"

struct mapping {
	uintptr_t	 start, end;
	int		 prot;
	unsigned long	 inode;
	unsigned	 dev_major, dev_minor;
};

static struct mapping all[MAPPINGS_MAX];
static size_t nall;

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

/* all of them, read before any change (a change splits and merges lines) */
static void
read_maps(void)
{
	char line[4096];
	FILE *maps = fopen("/proc/self/maps", "re");

	nall = 0;
	if (maps == NULL)
		return;
	while (nall < MAPPINGS_MAX && fgets(line, sizeof(line), maps) != NULL)
		if (parse(line, &all[nall]))
			nall++;
	fclose(maps);
}

/* read-only, of a file that has code mapped: an ELF object, not data */
static int
shareable(const struct mapping *m)
{
	size_t i;

	if (m->prot & PROT_WRITE)
		return 0;
	for (i = 0; i < nall; i++)
		if ((all[i].prot & PROT_EXEC) && all[i].inode == m->inode &&
		    all[i].dev_major == m->dev_major &&
		    all[i].dev_minor == m->dev_minor)
			return 1;
	return 0;
}

static int
huge_pages_possible(void)
{
	char setting[128] = "";
	FILE *f = fopen(THP_SETTING, "re");

	if (f == NULL)
		return 0;
	if (fgets(setting, sizeof(setting), f) == NULL)
		setting[0] = '\0';
	fclose(f);
	return strstr(setting, "[always]") != NULL ||
	    strstr(setting, "[madvise]") != NULL;
}

/*
 * Is [A, A + 2 MiB) wholly covered by shareable mappings (the list is
 * sorted)? *PROT gets the union of their protections.
 */
static int
whole_chunk(uintptr_t a, int *prot)
{
	uintptr_t at = a;
	size_t i;

	*prot = 0;
	for (i = 0; i < nall && at < a + HUGE_SIZE; i++) {
		if (all[i].end <= at)
			continue;
		if (all[i].start > at || !shareable(&all[i]))
			return 0;
		*prot |= all[i].prot;
		at = all[i].end;
	}
	return at >= a + HUGE_SIZE;
}

/* the chunk at A copied into a huge page that takes its place */
static void
make_huge(uintptr_t a, int prot)
{
	char *raw, *copy;

	/* a mapping cut short of its file would fault: leave it */
	if (madvise((void *)a, HUGE_SIZE, MADV_POPULATE_READ) < 0)
		return;
	raw = mmap(NULL, 2 * HUGE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return;
	copy = (char *)(((uintptr_t)raw + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	if (madvise(copy, HUGE_SIZE, MADV_HUGEPAGE) == 0) {
		memcpy(copy, (void *)a, HUGE_SIZE);
		if (mprotect(copy, HUGE_SIZE, prot) == 0 &&
		    mremap(copy, HUGE_SIZE, HUGE_SIZE,
		    MREMAP_MAYMOVE | MREMAP_FIXED, (void *)a) != MAP_FAILED) {
			/* the copy is in place: what is left of RAW goes */
			if (copy > raw)
				munmap(raw, (size_t)(copy - raw));
			munmap(copy + HUGE_SIZE,
			    (size_t)(raw + HUGE_SIZE - copy));
			return;
		}
	}
	munmap(raw, 2 * HUGE_SIZE);
}

static void
share_huge(void)
{
	uintptr_t a, last = 0;
	size_t i;
	int prot;

	for (i = 0; i < nall; i++) {
		if (!(all[i].prot & PROT_EXEC) || !shareable(&all[i]))
			continue;
		for (a = all[i].start & ~(HUGE_SIZE - 1); a < all[i].end;
		    a += HUGE_SIZE)
			if (a != last && whole_chunk(a, &prot)) {
				make_huge(a, prot);
				last = a;
			}
	}
}

/* present, with an anonymous page so that fork() copies its entries */
static void
share_small(const struct mapping *m)
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

/* what the code mappings are: a reload that loaded nothing new skips */
static unsigned long
code_signature(void)
{
	unsigned long sig = 0;
	size_t i;

	for (i = 0; i < nall; i++)
		if (all[i].prot & PROT_EXEC)
			sig = sig * 31 + all[i].inode + all[i].start;
	return sig + nall;
}

void
mapshare_prepare(void)
{
	static unsigned long done;
	size_t i;

	read_maps();
	if (done != 0 && code_signature() == done)
		return;
	if (huge_pages_possible()) {
		share_huge();
		read_maps();	/* the huge pages are no longer the file's */
	}
	/* share_small() changes no mapping's extent: the list stays true */
	done = code_signature();
	for (i = 0; i < nall; i++)
		if (shareable(&all[i]))
			share_small(&all[i]);
}
