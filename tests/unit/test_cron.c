/* Unit tests: cron (parsing, error columns, next run times in UTC). */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/cron.h"

static struct cron parse_ok(const char *expr)
{
	struct cron c;
	struct err e = { 0 };
	int col = -1;
	memset(&c, 0, sizeof c);
	if (cron_parse(expr, &c, &col, &e) != 0)
		fail_msg("parse of '%s' failed at %d: %s", expr, col, e.msg);
	return c;
}

static void parse_err(const char *expr, int col, const char *msg)
{
	struct cron c;
	struct err e = { 0 };
	int got = -1;
	assert_int_equal(cron_parse(expr, &c, &got, &e), -1);
	assert_string_equal(e.msg, msg);
	assert_int_equal(got, col);
}

static uint64_t bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	for (int v = lo; v <= hi; v += step)
		b |= 1ULL << v;
	return b;
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return timegm(&tm);
}

/* Next run after a time, as "YYYY-MM-DD HH:MM Dow" (or "none"). */
static const char *next_str(const char *expr, time_t after)
{
	static char buf[64];
	struct cron c = parse_ok(expr);
	time_t t = cron_next(&c, after);
	if (t == (time_t)-1)
		return "none";
	struct tm tm;
	gmtime_r(&t, &tm);
	assert_int_equal(tm.tm_sec, 0);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %a", &tm);
	return buf;
}

static void test_parse_star_and_numbers(void **state)
{
	(void)state;
	struct cron c = parse_ok("* * * * *");
	assert_true(c.minute == bits(0, 59, 1));
	assert_true(c.hour == bits(0, 23, 1));
	assert_true(c.dom == bits(1, 31, 1));
	assert_true(c.month == bits(1, 12, 1));
	assert_true(c.dow == bits(0, 6, 1));
	assert_true(c.dom_star && c.dow_star);

	c = parse_ok("  5 4 3 2 1 ");
	assert_true(c.minute == 1ULL << 5);
	assert_true(c.hour == 1U << 4);
	assert_true(c.dom == 1U << 3);
	assert_true(c.month == 1U << 2);
	assert_true(c.dow == 1U << 1);
	assert_false(c.dom_star || c.dow_star);
}

static void test_parse_lists_ranges_steps(void **state)
{
	(void)state;
	struct cron c = parse_ok("0,15,30,45 9-17 1-10/3 */4 1-5");
	assert_true(c.minute == bits(0, 45, 15));
	assert_true(c.hour == bits(9, 17, 1));
	assert_true(c.dom == ((1U << 1) | (1U << 4) | (1U << 7) | (1U << 10)));
	assert_true(c.month == ((1U << 1) | (1U << 5) | (1U << 9)));
	assert_true(c.dow == bits(1, 5, 1));

	c = parse_ok("*/15 0-23/6 5/10 * *");
	assert_true(c.minute == bits(0, 59, 15));
	assert_true(c.hour == bits(0, 18, 6));
	assert_true(c.dom == ((1U << 5) | (1U << 15) | (1U << 25)));
	assert_true(c.dom_star == false); /* "5/10" does not start with '*' */

	c = parse_ok("1,2-3,10-20/5,59 * * * *");
	assert_true(c.minute == (bits(1, 3, 1) | bits(10, 20, 5) | (1ULL << 59)));
}

static void test_parse_names(void **state)
{
	(void)state;
	struct cron c = parse_ok("0 0 * jan,Mar-may MON-fri");
	assert_true(c.month == ((1U << 1) | bits(3, 5, 1)));
	assert_true(c.dow == bits(1, 5, 1));
	c = parse_ok("0 0 * DEC sun,SAT");
	assert_true(c.month == 1U << 12);
	assert_true(c.dow == ((1U << 0) | (1U << 6)));
	/* 7 is Sunday, in a range too */
	c = parse_ok("0 0 * * 7");
	assert_true(c.dow == 1U << 0);
	c = parse_ok("0 0 * * 5-7");
	assert_true(c.dow == ((1U << 0) | (1U << 5) | (1U << 6)));
	c = parse_ok("0 0 * * 0-7");
	assert_true(c.dow == bits(0, 6, 1));
	/* steps over names and a dow "a/n" that does not wrap 7 onto Sunday */
	c = parse_ok("0 0 * JAN-DEC/6 1/2");
	assert_true(c.month == ((1U << 1) | (1U << 7)));
	assert_true(c.dow == ((1U << 1) | (1U << 3) | (1U << 5)));
}

static void test_parse_macros(void **state)
{
	(void)state;
	struct cron want = parse_ok("0 0 1 1 *");
	struct cron c = parse_ok("@yearly");
	assert_memory_equal(&c, &want, sizeof c);
	c = parse_ok("@annually");
	assert_memory_equal(&c, &want, sizeof c);
	want = parse_ok("0 0 1 * *");
	c = parse_ok("@monthly");
	assert_memory_equal(&c, &want, sizeof c);
	want = parse_ok("0 0 * * 0");
	c = parse_ok(" @WEEKLY ");
	assert_memory_equal(&c, &want, sizeof c);
	want = parse_ok("0 0 * * *");
	c = parse_ok("@daily");
	assert_memory_equal(&c, &want, sizeof c);
	c = parse_ok("@midnight");
	assert_memory_equal(&c, &want, sizeof c);
	want = parse_ok("0 * * * *");
	c = parse_ok("@hourly");
	assert_memory_equal(&c, &want, sizeof c);
}

static void test_parse_range_errors(void **state)
{
	(void)state;
	parse_err("61 * * * *", 0, "minute field: 61 is out of range 0-59");
	parse_err("0 24 * * *", 2, "hour field: 24 is out of range 0-23");
	parse_err("0 0 0 * *", 4, "day-of-month field: 0 is out of range 1-31");
	parse_err("0 0 1,32 * *", 6, "day-of-month field: 32 is out of range 1-31");
	parse_err("0 0 * 13 *", 6, "month field: 13 is out of range 1-12");
	parse_err("0 0 * * 8", 8, "day-of-week field: 8 is out of range 0-7");
	parse_err("0 0 * * 99999999999", 8, "day-of-week field: 99999999999 is out of range 0-7");
}

static void test_parse_error_classes(void **state)
{
	(void)state;
	parse_err("0 0 * *", 7, "expected 5 fields, got 4");
	parse_err("", 0, "expected 5 fields, got 0");
	parse_err("0 0 * * * extra more", 10, "expected 5 fields, got 7");
	parse_err("0 0 * FOO *", 6, "month field: expected a number 1-12 or a name JAN-DEC, got 'FOO'");
	parse_err("0 0 * * MONDAY", 8,
		  "day-of-week field: expected a number 0-7 or a name SUN-SAT, got 'MONDAY'");
	parse_err("0 x * * *", 2, "hour field: expected a number 0-23, got 'x'");
	/* names only where they make sense */
	parse_err("JAN * * * *", 0, "minute field: expected a number 0-59, got 'JAN'");
	parse_err("1,,2 * * * *", 2, "minute field: expected a number 0-59, got nothing");
	parse_err("1, * * * *", 2, "minute field: expected a number 0-59, got nothing");
	parse_err("0 0 * * 1-", 10, "day-of-week field: expected a number 0-7 or a name SUN-SAT, got nothing");
	parse_err("0 17-9 * * *", 2, "hour field: range 17-9 is backwards (start must not exceed end)");
	parse_err("*/0 * * * *", 2, "minute field: step 0 is out of range 1-60");
	parse_err("0 */25 * * *", 4, "hour field: step 25 is out of range 1-24");
	parse_err("*/x * * * *", 2, "minute field: expected a step number after '/', got 'x'");
	parse_err("0 0 1/ * *", 6, "day-of-month field: expected a step number after '/', got ''");
	parse_err("*5 * * * *", 1, "minute field: unexpected '5'; expected ',', '-' or '/'");
	parse_err("0 1-2-3 * * *", 5, "hour field: unexpected '-'; expected ',', '-' or '/'");
	parse_err("0 0 * * $", 8, "day-of-week field: expected a number 0-7 or a name SUN-SAT, got '$'");
	parse_err("@daly", 0, "unknown macro '@daly'; did you mean '@daily'?");
	parse_err("  @often", 2,
		  "unknown macro '@often'; expected @yearly, @annually, @monthly, @weekly, @daily, "
		  "@midnight or @hourly");
	parse_err("@daily 5", 7, "unexpected text after @daily; a macro stands alone");
}

static void test_parse_error_no_outputs(void **state)
{
	(void)state;
	struct cron c;
	/* err and errcol are optional */
	assert_int_equal(cron_parse("bad", &c, NULL, NULL), -1);
	assert_int_equal(cron_parse("@nope", &c, NULL, NULL), -1);
}

static void test_next_daily_hourly(void **state)
{
	(void)state;
	time_t t = utc(2024, 3, 1, 12, 34, 56);
	assert_string_equal(next_str("@daily", t), "2024-03-02 00:00 Sat");
	assert_string_equal(next_str("@hourly", t), "2024-03-01 13:00 Fri");
	assert_string_equal(next_str("30 2 * * *", t), "2024-03-02 02:30 Sat");
	assert_string_equal(next_str("* * * * *", t), "2024-03-01 12:35 Fri");
	/* strictly after: a time on the schedule gives the next one */
	assert_string_equal(next_str("@daily", utc(2024, 3, 2, 0, 0, 0)), "2024-03-03 00:00 Sun");
	assert_string_equal(next_str("* * * * *", utc(2024, 3, 2, 0, 0, 0)), "2024-03-02 00:01 Sat");
	assert_string_equal(next_str("@hourly", utc(2024, 3, 1, 23, 59, 59)), "2024-03-02 00:00 Sat");
}

static void test_next_every_15(void **state)
{
	(void)state;
	assert_string_equal(next_str("*/15 * * * *", utc(2024, 3, 1, 12, 34, 56)), "2024-03-01 12:45 Fri");
	assert_string_equal(next_str("*/15 * * * *", utc(2024, 3, 1, 12, 45, 0)), "2024-03-01 13:00 Fri");
	assert_string_equal(next_str("*/15 * * * *", utc(2024, 3, 1, 23, 50, 0)), "2024-03-02 00:00 Sat");
	assert_string_equal(next_str("*/15 9-17 * * *", utc(2024, 3, 1, 17, 46, 0)), "2024-03-02 09:00 Sat");
}

static void test_next_month_and_year(void **state)
{
	(void)state;
	/* month boundaries: 30-day month, the 31st skips short months */
	assert_string_equal(next_str("0 0 1 * *", utc(2024, 4, 30, 12, 0, 0)), "2024-05-01 00:00 Wed");
	assert_string_equal(next_str("0 12 31 * *", utc(2024, 4, 1, 0, 0, 0)), "2024-05-31 12:00 Fri");
	assert_string_equal(next_str("0 0 * FEB *", utc(2024, 3, 5, 0, 0, 0)), "2025-02-01 00:00 Sat");
	/* year rollover */
	assert_string_equal(next_str("@yearly", utc(2024, 12, 31, 23, 59, 0)), "2025-01-01 00:00 Wed");
	assert_string_equal(next_str("59 23 31 12 *", utc(2024, 12, 31, 23, 59, 0)), "2025-12-31 23:59 Wed");
	/* leap years: Feb 29 */
	assert_string_equal(next_str("0 0 29 2 *", utc(2023, 3, 1, 0, 0, 0)), "2024-02-29 00:00 Thu");
	assert_string_equal(next_str("0 0 29 2 *", utc(2024, 2, 29, 0, 0, 0)), "2028-02-29 00:00 Tue");
	assert_string_equal(next_str("0 0 * * *", utc(2024, 2, 28, 6, 0, 0)), "2024-02-29 00:00 Thu");
	assert_string_equal(next_str("0 0 * * *", utc(2023, 2, 28, 6, 0, 0)), "2023-03-01 00:00 Wed");
}

static void test_next_dom_dow_rule(void **state)
{
	(void)state;
	/* both restricted: the 13th OR any Friday; 2024-09-01 is a Sunday */
	time_t t = utc(2024, 9, 1, 0, 0, 0);
	assert_string_equal(next_str("0 0 13 * 5", t), "2024-09-06 00:00 Fri");
	assert_string_equal(next_str("0 0 13 * 5", utc(2024, 9, 12, 0, 0, 0)), "2024-09-13 00:00 Fri");
	assert_string_equal(next_str("0 0 2 * 5", t), "2024-09-02 00:00 Mon");
	/* only dow restricted: weekdays only */
	assert_string_equal(next_str("0 9 * * MON-FRI", utc(2024, 9, 6, 10, 0, 0)), "2024-09-09 09:00 Mon");
	/* only dom restricted */
	assert_string_equal(next_str("0 0 15 * *", t), "2024-09-15 00:00 Sun");
	/* dom "*" with a step still counts as '*' (Vixie): odd days AND Mondays */
	assert_string_equal(next_str("0 0 */2 * MON", t), "2024-09-09 00:00 Mon");
	/* dow 7 is Sunday */
	assert_string_equal(next_str("0 0 * * 7", t), "2024-09-08 00:00 Sun");
}

static void test_next_impossible(void **state)
{
	(void)state;
	time_t t = utc(2024, 1, 1, 0, 0, 0);
	assert_string_equal(next_str("0 0 30 2 *", t), "none");
	assert_string_equal(next_str("0 0 31 4,6,9,11 *", t), "none");
	/* Feb 31 OR Mondays: the day-of-week side keeps it possible */
	assert_string_equal(next_str("0 0 31 2 MON", t), "2024-02-05 00:00 Mon");
}

static void test_next_far_but_possible(void **state)
{
	(void)state;
	/* 2096-02-29 to 2104-02-29 is 8 years (2100 is not leap): over the limit */
	assert_string_equal(next_str("0 0 29 2 *", utc(2096, 3, 1, 0, 0, 0)), "none");
	/* 4 years ahead is within it */
	assert_string_equal(next_str("0 0 29 2 *", utc(2024, 3, 1, 0, 0, 0)), "2028-02-29 00:00 Tue");
}

static void test_next_many_steps(void **state)
{
	(void)state;
	/* walking a minute schedule for a day gives exactly 24 * 4 runs */
	struct cron c = parse_ok("*/15 * * * *");
	time_t t = utc(2024, 6, 1, 0, 0, 0) - 1;
	int n = 0;
	while ((t = cron_next(&c, t)) < utc(2024, 6, 2, 0, 0, 0))
		n++;
	assert_int_equal(n, 96);
	/* negative times (before 1970) work too */
	assert_string_equal(next_str("0 0 1 1 *", utc(1969, 6, 1, 0, 0, 0)), "1970-01-01 00:00 Thu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_star_and_numbers),
		cmocka_unit_test(test_parse_lists_ranges_steps),
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_parse_macros),
		cmocka_unit_test(test_parse_range_errors),
		cmocka_unit_test(test_parse_error_classes),
		cmocka_unit_test(test_parse_error_no_outputs),
		cmocka_unit_test(test_next_daily_hourly),
		cmocka_unit_test(test_next_every_15),
		cmocka_unit_test(test_next_month_and_year),
		cmocka_unit_test(test_next_dom_dow_rule),
		cmocka_unit_test(test_next_impossible),
		cmocka_unit_test(test_next_far_but_possible),
		cmocka_unit_test(test_next_many_steps),
	};
	return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
