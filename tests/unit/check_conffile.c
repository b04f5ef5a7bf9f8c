/*
 * check_conffile.c: unit tests of src/conffile.c (and the section checks
 * of src/validate.c it calls), through whole configuration texts.
 *
 * Covers the grammar (comments, blanks, CR/LF, the UTF-8 byte order
 * mark, sections, inetd mode, include directories) and every error a
 * load can end with, compared line for line with what the logger kept.
 * "Configuration failed" is logged by src/stunnel.c, not by
 * conffile_load(), so it never appears here.
 */
#include "unit.h"
#include "log.h"

#include <fcntl.h>
#include <unistd.h>

/* the two endpoints every test section uses: nothing is bound or dialled */
#define ENDS	"accept = 127.0.0.1:0\nconnect = 127.0.0.1:1\n"
#define HEX16	"00112233445566778899aabbccddeeff"
#define P	unit_path()

static const char not_here[] = "Specified option name is not valid here";

/* TEXT must load; the log goes to *LOGP (freed by the caller) if wanted */
static struct global *
load_ok(const char *text, char **logp)
{
	struct global *g;
	char *log = unit_load(text, &g);

	ck_assert_msg(g != NULL, "configuration rejected:\n%s", log);
	if (logp != NULL)
		*logp = log;
	else
		free(log);
	return g;
}

/* TEXT must be rejected: its "[!]" lines, to be freed by the caller */
static char *
load_errors(const char *text)
{
	struct global *g;
	char *log = unit_load(text, &g), *errors;

	ck_assert_msg(g == NULL, "configuration accepted:\n%s", log);
	ck_assert_int_eq(unit_why(), LOAD_FAILED);
	errors = unit_log_errors(log);
	free(log);
	return errors;
}

/* the error lines of TEXT are exactly the formatted text */
#define ck_load_fails(text, ...) do {					\
	char *got_ = load_errors(text);					\
	char *want_ = unit_fmt(__VA_ARGS__);				\
	ck_assert_str_eq(got_, want_);					\
	free(got_);							\
	free(want_);							\
} while (0)

static struct service *
nth(struct global *g, int n)
{
	struct service *s = g->services;

	while (s != NULL && n-- > 0)
		s = s->next;
	ck_assert_ptr_nonnull(s);
	return s;
}

static int
count(const struct global *g)
{
	const struct service *s;
	int n = 0;

	for (s = g->services; s != NULL; s = s->next)
		n++;
	return n;
}

/* ---------------------------------------------------------------- */
/* grammar */

START_TEST(comments_and_blank_lines)
{
	struct global *g = load_ok(
	    "; a comment\n"
	    "# another one\n"
	    "\n"
	    "   \n"
	    "\t; an indented comment\n"
	    "client = yes\n"
	    "[a]\n"
	    "  accept = 127.0.0.1:0   \n"
	    "\tconnect\t=\t127.0.0.1:1\t\n"
	    "; a comment = with an equals sign\n", NULL);
	struct service *a = nth(g, 0);

	ck_assert_int_eq(count(g), 1);
	ck_assert_int_eq(g->inetd, 0);
	ck_assert_str_eq(a->name, "a");
	ck_assert_str_eq(a->file, P);
	ck_assert_int_eq(a->line, 7);
	ck_assert_uint_eq(a->accept.n, 1);
	ck_assert_str_eq(a->accept.v[0], "127.0.0.1:0");
	ck_assert_str_eq(a->connect.v[0], "127.0.0.1:1");
	ck_assert_int_eq(a->client, 1);
	options_free(g);
}
END_TEST

START_TEST(blanks_trimmed)
{
	struct global *g = load_ok(
	    "client=yes\n"
	    "connect=127.0.0.1:1\n"
	    "   ident   =   some user  \n"
	    "service\t=\tinetd name\t\n"
	    "execArgs =\n", NULL);

	ck_assert_int_eq(g->inetd, 1);
	ck_assert_str_eq(g->defaults->ident, "some user");
	ck_assert_str_eq(g->defaults->service_name, "inetd name");
	ck_assert_str_eq(g->defaults->exec_args, "");
	options_free(g);
}
END_TEST

START_TEST(value_with_equals_sign)
{
	struct global *g = load_ok(
	    "client = yes\n"
	    "connect = 127.0.0.1:1\n"
	    "protocolHeader = X-A: b=c\n", NULL);

	ck_assert_str_eq(g->defaults->protocol_header.v[0], "X-A: b=c");
	options_free(g);
}
END_TEST

START_TEST(crlf_line_endings)
{
	struct global *g = load_ok(
	    "; comment\r\n"
	    "client = yes\r\n"
	    "\r\n"
	    "[a]\r\n"
	    "accept = 127.0.0.1:0\r\n"
	    "connect = 127.0.0.1:1\r\n", NULL);
	struct service *a = nth(g, 0);

	ck_assert_str_eq(a->name, "a");
	ck_assert_int_eq(a->line, 4);
	ck_assert_str_eq(a->connect.v[0], "127.0.0.1:1");
	options_free(g);
}
END_TEST

START_TEST(crlf_error_line)
{
	ck_load_fails("client = yes\r\nbogus\r\n",
	    "[!] %s:2: \"bogus\": No '=' found\n", P);
}
END_TEST

START_TEST(no_final_newline)
{
	struct global *g = load_ok("client = yes\nconnect = 127.0.0.1:1", NULL);

	ck_assert_str_eq(g->defaults->connect.v[0], "127.0.0.1:1");
	options_free(g);
	ck_load_fails("client = yes\nbogus = 1",
	    "[!] %s:2: \"bogus = 1\": %s\n", P, not_here);
}
END_TEST

START_TEST(utf8_bom)
{
	char *log;
	struct global *g = load_ok("\xef\xbb\xbf" "client = yes\n"
	    "connect = 127.0.0.1:1\n", &log);

	ck_assert_int_eq(g->defaults->client, 1);
	ck_assert_log_has(log, "[.] UTF-8 byte order mark detected");
	ck_assert_log_lacks(log, "[.] UTF-8 byte order mark not detected");
	ck_assert_log_has(log, "[.] Reading configuration from file %s", P);
	free(log);
	options_free(g);
}
END_TEST

START_TEST(utf8_no_bom)
{
	char *log;
	struct global *g = load_ok("client = yes\nconnect = 127.0.0.1:1\n",
	    &log);

	ck_assert_log_has(log, "[.] UTF-8 byte order mark not detected");
	ck_assert_log_lacks(log, "[.] UTF-8 byte order mark detected");
	free(log);
	options_free(g);
}
END_TEST

START_TEST(utf8_bom_only_on_line_one)
{
	/* a BOM further down is just bytes of an option name */
	ck_load_fails("client = yes\n\xef\xbb\xbf" "connect = 127.0.0.1:1\n",
	    "[!] %s:2: \"\xef\xbb\xbf" "connect = 127.0.0.1:1\": %s\n", P,
	    not_here);
}
END_TEST

/*
 * The quoted line of an error on line 1 is the raw line, byte order
 * mark included, as stunnel prints it (Debian stunnel4 5.68:
 * `x.conf:1: "<EF BB BF>bogus = 1": Specified option name ...`).
 */
START_TEST(utf8_bom_error_keeps_raw_line)
{
	ck_load_fails("\xef\xbb\xbf" "bogus = 1\n",
	    "[!] %s:1: \"\xef\xbb\xbf" "bogus = 1\": %s\n", P, not_here);
}
END_TEST

START_TEST(sections_in_order)
{
	char *log;
	struct global *g = load_ok(
	    "client = yes\n"		/* 1 */
	    "[a]\n" ENDS		/* 2-4 */
	    "[ a b ]\n" ENDS		/* 5-7 */
	    "[]\n" ENDS			/* 8-10 */
	    "[a]\n" ENDS, &log);	/* 11-13 */

	ck_assert_int_eq(count(g), 4);
	ck_assert_str_eq(nth(g, 0)->name, "a");
	ck_assert_str_eq(nth(g, 1)->name, " a b ");
	ck_assert_str_eq(nth(g, 2)->name, "");
	ck_assert_str_eq(nth(g, 3)->name, "a");
	ck_assert_int_eq(nth(g, 0)->line, 2);
	ck_assert_int_eq(nth(g, 1)->line, 5);
	ck_assert_int_eq(nth(g, 2)->line, 8);
	ck_assert_int_eq(nth(g, 3)->line, 11);
	ck_assert_int_eq(g->inetd, 0);
	ck_assert_log_has(log, "[ ] Initializing service [ a b ]");
	ck_assert_log_has(log, "[ ] Initializing service []");
	/* accepted, as by stunnel, with a warning */
	ck_assert_log_has(log, "[:] %s:8: Empty service name", P);
	ck_assert_log_has(log, "[:] %s:11: Service [a] already defined at "
	    "%s:2", P, P);
	free(log);
	options_free(g);
}
END_TEST

START_TEST(section_name_with_brackets)
{
	struct global *g = load_ok(
	    "client = yes\n"
	    "[stray]]\n" ENDS
	    "[a]b]\n" ENDS
	    "  [ spaced ]  \n" ENDS, NULL);

	/* everything between the first '[' and the last ']' */
	ck_assert_str_eq(nth(g, 0)->name, "stray]");
	ck_assert_str_eq(nth(g, 1)->name, "a]b");
	ck_assert_str_eq(nth(g, 2)->name, " spaced ");
	options_free(g);
}
END_TEST

START_TEST(section_inherits_global_part)
{
	struct global *g = load_ok(
	    "client = yes\n"
	    "TIMEOUTidle = 60\n"
	    "connect = 127.0.0.1:1\n"
	    "[a]\n"
	    "accept = 127.0.0.1:0\n"
	    "[b]\n"
	    "accept = 127.0.0.1:0\n"
	    "TIMEOUTidle = 5\n", NULL);

	ck_assert_uint_eq(nth(g, 0)->timeout_idle, 60);
	ck_assert_uint_eq(nth(g, 1)->timeout_idle, 5);
	ck_assert_str_eq(nth(g, 1)->connect.v[0], "127.0.0.1:1");
	ck_assert_uint_eq(g->defaults->timeout_idle, 60);
	options_free(g);
}
END_TEST

START_TEST(inetd_mode)
{
	struct global *g = load_ok("client = yes\nconnect = 127.0.0.1:1\n",
	    NULL);

	ck_assert_int_eq(g->inetd, 1);
	ck_assert_ptr_null(g->services);
	ck_assert_uint_eq(g->defaults->connect.n, 1);
	options_free(g);
	g = load_ok("client = yes\nexec = /bin/cat\n", NULL);
	ck_assert_int_eq(g->inetd, 1);
	ck_assert_str_eq(g->defaults->exec, "/bin/cat");
	options_free(g);
}
END_TEST

START_TEST(server_with_certificate)
{
	struct global *g = load_ok("cert = @CERT@\n[tls]\n" ENDS, NULL);

	ck_assert_str_eq(nth(g, 0)->cert, unit_cert());
	ck_assert_int_eq(nth(g, 0)->client, 0);
	ck_assert_ptr_nonnull(nth(g, 0)->ctx);
	options_free(g);
}
END_TEST

START_TEST(sni_primary_first)
{
	struct global *g = load_ok(
	    "cert = @CERT@\n"
	    "[primary]\n" ENDS
	    "[secondary]\n"
	    "sni = primary:www.example.com\n"
	    "connect = 127.0.0.1:2\n", NULL);

	ck_assert_ptr_eq(nth(g, 1)->sni_primary, nth(g, 0));
	options_free(g);
}
END_TEST

START_TEST(comment_after_value_warns)
{
	char *log;
	struct global *g = load_ok(
	    "client = yes\n"
	    "connect = 127.0.0.1:1\n"
	    "ident = user # note\n", &log);

	/* no trailing comments in stunnel: it is all part of the value */
	ck_assert_str_eq(g->defaults->ident, "user # note");
	ck_assert_log_has(log, "[:] %s:3: Comments are not allowed after a "
	    "value: \"user # note\" is all part of the value", P);
	free(log);
	options_free(g);
}
END_TEST

/* ---------------------------------------------------------------- */
/* include = DIR */

START_TEST(include_in_name_order)
{
	char *dir = unit_mkdir("inc-order"), *sub, *f, *text, *log;
	struct global *g;

	free(unit_write("inc-order/20-b.conf", "[b]\n" ENDS));
	free(unit_write("inc-order/10-a.conf", "[a]\n" ENDS));
	sub = unit_mkdir("inc-order/30-dir");	/* not a file: skipped */
	f = unit_write("inc-order/30-dir/x.conf", "bogus\n");
	text = unit_fmt("client = yes\n[first]\n" ENDS "include = %s\n"
	    "[last]\n" ENDS, dir);
	g = load_ok(text, &log);
	ck_assert_int_eq(count(g), 4);
	ck_assert_str_eq(nth(g, 0)->name, "first");
	ck_assert_str_eq(nth(g, 1)->name, "a");
	ck_assert_str_eq(nth(g, 2)->name, "b");
	ck_assert_str_eq(nth(g, 3)->name, "last");
	ck_assert_int_eq(nth(g, 1)->line, 1);
	ck_assert_log_has(log, "[.] Reading configuration from file "
	    "%s/10-a.conf", dir);
	ck_assert_log_has(log, "[.] Reading configuration from file "
	    "%s/20-b.conf", dir);
	ck_assert(strstr(log, "10-a.conf") < strstr(log, "20-b.conf"));
	ck_assert_log_has(log, "[ ] \"%s/30-dir\" is not a file", dir);
	options_free(g);
	free(log);
	free(text);
	free(f);
	free(sub);
	free(dir);
}
END_TEST

START_TEST(include_in_global_part)
{
	char *dir = unit_mkdir("inc-global"), *text;
	struct global *g;

	free(unit_write("inc-global/b.conf", "[b]\n" ENDS));
	free(unit_write("inc-global/a.conf", "[a]\n" ENDS));
	text = unit_fmt("client = yes\ninclude = %s\n", dir);
	g = load_ok(text, NULL);
	ck_assert_int_eq(count(g), 2);
	ck_assert_str_eq(nth(g, 0)->name, "a");
	ck_assert_str_eq(nth(g, 1)->name, "b");
	free(text);
	text = unit_fmt("%s/a.conf", dir);
	ck_assert_str_eq(nth(g, 0)->file, text);
	options_free(g);
	free(text);
	free(dir);
}
END_TEST

START_TEST(include_continues_section)
{
	char *dir = unit_mkdir("inc-options"), *text;
	struct global *g;

	/* a fragment without a section adds to the section being read */
	free(unit_write("inc-options/t.conf", "TIMEOUTidle = 5\n"));
	text = unit_fmt("client = yes\n[x]\n" ENDS "include = %s\n", dir);
	g = load_ok(text, NULL);
	ck_assert_int_eq(count(g), 1);
	ck_assert_uint_eq(nth(g, 0)->timeout_idle, 5);
	ck_assert_uint_eq(g->defaults->timeout_idle, 43200);
	options_free(g);
	free(text);
	free(dir);
}
END_TEST

START_TEST(include_error_in_fragment)
{
	char *dir = unit_mkdir("inc-bad"), *text;

	free(unit_write("inc-bad/10-a.conf", "[a]\nbogus = 1\n"));
	free(unit_write("inc-bad/20-b.conf", "also bogus\n"));
	text = unit_fmt("client = yes\n\ninclude = %s\n", dir);
	ck_load_fails(text,
	    "[!] %s/10-a.conf:2: \"bogus = 1\": %s\n"
	    "[!] %s:3: \"include = %s\": Failed to include a file\n",
	    dir, not_here, P, dir);
	free(text);
	free(dir);
}
END_TEST

START_TEST(include_lines_counted_per_file)
{
	char *dir = unit_mkdir("inc-lines"), *text;

	free(unit_write("inc-lines/a.conf", "[a]\n" ENDS "\n\n\n\n\n"));
	text = unit_fmt("client = yes\n"
	    "include = %s\n"
	    "TIMEOUTidle = 600\n"
	    "TIMEOUTidle = forever\n", dir);
	ck_load_fails(text,
	    "[!] %s:4: \"TIMEOUTidle = forever\": Illegal idle timeout\n", P);
	free(text);
	free(dir);
}
END_TEST

START_TEST(include_missing_dir)
{
	ck_load_fails("client = yes\ninclude = @TMP@/no-such-dir\n",
	    "[!] scandir: No such file or directory (2)\n"
	    "[!] %s:2: \"include = %s/no-such-dir\": Failed to include "
	    "directory\n", P, unit_dir());
}
END_TEST

START_TEST(include_not_a_dir)
{
	ck_load_fails("client = yes\n[x]\n" ENDS "include = @CERT@\n",
	    "[!] scandir: Not a directory (20)\n"
	    "[!] %s:5: \"include = %s\": Failed to include directory\n",
	    P, unit_cert());
}
END_TEST

START_TEST(include_recursion_stops)
{
	char *dir = unit_mkdir("inc-loop"), *text, *errors, *first, *last;
	char *self = unit_fmt("include = %s\n", dir), *log;
	struct global *g;

	/* a fragment that includes its own directory */
	free(unit_write("inc-loop/a.conf", self));
	text = unit_fmt("client = yes\n%s", self);
	log = unit_load(text, &g);
	ck_assert_ptr_null(g);
	errors = unit_log_errors(log);
	first = unit_fmt("[!] %s/a.conf:1: \"include = %s\": Failed to include "
	    "directory\n", dir, dir);
	last = unit_fmt("[!] %s:2: \"include = %s\": Failed to include a "
	    "file\n", P, dir);
	ck_assert_msg(strncmp(errors, first, strlen(first)) == 0,
	    "first error is not %s\n%s", first, errors);
	ck_assert_msg(strlen(errors) >= strlen(last) &&
	    strcmp(errors + strlen(errors) - strlen(last), last) == 0,
	    "last error is not %s\n%s", last, errors);
	free(last);
	free(first);
	free(errors);
	free(log);
	free(text);
	free(self);
	free(dir);
}
END_TEST

/* ---------------------------------------------------------------- */
/* errors at a line */

START_TEST(error_unknown_option)
{
	ck_load_fails("bogus = 1\n",
	    "[!] %s:1: \"bogus = 1\": %s\n", P, not_here);
	ck_load_fails("client = yes\n[x]\n" ENDS "bogus = 1\n",
	    "[!] %s:5: \"bogus = 1\": %s\n", P, not_here);
	/* Windows-only options are unknown here */
	ck_load_fails("taskbar = no\n",
	    "[!] %s:1: \"taskbar = no\": %s\n", P, not_here);
	ck_load_fails(" = value\n", "[!] %s:1: \" = value\": %s\n", P, not_here);
}
END_TEST

START_TEST(error_global_option_in_section)
{
	ck_load_fails("client = yes\n[x]\nforeground = yes\n",
	    "[!] %s:3: \"foreground = yes\": %s\n", P, not_here);
	ck_load_fails("client = yes\n[x]\n" ENDS "  pid = /run/x.pid\n",
	    "[!] %s:5: \"  pid = /run/x.pid\": %s\n", P, not_here);
}
END_TEST

START_TEST(error_no_equals)
{
	ck_load_fails("client = yes\n\nfoo\n",
	    "[!] %s:3: \"foo\": No '=' found\n", P);
	/* the raw line is quoted, blanks included */
	ck_load_fails("client = yes\n  foo bar  \n",
	    "[!] %s:2: \"  foo bar  \": No '=' found\n", P);
}
END_TEST

START_TEST(error_bad_value)
{
	ck_load_fails("client = yes\n[x]\n" ENDS "TIMEOUTidle = forever\n",
	    "[!] %s:5: \"TIMEOUTidle = forever\": Illegal idle timeout\n", P);
	ck_load_fails("client = maybe\n",
	    "[!] %s:1: \"client = maybe\": The argument needs to be either "
	    "'yes' or 'no'\n", P);
	ck_load_fails("client = yes\n[x]\n" ENDS "sessionCacheSize =\n",
	    "[!] %s:5: \"sessionCacheSize =\": Illegal session cache size\n",
	    P);
	/* control characters are shown as '.' */
	ck_load_fails("client = yes\n\tTIMEOUTbusy=soon \n",
	    "[!] %s:2: \".TIMEOUTbusy=soon \": Illegal busy timeout\n", P);
	ck_load_fails("client = yes\n[x]\ndebug = local0.info\n",
	    "[!] %s:3: \"debug = local0.info\": Illegal debug level\n", P);
	ck_load_fails("debug = bogus.info\n",
	    "[!] %s:1: \"debug = bogus.info\": Illegal syslog facility\n", P);
}
END_TEST

START_TEST(error_ticket_secret_length)
{
	ck_load_fails("cert = @CERT@\n[x]\n" ENDS
	    "ticketKeySecret = " HEX16 "\n"
	    "ticketMacSecret = 0011223344556677\n",
	    "[!] ticketMacSecret value has 8 bytes instead of required 16 or "
	    "32 bytes\n"
	    "[!] %s:6: \"ticketMacSecret = 0011223344556677\": Failed to read "
	    "ticketMacSecret\n", P);
}
END_TEST

START_TEST(error_unclosed_section)
{
	ck_load_fails("client = yes\n[section\n" ENDS,
	    "[!] %s:2: \"[section\": No '=' found\n", P);
	ck_load_fails("client = yes\n[\n",
	    "[!] %s:2: \"[\": No '=' found\n", P);
}
END_TEST

START_TEST(error_stops_at_first)
{
	ck_load_fails("client = yes\nbogus1 = 1\nbogus2\n",
	    "[!] %s:2: \"bogus1 = 1\": %s\n", P, not_here);
}
END_TEST

/* ---------------------------------------------------------------- */
/* errors of a whole section */

START_TEST(error_endpoints)
{
	static const char msg[] =
	    "[!] Service [x]: Each service must define two endpoints\n";

	/* neither connect nor exec */
	ck_load_fails("client = yes\n[x]\naccept = 127.0.0.1:0\n", msg);
	/* no accept outside inetd mode */
	ck_load_fails("client = yes\n[x]\nconnect = 127.0.0.1:1\n", msg);
	ck_load_fails("client = yes\n[x]\nexec = /bin/cat\n", msg);
	/* three */
	ck_load_fails("client = yes\n[x]\n" ENDS "exec = /bin/cat\n", msg);
	ck_load_fails("client = yes\n[x]\n", msg);
	/* the error names the section, wherever the next one starts */
	ck_load_fails("client = yes\n[x]\naccept = 127.0.0.1:0\n[y]\n" ENDS,
	    msg);
}
END_TEST

START_TEST(error_inetd_accept)
{
	ck_load_fails("client = yes\naccept = 127.0.0.1:0\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Inetd mode: 'accept' option is only allowed in a "
	    "[section]\n");
}
END_TEST

START_TEST(error_inetd_endpoint)
{
	ck_load_fails("client = yes\n",
	    "[!] Inetd mode: Inetd mode must define one endpoint\n");
	ck_load_fails("client = yes\nexec = /bin/cat\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Inetd mode: Inetd mode must define one endpoint\n");
}
END_TEST

START_TEST(error_server_without_cert)
{
	ck_load_fails("[x]\n" ENDS,
	    "[!] Service [x]: TLS server needs a certificate\n");
	ck_load_fails("connect = 127.0.0.1:1\n",
	    "[!] Inetd mode: TLS server needs a certificate\n");
}
END_TEST

START_TEST(error_check_without_verify)
{
	static const char msg[] = "[!] Service [x]: Either \"verifyChain\" or "
	    "\"verifyPeer\" has to be enabled\n";

	ck_load_fails("client = yes\n[x]\n" ENDS "checkHost = example.com\n",
	    msg);
	ck_load_fails("client = yes\n[x]\n" ENDS "checkIP = 127.0.0.1\n", msg);
	ck_load_fails("client = yes\n[x]\n" ENDS "checkEmail = a@example.com\n",
	    msg);
}
END_TEST

START_TEST(error_ocsp_without_verify_chain)
{
	ck_load_fails("client = yes\n[x]\n" ENDS
	    "OCSP = http://127.0.0.1:1/\n",
	    "[!] Service [x]: \"verifyChain\" has to be enabled for OCSP "
	    "support\n");
}
END_TEST

START_TEST(error_redirect_in_client)
{
	ck_load_fails("client = yes\n[x]\n" ENDS "redirect = 127.0.0.1:2\n",
	    "[!] Service [x]: \"redirect\" is unsupported in client "
	    "sections\n");
}
END_TEST

START_TEST(error_ticket_secret_alone)
{
	static const char msg[] = "[!] Service [x]: \"ticketKeySecret\" and "
	    "\"ticketMacSecret\" must be set together\n";

	ck_load_fails("cert = @CERT@\n[x]\n" ENDS
	    "ticketKeySecret = " HEX16 "\n", msg);
	ck_load_fails("cert = @CERT@\n[x]\n" ENDS
	    "ticketMacSecret = " HEX16 "\n", msg);
}
END_TEST

START_TEST(error_protocol_side)
{
	static const char server[] = "[!] Service [x]: The configured "
	    "protocol is not supported in the server mode\n";

	ck_load_fails("cert = @CERT@\n[x]\n" ENDS "protocol = ldap\n", server);
	ck_load_fails("cert = @CERT@\n[x]\n" ENDS "protocol = nntp\n", server);
	ck_load_fails("client = yes\n[x]\n" ENDS "protocol = proxy\n",
	    "[!] Service [x]: The configured protocol is not supported in the "
	    "client mode\n");
}
END_TEST

START_TEST(error_protocol_unknown)
{
	ck_load_fails("client = yes\n[x]\n" ENDS "protocol = gopher\n",
	    "[!] Service [x]: Protocol not supported\n");
}
END_TEST

START_TEST(error_protocol_host)
{
	ck_load_fails("client = yes\n[x]\n" ENDS "protocol = connect\n",
	    "[!] Service [x]: protocolHost not specified\n");
}
END_TEST

START_TEST(error_relative_output)
{
	struct global *g;

	ck_load_fails("output = stunnel.log\nclient = yes\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Global options: Log file must include full path name\n");
	/* checked when the first section starts */
	ck_load_fails("output = stunnel.log\n[x]\nbogus\n",
	    "[!] Global options: Log file must include full path name\n");
	ck_load_fails("pid = stunnel.pid\nclient = yes\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Global options: Pid file must include full path name\n");
	/* fine in the foreground */
	g = load_ok("foreground = yes\noutput = stunnel.log\n"
	    "pid = stunnel.pid\nclient = yes\nconnect = 127.0.0.1:1\n", NULL);
	ck_assert_str_eq(g->output, "stunnel.log");
	options_free(g);
}
END_TEST

START_TEST(error_sni_primary_not_found)
{
	/* the primary must come first */
	ck_load_fails("cert = @CERT@\n"
	    "[secondary]\n"
	    "sni = primary:www.example.com\n"
	    "connect = 127.0.0.1:1\n"
	    "[primary]\n" ENDS,
	    "[!] Service [secondary]: SNI section name not found\n");
	ck_load_fails("cert = @CERT@\n"
	    "[p]\n" ENDS
	    "[s]\n"
	    "sni = nocolon\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Service [s]: Invalid SNI parameter format\n");
}
END_TEST

START_TEST(error_sni_primary_client)
{
	ck_load_fails("[p]\nclient = yes\n" ENDS
	    "[s]\ncert = @CERT@\nsni = p:www.example.com\n"
	    "connect = 127.0.0.1:1\n",
	    "[!] Service [s]: SNI primary service is a TLS client\n");
}
END_TEST

START_TEST(error_verify_without_ca)
{
	static const char msg[] = "[!] Service [x]: Either \"CAengine\", "
	    "\"CAfile\", \"CApath\" or \"CAstore\" has to be configured\n";

	ck_load_fails("cert = @CERT@\n[x]\n" ENDS "verifyChain = yes\n", msg);
	ck_load_fails("client = yes\n[x]\n" ENDS "verifyPeer = yes\n", msg);
	ck_load_fails("client = yes\n[x]\n" ENDS "verify = 2\n", msg);
}
END_TEST

START_TEST(error_redirect_needs)
{
	ck_load_fails("cert = @CERT@\n[x]\n" ENDS "redirect = 127.0.0.1:2\n",
	    "[!] Service [x]: Either \"verifyChain\" or \"verifyPeer\" has "
	    "to be enabled for \"redirect\" to work\n");
	ck_load_fails("cert = @CERT@\nCAfile = @CERT@\n[x]\n" ENDS
	    "verifyChain = yes\nredirect = 127.0.0.1:2\nprotocol = pgsql\n",
	    "[!] Service [x]: \"redirect\" is incompatible with the specified "
	    "protocol negotiation\n");
}
END_TEST

START_TEST(error_version_range)
{
	ck_load_fails("cert = @CERT@\n[x]\n" ENDS "sslVersionMin = TLSv1.3\n"
	    "sslVersionMax = TLSv1.2\n",
	    "[!] Service [x]: Invalid protocol version range\n");
}
END_TEST

/* ---------------------------------------------------------------- */
/* opening the file */

START_TEST(missing_file)
{
	enum load_failure why = LOAD_FAILED;
	struct global *g;
	char *path = unit_fmt("%s/no-such.conf", unit_dir()), *log;

	unit_log_discard();
	g = conffile_load(path, NULL, &why);
	log = unit_log_capture();
	ck_assert_ptr_null(g);
	ck_assert_int_eq(why, LOAD_BAD_NAME);
	ck_assert_log_has(log, "[!] Invalid configuration file name \"%s\"",
	    path);
	ck_assert_log_has(log, "[!] realpath: No such file or directory (2)");
	free(log);
	free(path);
}
END_TEST

START_TEST(bad_descriptor_number)
{
	enum load_failure why = LOAD_FAILED;
	char *log;

	unit_log_discard();
	ck_assert_ptr_null(conffile_load(NULL, "abc", &why));
	log = unit_log_capture();
	ck_assert_int_eq(why, LOAD_USAGE);
	ck_assert_log_has(log, "[.] Reading configuration from descriptor abc");
	ck_assert_log_has(log, "[!] Invalid file descriptor number");
	free(log);
}
END_TEST

/* read "-fd N": returns the loaded configuration, the log in *LOGP */
static struct global *
load_fd(const char *text, char **fdp, char **logp)
{
	enum load_failure why = LOAD_FAILED;
	char *path = unit_write(NULL, text);
	int fd = open(path, O_RDONLY);
	struct global *g;

	ck_assert_int_ge(fd, 0);
	*fdp = unit_fmt("%d", fd);
	unit_log_discard();
	g = conffile_load(NULL, *fdp, &why);
	*logp = unit_log_capture();
	close(fd);
	unlink(path);
	free(path);
	return g;
}

START_TEST(read_from_descriptor)
{
	char *fd, *log;
	struct global *g = load_fd("client = yes\nconnect = 127.0.0.1:1\n",
	    &fd, &log);

	ck_assert_msg(g != NULL, "rejected:\n%s", log);
	ck_assert_log_has(log, "[.] Reading configuration from descriptor %s",
	    fd);
	ck_assert_str_eq(g->defaults->connect.v[0], "127.0.0.1:1");
	options_free(g);
	free(fd);
	free(log);
}
END_TEST

/*
 * With "-fd N" stunnel names the file "N" in error lines
 * ("0:2: \"bogus\": No '=' found", Debian stunnel4 5.68 with -fd 0).
 */
START_TEST(descriptor_error_line)
{
	char *fd, *log, *errors, *want;
	struct global *g = load_fd("client = yes\nbogus\n", &fd, &log);

	ck_assert_ptr_null(g);
	errors = unit_log_errors(log);
	want = unit_fmt("[!] %s:2: \"bogus\": No '=' found\n", fd);
	ck_assert_str_eq(errors, want);
	free(want);
	free(errors);
	free(fd);
	free(log);
}
END_TEST

/* ---------------------------------------------------------------- */
/*
 * Which error a section with several problems reports first. stunnel
 * checks the option combinations (check* without verification, a
 * server without a certificate, the protocol, SNI) before it counts
 * endpoints; Debian stunnel4 5.68 gives the messages expected below.
 */

START_TEST(order_cert_before_endpoints)
{
	ck_load_fails("[x]\naccept = 127.0.0.1:0\n",
	    "[!] Service [x]: TLS server needs a certificate\n");
	ck_load_fails("connect = 127.0.0.1:1\naccept = 127.0.0.1:0\n",
	    "[!] Inetd mode: TLS server needs a certificate\n");
}
END_TEST

START_TEST(order_check_before_endpoints)
{
	ck_load_fails("client = yes\n[x]\ncheckHost = a.example\n",
	    "[!] Service [x]: Either \"verifyChain\" or \"verifyPeer\" has to "
	    "be enabled\n");
	ck_load_fails("client = yes\n[x]\nredirect = 127.0.0.1:2\n",
	    "[!] Service [x]: \"redirect\" is unsupported in client "
	    "sections\n");
}
END_TEST

START_TEST(order_cert_before_protocol)
{
	ck_load_fails("[x]\n" ENDS "protocol = ldap\n",
	    "[!] Service [x]: TLS server needs a certificate\n");
	ck_load_fails("client = yes\n[x]\n" ENDS "protocol = gopher\n"
	    "checkHost = a.example\n",
	    "[!] Service [x]: Either \"verifyChain\" or \"verifyPeer\" has to "
	    "be enabled\n");
}
END_TEST

static Suite *
conffile_suite(void)
{
	Suite *s = suite_create("conffile");
	TCase *tc;

	tc = tcase_create("grammar");
	tcase_add_test(tc, comments_and_blank_lines);
	tcase_add_test(tc, blanks_trimmed);
	tcase_add_test(tc, value_with_equals_sign);
	tcase_add_test(tc, crlf_line_endings);
	tcase_add_test(tc, crlf_error_line);
	tcase_add_test(tc, no_final_newline);
	tcase_add_test(tc, utf8_bom);
	tcase_add_test(tc, utf8_no_bom);
	tcase_add_test(tc, utf8_bom_only_on_line_one);
	tcase_add_test(tc, utf8_bom_error_keeps_raw_line);
	tcase_add_test(tc, sections_in_order);
	tcase_add_test(tc, section_name_with_brackets);
	tcase_add_test(tc, section_inherits_global_part);
	tcase_add_test(tc, inetd_mode);
	tcase_add_test(tc, server_with_certificate);
	tcase_add_test(tc, sni_primary_first);
	tcase_add_test(tc, comment_after_value_warns);
	suite_add_tcase(s, tc);

	tc = tcase_create("include");
	tcase_add_test(tc, include_in_name_order);
	tcase_add_test(tc, include_in_global_part);
	tcase_add_test(tc, include_continues_section);
	tcase_add_test(tc, include_error_in_fragment);
	tcase_add_test(tc, include_lines_counted_per_file);
	tcase_add_test(tc, include_missing_dir);
	tcase_add_test(tc, include_not_a_dir);
	tcase_add_test(tc, include_recursion_stops);
	suite_add_tcase(s, tc);

	tc = tcase_create("line_errors");
	tcase_add_test(tc, error_unknown_option);
	tcase_add_test(tc, error_global_option_in_section);
	tcase_add_test(tc, error_no_equals);
	tcase_add_test(tc, error_bad_value);
	tcase_add_test(tc, error_ticket_secret_length);
	tcase_add_test(tc, error_unclosed_section);
	tcase_add_test(tc, error_stops_at_first);
	suite_add_tcase(s, tc);

	tc = tcase_create("section_errors");
	tcase_add_test(tc, error_endpoints);
	tcase_add_test(tc, error_inetd_accept);
	tcase_add_test(tc, error_inetd_endpoint);
	tcase_add_test(tc, error_server_without_cert);
	tcase_add_test(tc, error_check_without_verify);
	tcase_add_test(tc, error_ocsp_without_verify_chain);
	tcase_add_test(tc, error_redirect_in_client);
	tcase_add_test(tc, error_ticket_secret_alone);
	tcase_add_test(tc, error_protocol_side);
	tcase_add_test(tc, error_protocol_unknown);
	tcase_add_test(tc, error_protocol_host);
	tcase_add_test(tc, error_relative_output);
	tcase_add_test(tc, error_sni_primary_not_found);
	tcase_add_test(tc, error_sni_primary_client);
	tcase_add_test(tc, error_verify_without_ca);
	tcase_add_test(tc, error_redirect_needs);
	tcase_add_test(tc, error_version_range);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, bad_descriptor_number);
	tcase_add_test(tc, read_from_descriptor);
	tcase_add_test(tc, descriptor_error_line);	
	suite_add_tcase(s, tc);

	tc = tcase_create("order");			
	tcase_add_test(tc, order_cert_before_endpoints);
	tcase_add_test(tc, order_check_before_endpoints);
	tcase_add_test(tc, order_cert_before_protocol);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	/* made once, before Check forks, so every test shares it */
	unit_cert();
	return unit_run(conffile_suite());
}
