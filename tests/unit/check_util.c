/*
 * check_util.c: unit tests of src/util.c and options_parse_uint().
 *
 * Covers trimming, hexadecimal decoding (the ticket secrets), keyword
 * tables, string lists and the strict unsigned number parser that every
 * numeric option goes through. Pure functions only: nothing is logged.
 */
#include "unit.h"
#include "util.h"

/* str_trim */

START_TEST(trim_both_ends)
{
	char buf[] = " \t value with  inner space \t\r\n";
	char *t = str_trim(buf);

	ck_assert_str_eq(t, "value with  inner space");
	ck_assert_ptr_eq(t, buf + 3);
}
END_TEST

START_TEST(trim_nothing_to_do)
{
	char buf[] = "abc";

	ck_assert_ptr_eq(str_trim(buf), buf);
	ck_assert_str_eq(buf, "abc");
}
END_TEST

START_TEST(trim_empty_and_blank)
{
	char empty[] = "", blank[] = " \t\r\n\f\v ";

	ck_assert_str_eq(str_trim(empty), "");
	ck_assert_str_eq(str_trim(blank), "");
}
END_TEST

START_TEST(trim_keeps_other_characters)
{
	char buf[] = "  ;x=y#  ";

	ck_assert_str_eq(str_trim(buf), ";x=y#");
}
END_TEST

/* str_hex_decode */

START_TEST(hex_plain)
{
	static const unsigned char want[] = { 0x00, 0x11, 0xab, 0xCD, 0xef };
	unsigned char out[8];
	size_t len = 99;

	ck_assert_int_eq(str_hex_decode("0011abCDef", out, sizeof(out), &len),
	    0);
	ck_assert_uint_eq(len, 5);
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(hex_colons)
{
	static const unsigned char want[] = { 0x0a, 0x1b, 0x2c };
	unsigned char out[8];
	size_t len = 0;

	ck_assert_int_eq(str_hex_decode("0A:1b:2C", out, sizeof(out), &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(out, want, sizeof(want));
	/* colons may be anywhere between bytes, even doubled or at the ends */
	ck_assert_int_eq(str_hex_decode(":0A::1b2C:", out, sizeof(out), &len),
	    0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(hex_empty)
{
	unsigned char out[4];
	size_t len = 99;

	ck_assert_int_eq(str_hex_decode("", out, sizeof(out), &len), 0);
	ck_assert_uint_eq(len, 0);
	len = 99;
	ck_assert_int_eq(str_hex_decode(":", out, sizeof(out), &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* str_hex_encode: upper case, whole bytes only, always terminated */
START_TEST(hex_encode)
{
	static const unsigned char in[] = { 0x00, 0x1f, 0xa0, 0xff };
	char out[9], small[6];

	str_hex_encode(in, sizeof(in), out, sizeof(out));
	ck_assert_str_eq(out, "001FA0FF");
	str_hex_encode(in, sizeof(in), small, sizeof(small));
	ck_assert_str_eq(small, "001F");
	str_hex_encode(in, 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(hex_odd_length)
{
	unsigned char out[8];
	size_t len = 99;

	ck_assert_int_eq(str_hex_decode("abc", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("a", out, sizeof(out), &len), -1);
	/* a colon cannot split a byte */
	ck_assert_int_eq(str_hex_decode("0:A", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("0a:b", out, sizeof(out), &len), -1);
	ck_assert_uint_eq(len, 99);
}
END_TEST

START_TEST(hex_bad_digits)
{
	unsigned char out[8];
	size_t len = 99;

	ck_assert_int_eq(str_hex_decode("zz", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("0g", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("g0", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("00 11", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("0x11", out, sizeof(out), &len), -1);
	ck_assert_int_eq(str_hex_decode("00-11", out, sizeof(out), &len), -1);
	ck_assert_uint_eq(len, 99);
}
END_TEST

START_TEST(hex_too_long)
{
	unsigned char out[4] = { 0 };
	size_t len = 99;

	/* exactly max bytes fit */
	ck_assert_int_eq(str_hex_decode("01020304", out, 4, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(out[3], 4);
	/* one more does not, and nothing is written past max */
	len = 99;
	ck_assert_int_eq(str_hex_decode("0102030405", out, 3, &len), -1);
	ck_assert_uint_eq(len, 99);
	ck_assert_uint_eq(out[3], 4);
}
END_TEST

/* word tables */

static const struct word words[] = {
	{ "yes", 1 }, { "No", 0 }, { "Quiet", 2 }, { NULL, 0 }
};

START_TEST(word_case_insensitive)
{
	int v = -7;

	ck_assert_int_eq(word_lookup(words, "yes", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(word_lookup(words, "YES", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(word_lookup(words, "no", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(word_lookup(words, "qUIET", &v), 0);
	ck_assert_int_eq(v, 2);
}
END_TEST

START_TEST(word_unknown_leaves_value)
{
	int v = -7;

	ck_assert_int_eq(word_lookup(words, "maybe", &v), -1);
	ck_assert_int_eq(word_lookup(words, "", &v), -1);
	ck_assert_int_eq(word_lookup(words, "ye", &v), -1);
	ck_assert_int_eq(word_lookup(words, "yes ", &v), -1);
	ck_assert_int_eq(v, -7);
}
END_TEST

START_TEST(word_name_by_value)
{
	ck_assert_str_eq(word_name(words, 1), "yes");
	ck_assert_str_eq(word_name(words, 2), "Quiet");
	ck_assert_str_eq(word_name(words, 42), "?");
}
END_TEST

/* string lists */

START_TEST(strlist_add_in_order)
{
	struct strlist l = { NULL, 0 };
	char buf[8];

	strcpy(buf, "one");
	strlist_add(&l, buf);
	strcpy(buf, "two");		/* the list keeps its own copy */
	strlist_add(&l, buf);
	strlist_add(&l, "");
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0], "one");
	ck_assert_str_eq(l.v[1], "two");
	ck_assert_str_eq(l.v[2], "");
	ck_assert_ptr_ne(l.v[1], buf);
	strlist_free(&l);
	ck_assert_ptr_null(l.v);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(strlist_copy_independent)
{
	struct strlist a = { NULL, 0 }, b;

	strlist_add(&a, "x");
	strlist_add(&a, "y");
	memset(&b, 0x5a, sizeof(b));	/* copy must not read the old dst */
	strlist_copy(&b, &a);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_ptr_ne(b.v, a.v);
	ck_assert_ptr_ne(b.v[0], a.v[0]);
	strlist_add(&b, "z");
	ck_assert_uint_eq(a.n, 2);
	strlist_free(&a);
	/* freeing the source leaves the copy intact (ASan checks this) */
	ck_assert_str_eq(b.v[0], "x");
	ck_assert_str_eq(b.v[1], "y");
	ck_assert_str_eq(b.v[2], "z");
	strlist_free(&b);
}
END_TEST

START_TEST(strlist_copy_empty)
{
	struct strlist a = { NULL, 0 }, b;

	strlist_copy(&b, &a);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_ptr_null(b.v);
	strlist_free(&b);
}
END_TEST

START_TEST(strlist_free_twice)
{
	struct strlist l = { NULL, 0 };

	strlist_free(&l);
	strlist_add(&l, "a");
	strlist_free(&l);
	strlist_free(&l);
	ck_assert_uint_eq(l.n, 0);
	/* a freed list can be used again */
	strlist_add(&l, "b");
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], "b");
	strlist_free(&l);
}
END_TEST

/* options_parse_uint */

START_TEST(uint_good)
{
	unsigned long v = 99;

	ck_assert_int_eq(options_parse_uint("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(options_parse_uint("10", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(options_parse_uint("007", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(options_parse_uint("43200", 0, ULONG_MAX, &v), 0);
	ck_assert_uint_eq(v, 43200);
}
END_TEST

START_TEST(uint_empty)
{
	unsigned long v = 99;

	ck_assert_int_eq(options_parse_uint("", 0, 10, &v), -1);
	ck_assert_uint_eq(v, 99);
}
END_TEST

START_TEST(uint_sign)
{
	unsigned long v = 99;

	ck_assert_int_eq(options_parse_uint("-1", 0, ULONG_MAX, &v), -1);
	ck_assert_int_eq(options_parse_uint("-0", 0, ULONG_MAX, &v), -1);
	ck_assert_int_eq(options_parse_uint("+1", 0, ULONG_MAX, &v), -1);
	ck_assert_uint_eq(v, 99);
}
END_TEST

START_TEST(uint_junk)
{
	unsigned long v = 99;

	ck_assert_int_eq(options_parse_uint("10s", 0, 100, &v), -1);
	ck_assert_int_eq(options_parse_uint(" 1", 0, 100, &v), -1);
	ck_assert_int_eq(options_parse_uint("1 ", 0, 100, &v), -1);
	ck_assert_int_eq(options_parse_uint("0x10", 0, 100, &v), -1);
	ck_assert_int_eq(options_parse_uint("1.5", 0, 100, &v), -1);
	ck_assert_int_eq(options_parse_uint("1e2", 0, 1000, &v), -1);
	ck_assert_int_eq(options_parse_uint("abc", 0, 100, &v), -1);
	ck_assert_uint_eq(v, 99);
}
END_TEST

START_TEST(uint_overflow)
{
	unsigned long v = 99;
	char max[32], over[40];
	size_t len;

	snprintf(max, sizeof(max), "%lu", ULONG_MAX);
	ck_assert_int_eq(options_parse_uint(max, 0, ULONG_MAX, &v), 0);
	ck_assert(v == ULONG_MAX);
	/* ULONG_MAX + 1: the last digit of ULONG_MAX (2^n - 1) is 5, never 9 */
	strcpy(over, max);
	len = strlen(over);
	over[len - 1]++;
	v = 99;
	ck_assert_int_eq(options_parse_uint(over, 0, ULONG_MAX, &v), -1);
	/* ten times bigger */
	snprintf(over, sizeof(over), "%s0", max);
	ck_assert_int_eq(options_parse_uint(over, 0, ULONG_MAX, &v), -1);
	ck_assert_int_eq(options_parse_uint(
	    "99999999999999999999999999999999999999", 0, ULONG_MAX, &v), -1);
	ck_assert_uint_eq(v, 99);
}
END_TEST

START_TEST(uint_bounds)
{
	unsigned long v = 99;

	ck_assert_int_eq(options_parse_uint("1", 2, 5, &v), -1);
	ck_assert_int_eq(options_parse_uint("6", 2, 5, &v), -1);
	ck_assert_uint_eq(v, 99);
	ck_assert_int_eq(options_parse_uint("2", 2, 5, &v), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(options_parse_uint("5", 2, 5, &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(options_parse_uint("0", 0, 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(options_parse_uint("1", 0, 0, &v), -1);
}
END_TEST

/* the x* allocators used everywhere */

START_TEST(x_strings)
{
	char *s = xstrndup("abcdef", 3), *t = xasprintf("%s-%d", s, 42);

	ck_assert_str_eq(s, "abc");
	ck_assert_str_eq(t, "abc-42");
	free(s);
	free(t);
	s = xstrdup("");
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = tcase_create("str_trim");
	tcase_add_test(tc, trim_both_ends);
	tcase_add_test(tc, trim_nothing_to_do);
	tcase_add_test(tc, trim_empty_and_blank);
	tcase_add_test(tc, trim_keeps_other_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("str_hex_decode");
	tcase_add_test(tc, hex_plain);
	tcase_add_test(tc, hex_colons);
	tcase_add_test(tc, hex_empty);
	tcase_add_test(tc, hex_encode);
	tcase_add_test(tc, hex_odd_length);
	tcase_add_test(tc, hex_bad_digits);
	tcase_add_test(tc, hex_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("word");
	tcase_add_test(tc, word_case_insensitive);
	tcase_add_test(tc, word_unknown_leaves_value);
	tcase_add_test(tc, word_name_by_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("strlist");
	tcase_add_test(tc, strlist_add_in_order);
	tcase_add_test(tc, strlist_copy_independent);
	tcase_add_test(tc, strlist_copy_empty);
	tcase_add_test(tc, strlist_free_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("options_parse_uint");
	tcase_add_test(tc, uint_good);
	tcase_add_test(tc, uint_empty);
	tcase_add_test(tc, uint_sign);
	tcase_add_test(tc, uint_junk);
	tcase_add_test(tc, uint_overflow);
	tcase_add_test(tc, uint_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("alloc");
	tcase_add_test(tc, x_strings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(util_suite());
}
