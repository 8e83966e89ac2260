/* Loads and their rejected rows in the state database (sluice.loads,
 * sluice.rejects): a writer that batches rejects into COPYs, safe to share
 * between the threads of one load, and the read side for `sluice rejects`
 * and the console. */
#ifndef SLUICE_REJECTS_H
#define SLUICE_REJECTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/util.h"
#include "core/query.h"

/* libpq's (connectors/pg.h) */
struct pg_conn;
struct pg_result;

/* What a load is, for its row in sluice.loads. */
struct load_info {
	const char *project;
	long run_id;            /* 0 = ad-hoc (NULL in the table) */
	const char *task;       /* NULL for ad-hoc */
	int try_number;
	const char *source, *target, *mode;
};

/* Starts a load: a row in sluice.loads in state running; its id. */
int loads_begin(struct pg_conn *state, const struct load_info *li, long *load_id, struct err *err);
/* Ends it: success or failed, with its counts and error (NULL if none). */
int loads_end(struct pg_conn *state, long load_id, bool ok, int64_t rows_in, int64_t rows_loaded, int64_t rejected,
	      const char *error, struct err *err);
/* The load of a task's try that committed (its commit ledger says so) but
 * whose process died before it recorded the end: success, with the rows it
 * loaded (-1: as recorded) and its commit's time (ISO 8601). */
int loads_committed(struct pg_conn *state, const char *project, long run_id, const char *task, int try_number,
		    long long rows_loaded, const char *committed_at, struct err *err);
/* Marks lost the loads running on this host whose process is gone (killed,
 * or its worker died): each row names its pid, host and start, as
 * loads_begin recorded them. Returns how many, or <0. Anyone may call it: the
 * runner's sweep does, and so do the commands that list loads. */
int loads_mark_lost(struct pg_conn *state, struct err *err);

/* A row of sluice.loads, for listing. */
struct load_row {
	long id;
	char *state;            /* running, success, failed or lost */
	long run_id;            /* 0: ad-hoc */
	char *task;
	int try_number;
	char *source, *target, *mode;
	int64_t rows[3];        /* read, loaded, rejected; -1 while unknown */
	char *started_at, *ended_at; /* ISO 8601 UTC; ended_at NULL while running */
	int pid;                /* 0 when not recorded */
	char *host, *error;
	int64_t rejects_kept;   /* rows of sluice.rejects it has */
};
void load_rows_free(struct load_row *v, size_t n);
/* The project's latest loads, newest first; at most limit (0: all). */
int store_loads(struct pg_conn *state, const char *project, int limit, struct load_row **rows, size_t *n,
		struct err *err);

struct reject_sink {
	struct pg_conn *pg;             /* the state database; borrowed */
	long load_id, run_id;
	char *task, *source;
	pthread_mutex_t mu;
	struct strbuf buf;      /* COPY text of the rows not yet sent */
	size_t pending;
	int64_t count;          /* every reject added, sent or not */
	int64_t counted;        /* those that count towards max_rejects */
	bool failed;            /* a flush failed: err says why */
	struct err err;
};

void reject_sink_init(struct reject_sink *s, struct pg_conn *state, long load_id, long run_id, const char *task,
		      const char *source);
/* Adds a reject (thread-safe); sends a batch when enough are pending. col
 * and raw may be NULL. counts: whether it counts towards max_rejects.
 * Returns the number of counted rejects so far, or <0 if sending failed. */
int64_t reject_add(struct reject_sink *s, int64_t line, const char *col, const char *reason, const char *raw,
		   size_t raw_len, bool counts);
/* Sends what is pending. */
int reject_flush(struct reject_sink *s, struct err *err);
void reject_sink_free(struct reject_sink *s);

/* ---- reading them back ---------------------------------------------------- */

struct reject_row {
	long load_id;
	int64_t line;           /* 0 when unknown */
	char *task, *col, *reason, *raw, *source;
};
void reject_rows_free(struct reject_row *v, size_t n);

/* The rejects of the latest load of each load task of a run (of one task if
 * task is not NULL), by task and line; at most limit rows. */
void query_run_rejects(struct query *q, long run_id, const char *task, int limit);
/* The rejects of one load, by line. */
void query_load_rejects(struct query *q, long load_id, int limit);
int query_rejects_parse(struct pg_result *r, struct reject_row **rows, size_t *n);
/* Rejects from..from+limit-1 (1-based, in line order) of one load. */
void query_load_rejects_page(struct query *q, long load_id, int from, int limit);
/* Rejects from..from+limit-1 (1-based, by task and line) of the latest
 * load of each load task of a run, as query_run_rejects orders them. */
void query_run_rejects_page(struct query *q, long run_id, int from, int limit);
/* How many rejects those loads kept, in how many loads, of which tasks
 * ("a, b"; malloc'ed). */
void query_run_rejects_sum(struct query *q, long run_id);
int query_run_rejects_sum_parse(struct pg_result *r, long *run_id, long long *rejects, int *loads, char **tasks);
/* The latest load of one try of a task (try_number 0: of its latest try;
 * none: no row). */
void query_load_of_try(struct query *q, long run_id, const char *task, int try_number);
void query_load_rows_parse(struct pg_result *r, struct load_row **rows, size_t *n);

int store_run_rejects(struct pg_conn *state, long run_id, const char *task, int limit, struct reject_row **rows,
		      size_t *n, struct err *err);
/* A load's rejects; ERR_NOTFOUND ("no load ID") when there is no such load. */
int store_load_rejects(struct pg_conn *state, long load_id, int limit, struct reject_row **rows, size_t *n,
		       struct err *err);

#endif
