/* Unit tests: a backfill's logical dates from a pipeline's schedule, the
 * decision for each date from what the store has, and the dry run's line. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backfill.h"
#include "core/cron.h"
#include "core/project.h"

static struct pipeline pipeline_of(const char *schedule)
{
	struct pipeline pl;
	memset(&pl, 0, sizeof pl);
	pl.name = (char *)"p";
	pl.schedule = (char *)schedule;
	if (schedule) {
		struct err e = {0};
		if (cron_parse(schedule, &pl.cron, NULL, &e) != 0)
			fail_msg("cron '%s': %s", schedule, e.msg);
	}
	return pl;
}

/* The dates, space-separated (malloc'ed), or "error: MSG". */
static char *dates(const char *schedule, const char *from, const char *to, bool backwards)
{
	struct pipeline pl = pipeline_of(schedule);
	char(*v)[11];
	size_t n;
	struct err e = {0};
	if (backfill_dates(&pl, from, to, backwards, &v, &n, &e) < 0) {
		char *s = malloc(strlen(e.msg) + 8);
		sprintf(s, "error: %s", e.msg);
		return s;
	}
	char *s = calloc(n * 11 + 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v[i]);
	}
	free(v);
	return s;
}

#define assert_dates(sched, from, to, back, want)           \
	do {                                                   \
		char *got_ = dates(sched, from, to, back);         \
		assert_string_equal(got_, want);                   \
		free(got_);                                        \
	} while (0)

static void test_daily_and_manual(void **state)
{
	assert_dates("@daily", "2026-02-27", "2026-03-02", false, "2026-02-27 2026-02-28 2026-03-01 2026-03-02");
	assert_dates("0 3 * * *", "2024-02-28", "2024-03-01", false, "2024-02-28 2024-02-29 2024-03-01");
	assert_dates(NULL, "2025-12-31", "2026-01-02", false, "2025-12-31 2026-01-01 2026-01-02");
	assert_dates("@daily", "2026-01-05", "2026-01-05", false, "2026-01-05");
}

static void test_sparse_and_dense_schedules(void **state)
{
	/* Mondays; the first of the month; several times a day gives the day once */
	assert_dates("0 0 * * 1", "2026-01-01", "2026-01-31", false, "2026-01-05 2026-01-12 2026-01-19 2026-01-26");
	assert_dates("@monthly", "2026-01-15", "2026-04-01", false, "2026-02-01 2026-03-01 2026-04-01");
	assert_dates("@hourly", "2026-01-01", "2026-01-03", false, "2026-01-01 2026-01-02 2026-01-03");
	assert_dates("*/15 22-23 * * *", "2026-01-01", "2026-01-02", false, "2026-01-01 2026-01-02");
	/* the 31st: only the months that have one */
	assert_dates("0 0 31 * *", "2026-01-01", "2026-05-31", false, "2026-01-31 2026-03-31 2026-05-31");
}

static void test_backwards(void **state)
{
	assert_dates("@daily", "2026-01-01", "2026-01-04", true, "2026-01-04 2026-01-03 2026-01-02 2026-01-01");
	assert_dates("0 0 * * 1", "2026-01-01", "2026-01-20", true, "2026-01-19 2026-01-12 2026-01-05");
}

static void test_bad_ranges(void **state)
{
	assert_dates("@daily", "2026-01-10", "2026-01-01", false, "error: --from 2026-01-10 is after --to 2026-01-01");
	assert_dates("@daily", "2026-02-30", "2026-03-01", false, "error: --from '2026-02-30': expected a date as YYYY-MM-DD");
	assert_dates("@daily", "2026-01-01", "yesterday", false, "error: --to 'yesterday': expected a date as YYYY-MM-DD");
	assert_dates("@daily", "1970-01-01", "2026-01-01", false,
		     "error: 1970-01-01..2026-01-01 is 20455 days; a backfill takes at most 20000 dates");
	assert_dates("0 0 * * 1", "2026-01-06", "2026-01-11", false,
		     "error: the schedule of p (0 0 * * 1) fires on no day from 2026-01-06 to 2026-01-11");
}

static const char *decide(enum bf_reprocess rp, long live, long last, const char *state, long other,
			  struct bf_date *d)
{
	backfill_decide(d, rp, live, last, state, other);
	static char buf[200];
	snprintf(buf, sizeof buf, "%s %ld %s | %s", bf_action_name(d->action), d->run_id, d->why ? d->why : "-",
		 d->reason);
	return buf;
}

static void test_decide(void **state)
{
	struct bf_date d;
	memset(&d, 0, sizeof d);
	assert_string_equal(decide(BF_MISSING, 0, 0, NULL, 0, &d), "create 0 - | no run yet");
	assert_string_equal(decide(BF_ALL, 0, 0, NULL, 0, &d), "create 0 - | no run yet");
	/* a live run wins over every reprocess */
	assert_string_equal(decide(BF_ALL, 7, 7, "running", 0, &d), "skip 7 a live run | run 7 is live");
	assert_string_equal(decide(BF_MISSING, 0, 5, "failed", 0, &d),
			    "skip 5 already failed | run 5 failed (--reprocess failed re-runs it)");
	assert_string_equal(decide(BF_FAILED, 0, 5, "failed", 0, &d),
			    "rerun 5 - | run 5 failed: its failed tasks cleared");
	assert_string_equal(decide(BF_ALL, 0, 5, "failed", 0, &d), "rerun 5 - | run 5 failed: every task cleared");
	assert_string_equal(decide(BF_MISSING, 0, 4, "success", 0, &d),
			    "skip 4 already succeeded | run 4 succeeded (--reprocess all re-runs it)");
	assert_string_equal(decide(BF_FAILED, 0, 4, "success", 0, &d),
			    "skip 4 already succeeded | run 4 succeeded (--reprocess all re-runs it)");
	assert_string_equal(decide(BF_ALL, 0, 4, "success", 0, &d), "rerun 4 - | run 4 succeeded: every task cleared");
	/* another backfill that has yet to start the date keeps it */
	assert_string_equal(decide(BF_ALL, 0, 0, NULL, 3, &d),
			    "skip 0 in another backfill | backfill 3 has yet to start it");
	free(d.reason);
}

static void test_summary(void **state)
{
	struct bf_date v[6];
	memset(v, 0, sizeof v);
	struct bf_plan p = {v, 0, 0, 0, 0};
	char *s = backfill_plan_summary(&p);
	assert_string_equal(s, "0 runs will be created");
	free(s);
	backfill_decide(&v[0], BF_MISSING, 0, 0, NULL, 0);
	backfill_decide(&v[1], BF_MISSING, 9, 9, "running", 0);
	p.n = 2;
	p.n_create = 1;
	p.n_skip = 1;
	s = backfill_plan_summary(&p);
	assert_string_equal(s, "1 run will be created, 1 skipped: a live run");
	free(s);
	backfill_decide(&v[2], BF_FAILED, 0, 4, "failed", 0);
	backfill_decide(&v[3], BF_FAILED, 0, 5, "success", 0);
	backfill_decide(&v[4], BF_FAILED, 0, 6, "success", 0);
	backfill_decide(&v[5], BF_FAILED, 0, 0, NULL, 0);
	p.n = 6;
	p.n_create = 2;
	p.n_rerun = 1;
	p.n_skip = 3;
	s = backfill_plan_summary(&p);
	/* the reasons most frequent first */
	assert_string_equal(s, "2 runs will be created, 1 re-run, 3 skipped (2 already succeeded, 1 a live run)");
	free(s);
	for (int i = 0; i < 6; i++)
		free(v[i].reason);
}

static void test_names(void **state)
{
	assert_int_equal(bf_reprocess_parse("missing"), BF_MISSING);
	assert_int_equal(bf_reprocess_parse("failed"), BF_FAILED);
	assert_int_equal(bf_reprocess_parse("all"), BF_ALL);
	assert_int_equal(bf_reprocess_parse("Failed"), -1);
	assert_int_equal(bf_reprocess_parse(NULL), -1);
	assert_string_equal(bf_reprocess_name(BF_FAILED), "failed");
	assert_string_equal(bf_action_name(BF_RERUN), "rerun");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_daily_and_manual),
		cmocka_unit_test(test_sparse_and_dense_schedules),
		cmocka_unit_test(test_backwards),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("backfill", tests, NULL, NULL);
}
