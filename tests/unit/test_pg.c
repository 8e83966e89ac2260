/* Unit tests: the libpq helpers that need no server (the conninfo builder and
 * its quoting rule, messages on one line, what the accessors make of no
 * result or no connection), and how a dsn's password is taken apart and
 * scrubbed from messages. */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

static void want_value(const char *val, const char *want)
{
	struct strbuf b = {0};
	pg_conninfo_add(&b, "k", val);
	char *s = sb_steal(&b);
	assert_string_equal(s, want);
	free(s);
}

static void test_conninfo_quoting(void **state)
{
	(void)state;
	want_value("plain", "k=plain");
	want_value("/tmp/sluice-1/run", "k=/tmp/sluice-1/run");
	want_value("", "k=''");
	want_value("a b", "k='a b'");
	want_value("tab\there", "k='tab\there'");
	want_value("new\nline", "k='new\nline'");
	want_value("it's", "k='it\\'s'");
	want_value("back\\slash", "k='back\\\\slash'");
	want_value("p w'd\\", "k='p w\\'d\\\\'");
}

static void test_conninfo_pairs(void **state)
{
	(void)state;
	const char *const keys[] = {"host", "dbname", "user", "connect_timeout", NULL};
	const char *const vals[] = {"/my dir/run", "sluice", "sluice", NULL, NULL};
	char *s = pg_conninfo(keys, vals);
	assert_string_equal(s, "host='/my dir/run' dbname=sluice user=sluice");
	free(s);
	const char *const none[] = {NULL};
	s = pg_conninfo(none, none);
	assert_string_equal(s, "");
	free(s);
}

static void test_oneline(void **state)
{
	(void)state;
	char buf[128];
	assert_string_equal(pg_oneline("ERROR:  boom\nDETAIL:  why\n\tHINT:  fix\n", buf, sizeof buf),
			    "ERROR:  boom DETAIL:  why HINT:  fix");
	assert_string_equal(pg_oneline("no newline", buf, sizeof buf), "no newline");
	assert_string_equal(pg_oneline(NULL, buf, sizeof buf), "");
	assert_string_equal(pg_oneline("long message", buf, 5), "long");
}

/* A failed pg_exec returns NULL: the accessors read it as empty, as libpq
 * does, so a caller's loop over rows simply does nothing. */
static void test_no_result(void **state)
{
	(void)state;
	assert_int_equal(pg_rows(NULL), 0);
	assert_true(pg_cmd_rows(NULL) == 0);
	assert_null(pg_error_field(NULL, PG_FIELD_SQLSTATE));
	assert_null(pg_error_field(NULL, PG_FIELD_COLUMN));
	pg_clear(NULL);
	assert_true(pg_broken(NULL));
	assert_int_equal(pg_socket(NULL), -1);
	char buf[64];
	assert_string_equal(pg_errmsg(NULL, buf, sizeof buf), "no connection");
}

/* want DSN split into WANT_DSN and WANT_PW (NULL: no password) */
static void want_split(const char *dsn, const char *want_dsn, const char *want_pw)
{
	struct pg_dsn d;
	pg_dsn_split(dsn, &d);
	assert_string_equal(d.dsn, want_dsn);
	if (want_pw)
		assert_string_equal(d.password, want_pw);
	else
		assert_null(d.password);
	/* the dsn libpq gets holds no piece of the password */
	if (want_pw && strlen(want_pw) >= 4) {
		for (size_t i = 0; i + 4 <= strlen(want_pw); i++) {
			char frag[5];
			memcpy(frag, want_pw + i, 4);
			frag[4] = '\0';
			assert_null(strstr(d.dsn, frag));
		}
	}
	pg_dsn_free(&d);
}

static void test_dsn_split_url(void **state)
{
	(void)state;
	want_split("postgresql://etl:XYZZY/pw6@127.0.0.1:1/wh", "postgresql://etl@127.0.0.1:1/wh", "XYZZY/pw6");
	want_split("postgresql://etl:a/b@c:d?e#f g% h@db.example.com:5432/wh?sslmode=disable",
		   "postgresql://etl@db.example.com:5432/wh?sslmode=disable", "a/b@c:d?e#f g% h");
	want_split("postgres://etl:a%2Fb%40c%3Ad%3Fe%23f%20g%25%20h@h1,h2:6/wh", "postgres://etl@h1,h2:6/wh",
		   "a/b@c:d?e#f g% h");
	want_split("postgresql://etl@127.0.0.1/wh", "postgresql://etl@127.0.0.1/wh", NULL);
	want_split("postgresql://127.0.0.1/wh", "postgresql://127.0.0.1/wh", NULL);
	want_split("postgresql:///wh?host=/tmp", "postgresql:///wh?host=/tmp", NULL);
	want_split("postgresql://:secret@127.0.0.1/wh", "postgresql://127.0.0.1/wh", "secret");
	want_split("postgresql://etl@127.0.0.1/wh?password=p%26w%3D1&sslmode=disable",
		   "postgresql://etl@127.0.0.1/wh?sslmode=disable", "p&w=1");
	want_split("postgresql://etl@127.0.0.1/wh?sslmode=disable&password=pw", "postgresql://etl@127.0.0.1/wh?sslmode=disable",
		   "pw");
	want_split("postgresql://e%20t:p@h/d", "postgresql://e%20t@h/d", "p");
}

static void test_dsn_split_conninfo(void **state)
{
	(void)state;
	want_split("host=127.0.0.1 port=1 password='a/b@c:d?e#f g% h\\'q' dbname=wh",
		   "host=127.0.0.1 port=1 dbname=wh", "a/b@c:d?e#f g% h'q");
	want_split("host = h  password = XYZZYpw", "host=h", "XYZZYpw");
	want_split("host='/my dir' user=u", "host='/my dir' user=u", NULL);
	want_split("", "", NULL);
	/* what libpq would refuse goes on as it is, with no password to give */
	struct pg_dsn d;
	pg_dsn_split("host=h password=two words", &d);
	assert_string_equal(d.dsn, "host=h password=two words");
	char *m = pg_scrub("missing \"=\" after \"words\" in connection info string", (const char *const *)d.forms,
			   d.n_forms);
	assert_null(strstr(m, "words"));
	free(m);
	pg_dsn_free(&d);
}

static void want_scrub(const char *msg, const char *secret, const char *want)
{
	const char *const s[] = {secret};
	char *got = pg_scrub(msg, s, 1);
	assert_string_equal(got, want);
	free(got);
}

static void test_scrub(void **state)
{
	(void)state;
	want_scrub("invalid integer value \"XYZZY\" for connection option \"port\"", "XYZZY/pw6",
		   "invalid integer value \"***\" for connection option \"port\"");
	want_scrub("could not translate host name \"ZY_pw12@127.0.0.1\" to address", "XYZZY_pw12",
		   "could not translate host name \"***@127.0.0.1\" to address");
	want_scrub("no secret here", "XYZZY", "no secret here");
	want_scrub("XYZ and XY", "XYZ", "*** and XY");
	want_scrub("", "XYZZY", "");
	want_scrub("pre-sEcReT-post", "sEcReT", "pre-***-post");
	/* the longest piece wins, whichever secret it is from */
	const char *const two[] = {"abcd", "zabcdefg"};
	char *got = pg_scrub("xxabcdefgxx", two, 2);
	assert_string_equal(got, "xx***xx");
	free(got);
	/* every form pg_dsn_split knows of */
	struct pg_dsn d;
	pg_dsn_split("postgresql://etl:a%2Fb%40cd@h/wh", &d);
	got = pg_scrub("a/b@cd a%2Fb%40cd a%2F", (const char *const *)d.forms, d.n_forms);
	assert_string_equal(got, "*** *** ***");
	free(got);
	pg_dsn_free(&d);
}

static void test_url_at(void **state)
{
	(void)state;
	const char *u = "postgresql://u:p@w/x@h:5/db";
	assert_ptr_equal(pg_url_at(u), strrchr(u, '@'));
	assert_null(pg_url_at("postgresql://h/db"));
	assert_null(pg_url_at("no url"));
	const char *v = "redis://:a@b@127.0.0.1:6379/0";
	assert_ptr_equal(pg_url_at(v), strrchr(v, '@'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_quoting),
		cmocka_unit_test(test_conninfo_pairs),
		cmocka_unit_test(test_oneline),
		cmocka_unit_test(test_no_result),
		cmocka_unit_test(test_dsn_split_url),
		cmocka_unit_test(test_dsn_split_conninfo),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_url_at),
	};
	return cmocka_run_group_tests_name("pg", tests, NULL, NULL);
}
