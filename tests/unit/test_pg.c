/* Unit tests: the libpq helpers that need no server (the conninfo builder and
 * its quoting rule, messages on one line, what the accessors make of no
 * result or no connection). */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conninfo_quoting),
		cmocka_unit_test(test_conninfo_pairs),
		cmocka_unit_test(test_oneline),
		cmocka_unit_test(test_no_result),
	};
	return cmocka_run_group_tests_name("pg", tests, NULL, NULL);
}
