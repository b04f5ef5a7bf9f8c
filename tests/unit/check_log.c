/*
 * check_log.c: unit tests of what src/log.c makes of a line's text.
 *
 * Every line goes through the same cleaning before any sink sees it:
 * trailing newlines removed, and every byte that is not printable UTF-8
 * (ASCII controls, DEL, C1 controls, invalid, overlong or surrogate
 * sequences, separators and bidirectional controls) turned into '.',
 * one '.' per byte. The lines are taken from the logger's pre-configuration
 * buffer, in the "[c] text" form.
 */
#include "unit.h"
#include "log.h"

/* what the log keeps of TEXT logged at level 6 */
static char *
logged(const char *text)
{
	unit_log_discard();
	log_msg(LOG_INFO, "%s", text);
	return unit_log_capture();
}

#define ck_assert_logged(in, out) do {					\
	char *got_ = logged(in);					\
	ck_assert_str_eq(got_, "[ ] " out "\n");			\
	free(got_);							\
} while (0)

START_TEST(printable_ascii_kept)
{
	ck_assert_logged("Service [a b] ~!@#$%^&*()_+{}|:<>?",
	    "Service [a b] ~!@#$%^&*()_+{}|:<>?");
}
END_TEST

START_TEST(trailing_newlines_removed)
{
	ck_assert_logged("line\r\n\n", "line");
}
END_TEST

START_TEST(ascii_controls_dotted)
{
	ck_assert_logged("a\nb\rc\td\x1b[31me\x7f" "f\x01g", "a.b.c.d.[31me.f.g");
}
END_TEST

START_TEST(valid_utf8_kept)
{
	/* e acute, the euro sign, an emoji: 2, 3 and 4 bytes */
	ck_assert_logged("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
}
END_TEST

START_TEST(invalid_bytes_dotted)
{
	/* 0xff, 0xfe, a lone continuation byte, a lead byte cut short */
	ck_assert_logged("a\xff" "b\xfe" "c\x80" "d\xc3" "e\xe2\x82" "f",
	    "a.b.c.d.e..f");
}
END_TEST

START_TEST(cut_at_the_end_dotted)
{
	ck_assert_logged("end\xf0\x9f\x94", "end...");
}
END_TEST

START_TEST(overlong_dotted)
{
	/* '/' as 2, 3 and 4 bytes; NUL as 2 bytes */
	ck_assert_logged("\xc0\xaf|\xe0\x80\xaf|\xf0\x80\x80\xaf|\xc0\x80",
	    "..|...|....|..");
}
END_TEST

START_TEST(surrogates_and_beyond_unicode_dotted)
{
	/* U+D800, U+DFFF, U+110000, a 5-byte form */
	ck_assert_logged("\xed\xa0\x80|\xed\xbf\xbf|\xf4\x90\x80\x80|"
	    "\xf8\x88\x80\x80\x80", "...|...|....|.....");
}
END_TEST

START_TEST(c1_controls_dotted)
{
	/* U+0080, U+009B (CSI), U+009F; U+00A0 is printable */
	ck_assert_logged("\xc2\x80|\xc2\x9b|\xc2\x9f|\xc2\xa0",
	    "..|..|..|\xc2\xa0");
}
END_TEST

START_TEST(separators_and_bidi_dotted)
{
	/* U+2028, U+2029, U+202E, U+2066; U+2027 and U+206A are kept */
	ck_assert_logged("\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x80\xae|"
	    "\xe2\x81\xa6|\xe2\x80\xa7|\xe2\x81\xaa",
	    "...|...|...|...|\xe2\x80\xa7|\xe2\x81\xaa");
}
END_TEST

START_TEST(largest_code_points_kept)
{
	/* U+FFFD, U+10FFFF */
	ck_assert_logged("\xef\xbf\xbd|\xf4\x8f\xbf\xbf",
	    "\xef\xbf\xbd|\xf4\x8f\xbf\xbf");
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("sanitize");

	tcase_add_test(tc, printable_ascii_kept);
	tcase_add_test(tc, trailing_newlines_removed);
	tcase_add_test(tc, ascii_controls_dotted);
	tcase_add_test(tc, valid_utf8_kept);
	tcase_add_test(tc, invalid_bytes_dotted);
	tcase_add_test(tc, cut_at_the_end_dotted);
	tcase_add_test(tc, overlong_dotted);
	tcase_add_test(tc, surrogates_and_beyond_unicode_dotted);
	tcase_add_test(tc, c1_controls_dotted);
	tcase_add_test(tc, separators_and_bidi_dotted);
	tcase_add_test(tc, largest_code_points_kept);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(log_suite());
}
