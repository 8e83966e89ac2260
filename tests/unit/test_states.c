/* Unit tests: states (names, glyphs, terminal flags). The transitions are the
 * state store's SQL functions, tested against PostgreSQL in
 * tests/integration/states.sh. */
#include "tests/unit/unit.h"

#include <stdbool.h>
#include <string.h>

#include "core/states.h"

static void test_names_round_trip(void **state)
{
	(void)state;
	static const char *const names[ST_COUNT] = {
		[ST_SCHEDULED] = "scheduled",
		[ST_QUEUED] = "queued",
		[ST_RUNNING] = "running",
		[ST_SUCCESS] = "success",
		[ST_FAILED] = "failed",
		[ST_UP_FOR_RETRY] = "up_for_retry",
		[ST_UPSTREAM_FAILED] = "upstream_failed",
		[ST_SKIPPED] = "skipped",
		[ST_REMOVED] = "removed",
	};
	for (int s = 0; s < ST_COUNT; s++) {
		assert_non_null(names[s]);
		assert_string_equal(state_name((enum task_state)s), names[s]);
		assert_int_equal(state_parse(names[s]), s);
		assert_int_equal(state_parse(state_name((enum task_state)s)), s);
	}
}

static void test_parse_unknown(void **state)
{
	(void)state;
	assert_int_equal(state_parse(""), -1);
	assert_int_equal(state_parse("done"), -1);
	assert_int_equal(state_parse("Success"), -1);   /* case matters */
	assert_int_equal(state_parse("success "), -1);
	assert_int_equal(state_parse("up-for-retry"), -1);
	assert_int_equal(state_parse("run"), -1);       /* no prefix matches */
	assert_int_equal(state_parse("?"), -1);
}

static void test_out_of_range(void **state)
{
	(void)state;
	enum task_state bad = (enum task_state)ST_COUNT;
	assert_string_equal(state_name(bad), "?");
	assert_string_equal(state_glyph(bad), "?");
	assert_int_equal(state_ascii(bad), '?');
	assert_false(state_terminal(bad));
}

static void test_terminal(void **state)
{
	(void)state;
	assert_false(state_terminal(ST_SCHEDULED));
	assert_false(state_terminal(ST_QUEUED));
	assert_false(state_terminal(ST_RUNNING));
	assert_false(state_terminal(ST_UP_FOR_RETRY)); /* it will run again */
	assert_true(state_terminal(ST_SUCCESS));
	assert_true(state_terminal(ST_FAILED));
	assert_true(state_terminal(ST_UPSTREAM_FAILED));
	assert_true(state_terminal(ST_SKIPPED));
	assert_true(state_terminal(ST_REMOVED));
}

/* What retry takes: the states a failure leaves behind. */
static void test_failed(void **state)
{
	(void)state;
	for (int s = 0; s < ST_COUNT; s++) {
		bool want = s == ST_FAILED || s == ST_UPSTREAM_FAILED || s == ST_UP_FOR_RETRY;
		if (state_failed((enum task_state)s) != want)
			fail_msg("state_failed(%s) should be %s", state_name((enum task_state)s), want ? "true" : "false");
	}
	assert_false(state_failed((enum task_state)ST_COUNT));
}

static void test_glyphs(void **state)
{
	(void)state;
	for (int a = 0; a < ST_COUNT; a++) {
		const char *g = state_glyph((enum task_state)a);
		char c = state_ascii((enum task_state)a);
		assert_non_null(g);
		assert_true(strlen(g) > 0);
		assert_true(c > ' ' && c < 0x7f); /* printable, not blank */
		for (int b = a + 1; b < ST_COUNT; b++) {
			if (!strcmp(g, state_glyph((enum task_state)b)))
				fail_msg("%s and %s share glyph %s", state_name((enum task_state)a),
					 state_name((enum task_state)b), g);
			if (c == state_ascii((enum task_state)b))
				fail_msg("%s and %s share ascii '%c'", state_name((enum task_state)a),
					 state_name((enum task_state)b), c);
		}
	}
}

/* Each glyph is one UTF-8 character, so it takes one column. */
static void test_glyphs_one_char(void **state)
{
	(void)state;
	for (int s = 0; s < ST_COUNT; s++) {
		const unsigned char *g = (const unsigned char *)state_glyph((enum task_state)s);
		size_t len = strlen((const char *)g);
		size_t want = g[0] < 0x80 ? 1 : g[0] >= 0xf0 ? 4 : g[0] >= 0xe0 ? 3 : 2;
		assert_int_equal(len, want);
		for (size_t i = 1; i < len; i++)
			assert_int_equal(g[i] & 0xc0, 0x80);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_failed),
		cmocka_unit_test(test_glyphs),
		cmocka_unit_test(test_glyphs_one_char),
	};
	return cmocka_run_group_tests_name("states", tests, NULL, NULL);
}
