/*
 * check_arena.c: unit tests of src/arena.c, the connection process's
 * allocator.
 *
 * Reallocation is reached as OpenSSL reaches it, through OPENSSL_realloc().
 * Each test runs in a process of its own (Check's fork mode, forced
 * here), so arena_child() in one test does not leak into the next: that
 * is also how the daemon uses it, once per forked connection, and such a
 * test ends with _exit() as a connection process does.
 */
#include "unit.h"
#include "arena.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* is P inside this process's brk heap, where glibc's malloc lives? */
static int
in_brk_heap(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long a, b;

		if (strstr(line, "[heap]") != NULL &&
		    sscanf(line, "%lx-%lx", &a, &b) == 2 &&
		    (uintptr_t)p >= a && (uintptr_t)p < b)
			found = 1;
	}
	fclose(f);
	return found;
}

/*
 * A connection process ends with _exit(), never running OpenSSL's exit
 * clean-up: with frees of the parent's blocks ignored, that clean-up
 * would lose them all (and a leak checker would say so).
 */
static void
child_exit(void)
{
	_exit(0);
}

START_TEST(parent_uses_malloc)
{
	char *p = arena_alloc(100);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_ge(malloc_usable_size(p), 100);
	p = OPENSSL_realloc(p, 5000);
	ck_assert_uint_ge(malloc_usable_size(p), 5000);
	arena_free(p);
	arena_free(NULL);
}
END_TEST

START_TEST(parent_packs_objects_children_write)
{
	CRYPTO_RWLOCK *lock = CRYPTO_THREAD_lock_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	unsigned char before[32];
	void *plain = OPENSSL_malloc(40);	/* from this file: not hot */

	ck_assert_ptr_nonnull(lock);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(plain);
	ck_assert(!in_brk_heap(lock));
	ck_assert(!in_brk_heap(ctx));
	/* malloc()'s own (glibc or a sanitizer would object otherwise) */
	ck_assert_uint_ge(malloc_usable_size(plain), 40);
	memcpy(before, ctx, sizeof(before));
	arena_child();
	/* the child's last reference goes: the parent's memory stays */
	SSL_CTX_free(ctx);
	ck_assert_mem_eq(ctx, before, sizeof(before));
	OPENSSL_free(plain);
	CRYPTO_THREAD_lock_free(lock);
	child_exit();
}
END_TEST

START_TEST(child_blocks_are_separate_and_aligned)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 128, 129, 160,
	    161, 1000, 4096, 16384, 17000, 65536, 262144, 262145, 1048576 };
	char *p[sizeof(sizes) / sizeof(sizes[0])];
	size_t i, j;

	arena_child();
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p[i] = arena_alloc(sizes[i]);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
		ck_assert(!in_brk_heap(p[i]));
		memset(p[i], (int)i + 1, sizes[i]);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizes[i] && p[i][j] == (char)(i + 1); j++)
			continue;
		ck_assert_msg(j == sizes[i], "block %zu overwritten at %zu", i,
		    j);
		arena_free(p[i]);
	}
	child_exit();
}
END_TEST

START_TEST(child_reuses_freed_blocks)
{
	void *a, *b;

	arena_child();
	a = arena_alloc(200);
	arena_free(a);
	b = arena_alloc(210);	/* same class as 200: 224 bytes */
	ck_assert_ptr_eq(a, b);
	arena_free(b);
	b = arena_alloc(1000);
	ck_assert_ptr_ne(a, b);
	child_exit();
}
END_TEST

START_TEST(child_leaves_parent_blocks_alone)
{
	unsigned char *parent = malloc(64);
	unsigned char copy[64];
	size_t i;

	ck_assert_ptr_nonnull(parent);
	for (i = 0; i < sizeof(copy); i++)
		parent[i] = copy[i] = (unsigned char)(i * 7);
	arena_child();
	/* glibc's free() would write its list pointers into the block */
	arena_free(parent);
	ck_assert_mem_eq(parent, copy, sizeof(copy));
	child_exit();
}
END_TEST

START_TEST(child_realloc_moves_parent_blocks)
{
	char *parent = malloc(32), *moved;

	ck_assert_ptr_nonnull(parent);
	strcpy(parent, "made by the parent");
	arena_child();
	moved = OPENSSL_realloc(parent, 4000);
	ck_assert_ptr_nonnull(moved);
	ck_assert_ptr_ne(moved, parent);
	ck_assert(!in_brk_heap(moved));
	ck_assert_str_eq(moved, "made by the parent");
	ck_assert_str_eq(parent, "made by the parent");
	arena_free(moved);
	child_exit();
}
END_TEST

START_TEST(child_realloc_in_place_and_across_classes)
{
	char *p, *q;

	arena_child();
	ck_assert_ptr_null(OPENSSL_realloc(arena_alloc(10), 0));
	p = OPENSSL_realloc(NULL, 40);	/* class of 48 bytes */
	ck_assert_ptr_nonnull(p);
	memcpy(p, "0123456789", 11);
	ck_assert_ptr_eq(OPENSSL_realloc(p, 48), p);
	ck_assert_ptr_eq(OPENSSL_realloc(p, 20), p);
	q = OPENSSL_realloc(p, 300000);	/* a block of its own mapping */
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(q, "0123456789");
	memset(q + 100, 'x', 299900);
	p = OPENSSL_realloc(q, 600000);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "0123456789");
	ck_assert_int_eq(p[299999], 'x');
	arena_free(p);
	child_exit();
}
END_TEST

START_TEST(child_huge_request_fails_cleanly)
{
	arena_child();
	ck_assert_ptr_null(arena_alloc(SIZE_MAX - 8));
	ck_assert_ptr_null(OPENSSL_realloc(NULL, SIZE_MAX));
	child_exit();
}
END_TEST

START_TEST(trim_returns_pages_of_free_blocks)
{
	long pagesize = sysconf(_SC_PAGESIZE);
	size_t len = 64 * 1024;
	unsigned char *p, vec[16];
	uintptr_t first;

	arena_child();
	p = arena_alloc(len);
	ck_assert_ptr_nonnull(p);
	memset(p, 'x', len);
	arena_free(p);
	arena_trim();
	first = ((uintptr_t)p + 2 * pagesize - 1) & ~(uintptr_t)(pagesize - 1);
	ck_assert_int_eq(mincore((void *)first, 8 * (size_t)pagesize, vec), 0);
	for (size_t i = 0; i < 8; i++)
		ck_assert_msg((vec[i] & 1) == 0, "page %zu still resident", i);
	/* the block is still on its free list and usable */
	ck_assert_ptr_eq(arena_alloc(len), p);
	memset(p, 'y', len);
	ck_assert_int_eq(p[len - 1], 'y');
	child_exit();
}
END_TEST

START_TEST(openssl_allocates_from_the_arena)
{
	static const unsigned char abc_sha256[] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	SSL_CTX *ctx;
	SSL *ssl;
	void *p;

	arena_child();
	p = OPENSSL_malloc(100);
	ck_assert_ptr_nonnull(p);
	ck_assert(!in_brk_heap(p));
	OPENSSL_free(p);
	ck_assert_int_eq(EVP_Digest("abc", 3, md, &mdlen, EVP_sha256(), NULL),
	    1);
	ck_assert_uint_eq(mdlen, sizeof(abc_sha256));
	ck_assert_mem_eq(md, abc_sha256, sizeof(abc_sha256));
	ctx = SSL_CTX_new(TLS_server_method());
	ck_assert_ptr_nonnull(ctx);
	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	ck_assert(!in_brk_heap(ssl));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	child_exit();
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc;

	tc = tcase_create("parent");
	tcase_add_test(tc, parent_uses_malloc);
	tcase_add_exit_test(tc, parent_packs_objects_children_write, 0);
	suite_add_tcase(s, tc);

	tc = tcase_create("child");
	tcase_add_exit_test(tc, child_blocks_are_separate_and_aligned, 0);
	tcase_add_exit_test(tc, child_reuses_freed_blocks, 0);
	tcase_add_exit_test(tc, child_leaves_parent_blocks_alone, 0);
	tcase_add_exit_test(tc, child_realloc_moves_parent_blocks, 0);
	tcase_add_exit_test(tc, child_realloc_in_place_and_across_classes, 0);
	tcase_add_exit_test(tc, child_huge_request_fails_cleanly, 0);
	tcase_add_exit_test(tc, trim_returns_pages_of_free_blocks, 0);
	tcase_add_exit_test(tc, openssl_allocates_from_the_arena, 0);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	/* as the daemon does, before OpenSSL allocates anything */
	if (arena_init() != 0) {
		fprintf(stderr, "arena_init: OpenSSL allocated before it\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(arena_suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
