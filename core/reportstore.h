/* Report results in the state database (sluice.report_results): each run
 * of a report task keeps its columns and its first rows (bounded by the
 * report's max_rows), and a report keeps its newest `keep` results. The
 * writer the report task's child uses, and the read side for `sluice
 * report(s)` and the console (queries built apart from parsing, as in
 * core/query.h). */
#ifndef SLUICE_REPORTSTORE_H
#define SLUICE_REPORTSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/query.h"

struct pg_conn;
struct pg_result;

/* One run of a report, as its task's child records it. */
struct report_save {
	const char *project, *report, *title;
	long run_id;
	const char *task;
	int try_number;
	const char *columns_json;   /* ["name", ...] */
	const char *rows_json;      /* [["text" or null, ...], ...] */
	int n_rows;
	long long total_rows;       /* rows the query returned, kept or not */
	const char *chart_json;     /* {"type", "x", "y": [...], "series"} or NULL */
	double duration_s;
	const char *sql;
	int keep;                   /* results of the report kept, this one included */
};

/* Records the result, fenced by the try (ERR_CONFLICT when the task
 * instance has moved on to another), and drops the report's results beyond
 * the newest keep. */
int reportstore_save(struct pg_conn *state, const struct report_save *r, long *id, struct err *err);

/* A result read back; columns, rows and chart are NULL in a summary. */
struct report_result {
	long id, run_id;
	char *report, *title, *task, *created_at, *sql;
	int try_number, n_rows;
	long long total_rows;
	bool truncated;             /* fewer rows kept than the query returned */
	double duration_s;
	int n_results;              /* query_report_latest: the report's results kept */
	json_t *columns, *rows, *chart;
};
void report_result_clear(struct report_result *r);
void report_results_free(struct report_result *v, size_t n);

/* The latest result of every report of the project (summaries). */
void query_report_latest(struct query *q, const char *project);
/* The results of one report, newest first, at most limit (summaries). */
void query_report_runs(struct query *q, const char *project, const char *report, int limit);
/* One result in full: of run run_id, or the latest with run_id 0. */
void query_report_result(struct query *q, const char *project, const char *report, long run_id);
int query_report_parse(struct pg_result *r, struct report_result **v, size_t *n);

/* Synchronous forms for the batch face. A missing result is ERR_NOTFOUND. */
int store_report_latest(struct pg_conn *state, const char *project, struct report_result **v, size_t *n,
			struct err *err);
int store_report_runs(struct pg_conn *state, const char *project, const char *report, int limit,
		      struct report_result **v, size_t *n, struct err *err);
int store_report_result(struct pg_conn *state, const char *project, const char *report, long run_id,
			struct report_result *out, struct err *err);

#endif
