/*
 * arena.c: the memory of a connection process.
 *
 * Owns the allocator behind OpenSSL (and the transfer buffers) once a
 * process is a connection's child.  Until arena_child() runs, every
 * request goes to malloc(); after it, blocks come from pages of the
 * child's own and the heap it shares with the parent is never written.
 * glibc's malloc would hand the child the parent's free chunks, and each
 * page written is copied: that copying was a third of the kernel's work
 * per connection and most of an idle connection's memory.
 *
 * Blocks the parent allocated are never freed by a child: they go when it
 * exits.  Blocks are of 52 size classes (16 bytes to 256 KiB, four per
 * doubling) carved from 1 MiB regions and kept on one free list per class;
 * larger ones get a mapping each.  No threads use this; never call it from
 * a signal handler.
 */
#include "common.h"
#include "arena.h"

#include <openssl/crypto.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGION_SIZE	(1024 * 1024)
#define REGIONS_MAX	256
#define NCLASSES	52
#define CLASS_MAX	((size_t)256 * 1024)
#define HDR		16		/* keeps blocks 16-byte aligned */
#define BIG		0xffffffffu	/* class of a block with its own mapping */
#define TRIM_MIN	((size_t)16 * 1024)

struct hdr {
	uint32_t	 cls;
	uint32_t	 pad;
	size_t		 len;	/* a big block's whole mapping */
};

/* a big block's mapping: this, then its header, then the block */
struct big {
	struct big	*next;
	struct big	*prev;
};

struct region {
	char	*base;
	char	*bump;
	char	*end;
};

static int active;
static struct region regions[REGIONS_MAX];
static size_t nregions;
static void *free_list[NCLASSES];
static struct big *bigs;

static unsigned
size_class(size_t n)
{
	unsigned d;

	if (n <= 128)
		return n == 0 ? 0 : (unsigned)((n + 15) / 16 - 1);
	d = 63 - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
	return 8 + (d - 7) * 4 +
	    (unsigned)((n - 1 - ((size_t)1 << d)) >> (d - 2));
}

static size_t
class_size(unsigned k)
{
	unsigned d;

	if (k < 8)
		return 16 * (size_t)(k + 1);
	d = 7 + (k - 8) / 4;
	return ((size_t)1 << d) + ((size_t)((k - 8) % 4 + 1) << (d - 2));
}

static void *
map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* is P one of the child's blocks (and not the parent's)? */
static int
ours(const void *p)
{
	const char *c = p;
	size_t i;

	const struct big *b;

	for (i = 0; i < nregions; i++)
		if (c >= regions[i].base && c < regions[i].end)
			return 1;
	for (b = bigs; b != NULL; b = b->next)
		if (c == (const char *)b + sizeof(*b) + HDR)
			return 1;
	return 0;
}

static void *
carve(size_t size)
{
	struct region *r = nregions > 0 ? &regions[nregions - 1] : NULL;
	char *p;

	if (r == NULL || (size_t)(r->end - r->bump) < size) {
		if (nregions == REGIONS_MAX)
			return NULL;
		r = &regions[nregions];
		if ((r->base = map(REGION_SIZE)) == NULL)
			return NULL;
		r->bump = r->base;
		r->end = r->base + REGION_SIZE;
		nregions++;
	}
	p = r->bump;
	r->bump += size;
	return p;
}

static void *
child_alloc(size_t n)
{
	struct hdr *h;
	unsigned k;

	if (n > CLASS_MAX) {
		size_t len = sizeof(struct big) + HDR + n;
		struct big *b;

		if (len < n || (b = map(len)) == NULL)
			return NULL;
		b->next = bigs;
		b->prev = NULL;
		if (bigs != NULL)
			bigs->prev = b;
		bigs = b;
		h = (struct hdr *)(b + 1);
		h->cls = BIG;
		h->len = len;
		return (char *)h + HDR;
	}
	k = size_class(n);
	if (free_list[k] != NULL) {
		void *p = free_list[k];

		free_list[k] = *(void **)p;
		return p;
	}
	if ((h = carve(HDR + class_size(k))) == NULL)
		return NULL;
	h->cls = k;
	return (char *)h + HDR;
}

static void
child_free(void *p)
{
	struct hdr *h;

	if (p == NULL || !ours(p))
		return;
	h = (struct hdr *)(void *)((char *)p - HDR);
	if (h->cls == BIG) {
		struct big *b = (struct big *)(void *)h - 1;

		if (b->prev != NULL)
			b->prev->next = b->next;
		else
			bigs = b->next;
		if (b->next != NULL)
			b->next->prev = b->prev;
		munmap(b, h->len);
		return;
	}
	*(void **)p = free_list[h->cls];
	free_list[h->cls] = p;
}

static size_t
usable(void *p)
{
	struct hdr *h;

	if (!ours(p))
		return malloc_usable_size(p);
	h = (struct hdr *)(void *)((char *)p - HDR);
	return h->cls == BIG ? h->len - HDR - sizeof(struct big) :
	    class_size(h->cls);
}

static void *
child_realloc(void *p, size_t n)
{
	size_t have;
	void *q;

	if (p == NULL)
		return child_alloc(n);
	if (n == 0) {
		child_free(p);
		return NULL;
	}
	have = usable(p);
	if (n <= have && ours(p))
		return p;
	if ((q = child_alloc(n)) == NULL)
		return NULL;
	memcpy(q, p, have < n ? have : n);
	child_free(p);
	return q;
}

void *
arena_alloc(size_t n)
{
	return active ? child_alloc(n) : malloc(n);
}

void
arena_free(void *p)
{
	if (active)
		child_free(p);
	else
		free(p);
}

void *
arena_realloc(void *p, size_t n)
{
	return active ? child_realloc(p, n) : realloc(p, n);
}

static void *
crypto_alloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return arena_alloc(n);
}

static void *
crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return arena_realloc(p, n);
}

static void
crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	arena_free(p);
}

int
arena_init(void)
{
	return CRYPTO_set_mem_functions(crypto_alloc, crypto_realloc,
	    crypto_free) ? 0 : -1;
}

void
arena_child(void)
{
	active = 1;
}

/*
 * Give back the pages of large free blocks (the handshake's buffers),
 * so that an idle connection holds only what it uses; the first page of
 * each stays, it carries the free list.
 */
void
arena_trim(void)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	unsigned k;
	void *p;

	for (k = size_class(TRIM_MIN); k < NCLASSES; k++)
		for (p = free_list[k]; p != NULL; p = *(void **)p) {
			uintptr_t from = ((uintptr_t)p + sizeof(void *) +
			    pagesize - 1) & ~(uintptr_t)(pagesize - 1);
			uintptr_t to = ((uintptr_t)p + class_size(k)) &
			    ~(uintptr_t)(pagesize - 1);

			if (to > from)
				madvise((void *)from, to - from, MADV_DONTNEED);
		}
}
