/* The load's option parsing: modes and max_rejects. */
#include "tests/unit/unit.h"

#include "core/load.h"

static void test_modes(void **state)
{
	(void)state;
	enum load_mode m;
	assert_int_equal(load_mode_parse("append", &m), 0);
	assert_int_equal(m, LOAD_APPEND);
	assert_int_equal(load_mode_parse("replace", &m), 0);
	assert_int_equal(m, LOAD_REPLACE);
	assert_int_equal(load_mode_parse("merge", &m), 0);
	assert_int_equal(m, LOAD_MERGE);
	assert_int_equal(load_mode_parse("upsert", &m), -1);
	assert_string_equal(load_mode_name(LOAD_MERGE), "merge");
}

static void test_max_rejects(void **state)
{
	(void)state;
	long long n;
	double pct;
	assert_int_equal(load_max_rejects_parse("10", &n, &pct), 0);
	assert_true(n == 10 && pct < 0);
	assert_int_equal(load_max_rejects_parse("0", &n, &pct), 0);
	assert_true(n == 0 && pct < 0);
	assert_int_equal(load_max_rejects_parse("0.5%", &n, &pct), 0);
	assert_true(n < 0 && pct == 0.5);
	assert_int_equal(load_max_rejects_parse("100%", &n, &pct), 0);
	assert_int_equal(load_max_rejects_parse("101%", &n, &pct), -1);
	assert_int_equal(load_max_rejects_parse("1.5", &n, &pct), -1);
	assert_int_equal(load_max_rejects_parse("-1", &n, &pct), -1);
	assert_int_equal(load_max_rejects_parse("ten", &n, &pct), -1);
	assert_int_equal(load_max_rejects_parse("", &n, &pct), -1);
	assert_int_equal(load_max_rejects_parse("5%%", &n, &pct), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_max_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
