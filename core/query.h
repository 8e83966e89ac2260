/* The read side of the state store: what the batch face and the console show.
 * Each query is built (SQL + parameters) apart from parsing its result, so
 * the console can send it asynchronously from its poll loop while the batch
 * face runs it synchronously; neither writes SQL of its own. */
#ifndef SLUICE_QUERY_H
#define SLUICE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/store.h"

/* libpq's result (connectors/pg.h) */
struct pg_result;

#define QUERY_MAX_PARAMS 6

/* A statement ready to send: pg_exec(c, q.sql, q.n, q.params, err) or
 * pga_send(a, q.sql, q.n, q.params, ...). */
struct query {
	const char *sql;
	int n;
	const char *params[QUERY_MAX_PARAMS];
	char buf[QUERY_MAX_PARAMS][64]; /* storage for numeric parameters */
};
/* Parameter i of q as the number v (kept in q's own storage). */
void query_num(struct query *q, int i, long v);

struct run_row {
	long id;
	char *pipeline, *logical_date, *state, *trigger, *created_at;
	char *params;       /* JSON text */
	double duration_s;
	int n_total, n_success, n_failed, n_active;
};

struct ti_row {
	long id;
	char *task, *state;
	int try_number;
	double duration_s;  /* < 0 when it never started */
	char *started_at, *ended_at; /* ISO 8601 UTC or NULL */
	bool has_exit;
	int exit_status;
	char *error;        /* NULL when none */
	char *worker;       /* NULL when none */
};

struct log_row {
	int seq;
	char *ts;           /* ISO 8601 UTC with milliseconds */
	char stream;        /* 'o' stdout, 'e' stderr */
	char *line;
};

void run_rows_free(struct run_row *v, size_t n);
void ti_rows_free(struct ti_row *v, size_t n);
void log_rows_free(struct log_row *v, size_t n);

/* Recent runs of the project (of one pipeline if not NULL), newest first. */
void query_runs(struct query *q, const char *project, const char *pipeline, int limit);
int query_runs_parse(struct pg_result *r, struct run_row **rows, size_t *n);
/* One run (id, pipeline, date, state, trigger, params). */
void query_run(struct query *q, long run_id);
/* The task instances of a run, in the order the run created them. */
void query_tasks(struct query *q, long run_id);
int query_tasks_parse(struct pg_result *r, struct ti_row **rows, size_t *n);
/* Log lines of one try from seq on (at most limit). */
void query_log(struct query *q, long ti, int try_number, int from_seq, int limit);
int query_log_parse(struct pg_result *r, struct log_row **rows, size_t *n);

/* Synchronous forms for the batch face. */
int store_runs(struct store *s, const char *pipeline, int limit, struct run_row **rows, size_t *n, struct err *err);
/* ERR_NOTFOUND when there is no such run in the project. */
int store_run(struct store *s, long run_id, struct run_row *run, struct err *err);
int store_tasks(struct store *s, long run_id, struct ti_row **rows, size_t *n, struct err *err);
int store_log(struct store *s, long ti, int try_number, int from_seq, int limit, struct log_row **rows, size_t *n,
	      struct err *err);
/* The run's state alone ("" if it does not exist). */
int store_run_state(struct store *s, long run_id, char *buf, size_t size, struct err *err);
/* A task instance of a run: its id, current try and state. */
int store_ti_find(struct store *s, long run_id, const char *task, long *ti, int *try_number, char *state,
		  size_t state_size, struct err *err);
/* The state of one try: the instance's state for the current try, the
 * recorded outcome (success, failed, lost) for an earlier one, "" if none. */
int store_try_state(struct store *s, long ti, int try_number, char *buf, size_t size, struct err *err);
/* "latest"/"last" (of pipeline, if given) or a run id of this project. */
int store_resolve_run(struct store *s, const char *spec, const char *pipeline, long *run_id, struct err *err);

/* ---- what the console shows (sent asynchronously by tui/db.c) ---------------- */

/* The last `per_pipeline` runs of every pipeline of the project, newest
 * first within a pipeline, with each pipeline's count of failed runs. */
struct pipeline_run_row {
	char *pipeline;
	long id;
	char *state, *logical_date, *created_at;
	int n_failed;       /* failed runs of the pipeline, all time */
};
void pipeline_run_rows_free(struct pipeline_run_row *v, size_t n);
void query_pipeline_runs(struct query *q, const char *project, int per_pipeline);
int query_pipeline_runs_parse(struct pg_result *r, struct pipeline_run_row **rows, size_t *n);

/* The task instances of the last n_runs runs of a pipeline (the runs grid). */
struct grid_row {
	long run_id, ti;
	char *task, *state;
	int try_number;
};
void grid_rows_free(struct grid_row *v, size_t n);
void query_grid(struct query *q, const char *project, const char *pipeline, int n_runs);
int query_grid_parse(struct pg_result *r, struct grid_row **rows, size_t *n);

/* One task instance in full: what the task view shows. */
struct ti_detail {
	long id, run_id;
	char *task, *state, *pipeline, *logical_date, *run_state;
	int try_number, max_tries;
	char *started_at, *ended_at; /* NULL when not yet */
	double duration_s;           /* < 0 when it never started */
	bool has_exit;
	int exit_status;
	char *error, *worker, *host; /* NULL when none */
	char *next_try_at;           /* up_for_retry: when it runs again */
	char *spec;                  /* the rendered task as JSON text: what a retry runs */
};
void ti_detail_free(struct ti_detail *d);
/* By task instance id, or (ti 0) by run and task name. */
void query_ti_detail(struct query *q, long ti, long run_id, const char *task);
/* The task instance of the project that failed last (in its newest run
 * with one), as query_ti_detail gives it. */
void query_ti_latest_failed(struct query *q, const char *project);
/* ERR_NOTFOUND when there is no row. */
int query_ti_detail_parse(struct pg_result *r, struct ti_detail *out);

/* The finished tries of a task instance, oldest first. */
struct try_row {
	int try_number;
	char *state, *worker, *started_at, *ended_at, *error;
	bool has_exit;
	int exit_status;
};
void try_rows_free(struct try_row *v, size_t n);
void query_tries(struct query *q, long ti);
int query_tries_parse(struct pg_result *r, struct try_row **rows, size_t *n);

/* Log lines of one try before seq (exclusive), the last `limit` of them, in
 * seq order: the tail (before_seq < 0 means the end) and paging back. Parsed by
 * query_log_parse. */
void query_log_before(struct query *q, long ti, int try_number, int before_seq, int limit);
/* The first seq after (forward) or before `from` whose line matches the POSIX
 * regex pattern (icase: case-insensitive); no row when none does. */
void query_log_find(struct query *q, long ti, int try_number, int from_seq, bool forward, const char *pattern,
		    bool icase);
/* -1 when the result has no row. */
int query_log_find_parse(struct pg_result *r);
/* The number of log lines of a try and its last seq (seqs run from 0 without
 * gaps, so this reads the primary key's end, not every line). */
void query_log_span(struct query *q, long ti, int try_number);
void query_log_span_parse(struct pg_result *r, int *count, int *last_seq);

/* Workers with a heartbeat in the last `within` seconds. */
void query_live_workers(struct query *q, double within);
int query_live_workers_parse(struct pg_result *r);

#endif
