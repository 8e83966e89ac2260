/* Check results and their failing rows in the state database
 * (sluice.check_results, sluice.check_failures): every run of every check
 * kept, never overwritten. The writer the check task's child uses, and the
 * read side for `sluice checks` and the console (each query built apart from
 * parsing its result, as in core/query.h). */
#ifndef SLUICE_CHECKSTORE_H
#define SLUICE_CHECKSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/query.h"

/* libpq's (connectors/pg.h) */
struct pg_conn;
struct pg_result;

/* One run of a check, as its task's child records it. */
struct check_result {
	const char *project, *check, *type;
	const char *model;          /* NULL: none */
	long run_id;
	const char *task;
	int try_number;
	const char *status;         /* pass, warn, fail or error */
	const char *severity;
	long long failing;          /* < 0: unknown (an error before counting) */
	long long total;            /* rows checked; < 0: unknown */
	const char *threshold;      /* as written back: "error_if >0, warn_if >0" */
	double duration_s;
	const char *sql;            /* what it ran (NULL: nothing) */
	const char *params_json;    /* a JSON array, or NULL */
	const char *detail_json;    /* a JSON object the kind adds (freshness, ranges), or NULL */
	const char *error;          /* NULL: none */
};

/* A failing row: key and row are JSON text (NULL: none). */
struct check_failure {
	const char *key_json;
	const char *column;
	const char *row_json;
};

/* Records the result and its failing rows (numbered from 1) in one
 * statement, fenced by the try: when the task instance has moved on to
 * another try nothing is written and ERR_CONFLICT is returned. */
int checkstore_save(struct pg_conn *state, const struct check_result *r, const struct check_failure *f, size_t n,
		    long *result_id, struct err *err);

/* ---- reading them back ------------------------------------------------------- */

struct check_row {
	long id, run_id;
	char *check, *type, *model, *task, *status, *severity, *threshold, *created_at;
	int try_number;
	long long failing, total;   /* -1: unknown */
	double duration_s;
	char *sql, *params, *detail, *error; /* NULL: none */
	int n_failures;             /* failing rows stored */
	char *strip;                /* query_check_latest: the recent statuses, oldest first, one letter each (p w f e) */
};
void check_rows_free(struct check_row *v, size_t n);
/* Frees one row's strings (the row itself is the caller's). */
void check_row_clear(struct check_row *r);

struct failure_row {
	int row_no;
	char *key, *column, *row;   /* JSON text, a name, JSON text; NULL: none */
};
void failure_rows_free(struct failure_row *v, size_t n);

/* The latest result of every check of the project (of one check when
 * check is not NULL; of one run's results when run_id is not 0), by check
 * name; with strip_n > 0 each gets the statuses of its last strip_n results. */
void query_check_latest(struct query *q, const char *project, long run_id, const char *check, int strip_n);
int query_check_rows_parse(struct pg_result *r, struct check_row **rows, size_t *n);
/* The latest result recorded by one try of a run's task (no row: none). */
void query_check_of_try(struct query *q, long run_id, const char *task, int try_number);
/* Failing rows of a result from row_no `from` on, at most limit. */
void query_check_failures(struct query *q, long result_id, int from, int limit);
int query_failure_rows_parse(struct pg_result *r, struct failure_row **rows, size_t *n);

/* Synchronous forms for the batch face. */
int store_check_latest(struct pg_conn *state, const char *project, long run_id, const char *check,
		       struct check_row **rows, size_t *n, struct err *err);
int store_check_failures(struct pg_conn *state, long result_id, int from, int limit, struct failure_row **rows,
			 size_t *n, struct err *err);

#endif
