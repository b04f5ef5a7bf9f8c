/*
 * arena.c: where OpenSSL's memory lives, so that forks stay cheap.
 *
 * Owns the allocator behind OpenSSL (and the transfer buffers).  Every
 * page a connection process writes that it shares with the parent is
 * copied (a fault, 4 KiB more per connection), and glibc's malloc both
 * hands a child the parent's free chunks and scatters the parent's
 * long-lived objects over the whole heap.  So:
 *
 * - in the parent, the few kinds of objects that every connection writes
 *   (locks, the random generators, reference-counted algorithms, keys,
 *   certificates and contexts) are packed together in the "hot" pool,
 *   recognised by the OpenSSL source file that asks for them; the rest
 *   goes to malloc();
 * - in a child, once arena_child() has run, everything comes from a pool
 *   of the child's own, and blocks the parent allocated are never freed
 *   or written by the allocator (they go when the child exits).
 *
 * A pool hands out blocks of 52 size classes (16 bytes to 256 KiB, four
 * per doubling) carved from 1 MiB mappings and kept on one free list per
 * class; larger blocks get a mapping each.  No threads use this; never
 * call it from a signal handler.
 */
#include "common.h"
#include "arena.h"

#include <openssl/crypto.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
/* the pools hold pointers to malloc()'s blocks: the leak checker must see them */
#include <sanitizer/lsan_interface.h>
#define seen_by_leak_checker(p, len)	__lsan_register_root_region(p, len)
#define unseen_by_leak_checker(p, len)	__lsan_unregister_root_region(p, len)
#else
#define seen_by_leak_checker(p, len)	((void)(p), (void)(len))
#define unseen_by_leak_checker(p, len)	((void)(p), (void)(len))
#endif

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

struct pool {
	struct region	 regions[REGIONS_MAX];
	size_t		 nregions;
	void		*free_list[NCLASSES];
	struct big	*bigs;
};

static struct pool hot, child;
static int active;		/* this process is a connection's child */

/*
 * OpenSSL source files whose objects a connection writes to although the
 * parent made them: lock words, generator state, reference counts.
 */
static const char *const hot_sources[] = {
	"crypto/threads_pthread.c",
	"providers/implementations/rands/",
	"providers/implementations/ciphers/cipher_aes",
	"crypto/evp/evp_enc.c",
	"crypto/evp/digest.c",
	"crypto/evp/evp_rand.c",
	"crypto/evp/keymgmt_meth.c",
	"crypto/evp/exchange.c",
	"crypto/evp/signature.c",
	"crypto/evp/kdf_meth.c",
	"crypto/evp/mac_meth.c",
	"crypto/evp/p_lib.c",
	"crypto/x509/x509_cmp.c",
	"crypto/asn1/tasn_new.c",
	"ssl/ssl_lib.c",
	"ssl/ssl_cert.c",
	NULL
};

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

	if (p == MAP_FAILED)
		return NULL;
	seen_by_leak_checker(p, len);
	return p;
}

static struct hdr *
header(void *p)
{
	return (struct hdr *)(void *)((char *)p - HDR);
}

/* is P one of POOL's blocks? */
static int
owns(const struct pool *pool, const void *p)
{
	const char *c = p;
	const struct big *b;
	size_t i;

	for (i = 0; i < pool->nregions; i++)
		if (c >= pool->regions[i].base && c < pool->regions[i].end)
			return 1;
	for (b = pool->bigs; b != NULL; b = b->next)
		if (c == (const char *)b + sizeof(*b) + HDR)
			return 1;
	return 0;
}

static void *
carve(struct pool *pool, size_t size)
{
	struct region *r = pool->nregions > 0 ?
	    &pool->regions[pool->nregions - 1] : NULL;
	char *p;

	if (r == NULL || (size_t)(r->end - r->bump) < size) {
		if (pool->nregions == REGIONS_MAX)
			return NULL;
		r = &pool->regions[pool->nregions];
		if ((r->base = map(REGION_SIZE)) == NULL)
			return NULL;
		r->bump = r->base;
		r->end = r->base + REGION_SIZE;
		pool->nregions++;
	}
	p = r->bump;
	r->bump += size;
	return p;
}

static void *
big_alloc(struct pool *pool, size_t n)
{
	size_t len = sizeof(struct big) + HDR + n;
	struct big *b;
	struct hdr *h;

	if (len < n || (b = map(len)) == NULL)
		return NULL;
	b->next = pool->bigs;
	b->prev = NULL;
	if (pool->bigs != NULL)
		pool->bigs->prev = b;
	pool->bigs = b;
	h = (struct hdr *)(b + 1);
	h->cls = BIG;
	h->len = len;
	return (char *)h + HDR;
}

static void
big_free(struct pool *pool, struct hdr *h)
{
	struct big *b = (struct big *)(void *)h - 1;

	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		pool->bigs = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	unseen_by_leak_checker(b, h->len);
	munmap(b, h->len);
}

static void *
pool_alloc(struct pool *pool, size_t n)
{
	struct hdr *h;
	unsigned k;

	if (n > CLASS_MAX)
		return big_alloc(pool, n);
	k = size_class(n);
	if (pool->free_list[k] != NULL) {
		void *p = pool->free_list[k];

		pool->free_list[k] = *(void **)p;
		return p;
	}
	if ((h = carve(pool, HDR + class_size(k))) == NULL)
		return NULL;
	h->cls = k;
	return (char *)h + HDR;
}

/* P must be one of POOL's blocks */
static void
pool_free(struct pool *pool, void *p)
{
	struct hdr *h = header(p);

	if (h->cls == BIG) {
		big_free(pool, h);
		return;
	}
	*(void **)p = pool->free_list[h->cls];
	pool->free_list[h->cls] = p;
}

/* the pool P belongs to, or NULL for a block of malloc() */
static struct pool *
pool_of(const void *p)
{
	if (p == NULL)
		return NULL;
	if (active && owns(&child, p))
		return &child;
	return owns(&hot, p) ? &hot : NULL;
}

static size_t
usable(void *p, const struct pool *pool)
{
	struct hdr *h = header(p);

	if (pool == NULL)
		return malloc_usable_size(p);
	return h->cls == BIG ? h->len - HDR - sizeof(struct big) :
	    class_size(h->cls);
}

/* a block of malloc() or of the hot pool, in the parent */
static void *
parent_alloc(size_t n, const char *file)
{
	size_t i;

	if (file != NULL && n <= CLASS_MAX)
		for (i = 0; hot_sources[i] != NULL; i++)
			if (strstr(file, hot_sources[i]) != NULL)
				return pool_alloc(&hot, n);
	return malloc(n);
}

static void *
any_alloc(size_t n, const char *file)
{
	return active ? pool_alloc(&child, n) : parent_alloc(n, file);
}

static void
any_free(void *p)
{
	struct pool *pool = pool_of(p);

	if (pool != NULL && (pool == &child || !active))
		pool_free(pool, p);
	else if (pool == NULL && !active)
		free(p);
}

static void *
any_realloc(void *p, size_t n, const char *file)
{
	struct pool *pool = pool_of(p);
	size_t have;
	void *q;

	if (p == NULL)
		return any_alloc(n, file);
	if (n == 0) {
		any_free(p);
		return NULL;
	}
	if (pool == NULL && !active)
		return realloc(p, n);
	have = usable(p, pool);
	if (n <= have && (pool == &child || !active))
		return p;
	if ((q = any_alloc(n, file)) == NULL)
		return NULL;
	memcpy(q, p, have < n ? have : n);
	any_free(p);
	return q;
}

void *
arena_alloc(size_t n)
{
	return any_alloc(n, NULL);
}

void
arena_free(void *p)
{
	any_free(p);
}

static void *
crypto_alloc(size_t n, const char *file, int line)
{
	(void)line;
	return any_alloc(n, file);
}

static void *
crypto_realloc(void *p, size_t n, const char *file, int line)
{
	(void)line;
	return any_realloc(p, n, file);
}

static void
crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	any_free(p);
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
 * Give back the pages of the child's large free blocks (the handshake's
 * buffers), so that an idle connection holds only what it uses; the
 * first page of each stays, it carries the free list.
 */
void
arena_trim(void)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	unsigned k;
	void *p;

	for (k = size_class(TRIM_MIN); k < NCLASSES; k++)
		for (p = child.free_list[k]; p != NULL; p = *(void **)p) {
			uintptr_t from = ((uintptr_t)p + sizeof(void *) +
			    pagesize - 1) & ~(uintptr_t)(pagesize - 1);
			uintptr_t to = ((uintptr_t)p + class_size(k)) &
			    ~(uintptr_t)(pagesize - 1);

			if (to > from)
				madvise((void *)from, to - from, MADV_DONTNEED);
		}
}
