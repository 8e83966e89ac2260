/* The console's `/` filter: POSIX extended regexes, `!` inverts, smart case. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tui/filter.h"

static void test_off_matches_everything(void **state)
{
	struct filter f = {0};
	assert_true(filter_match(&f, "anything"));
	assert_true(filter_match(&f, ""));
	assert_true(filter_match(&f, NULL));
}

static void test_extended_regex(void **state)
{
	struct filter f = {0};
	struct err e = {0};
	assert_int_equal(filter_set(&f, "^clean_(orders|customers)$", &e), 0);
	assert_true(f.active);
	assert_true(filter_match(&f, "clean_orders"));
	assert_true(filter_match(&f, "clean_customers"));
	assert_false(filter_match(&f, "clean_products"));
	assert_false(filter_match(&f, "xclean_orders"));
	assert_int_equal(filter_set(&f, "t0[0-2]_0+1", &e), 0);
	assert_true(filter_match(&f, "t01_001"));
	assert_false(filter_match(&f, "t03_001"));
	filter_clear(&f);
}

static void test_bang_inverts(void **state)
{
	struct filter f = {0};
	struct err e = {0};
	assert_int_equal(filter_set(&f, "!clean", &e), 0);
	assert_true(f.invert);
	assert_false(filter_match(&f, "clean_orders"));
	assert_true(filter_match(&f, "extract"));
	filter_clear(&f);
}

static void test_smart_case(void **state)
{
	struct filter f = {0};
	struct err e = {0};
	assert_int_equal(filter_set(&f, "report", &e), 0);
	assert_true(filter_match(&f, "Daily REPORT"));
	assert_int_equal(filter_set(&f, "Report", &e), 0);
	assert_false(filter_match(&f, "daily report"));
	assert_true(filter_match(&f, "Report of the day"));
	/* an escape like \S is not a capital the user meant */
	assert_true(filter_icase("a\\Sb"));
	assert_false(filter_icase("aBc"));
	filter_clear(&f);
}

static void test_empty_clears(void **state)
{
	struct filter f = {0};
	struct err e = {0};
	assert_int_equal(filter_set(&f, "x", &e), 0);
	assert_int_equal(filter_set(&f, "", &e), 0);
	assert_false(f.active);
	assert_true(filter_match(&f, "anything"));
	assert_int_equal(filter_set(&f, "!", &e), 0);
	assert_false(f.active);
}

static void test_bad_pattern_keeps_old(void **state)
{
	struct filter f = {0};
	struct err e = {0};
	assert_int_equal(filter_set(&f, "extract", &e), 0);
	assert_int_equal(filter_set(&f, "(unclosed", &e), -1);
	assert_non_null(strstr(e.msg, "(unclosed"));
	assert_true(f.active);
	assert_string_equal(f.text, "extract");
	assert_true(filter_match(&f, "extract"));
	assert_false(filter_match(&f, "load"));
	filter_clear(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_matches_everything),
		cmocka_unit_test(test_extended_regex),
		cmocka_unit_test(test_bang_inverts),
		cmocka_unit_test(test_smart_case),
		cmocka_unit_test(test_empty_clears),
		cmocka_unit_test(test_bad_pattern_keeps_old),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
