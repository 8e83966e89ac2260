/* Building a model in the database: view, table, incremental (merge,
 * delete+insert, append) and snapshot (SCD2), each in one transaction, with
 * the model's contract checked before anything is replaced. Every statement
 * a build runs is written here, and the same code prints them for `sluice
 * compile` without a server. */
#ifndef SLUICE_MODELS_MATERIALIZE_H
#define SLUICE_MODELS_MATERIALIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/util.h"
#include "core/models/model.h"

struct ledger;
struct pg_conn;
struct project;
struct target;

/* A column: its name and its type as format_type() writes it (from the
 * catalog) or as the contract writes it. */
struct mat_col {
	const char *name;
	const char *type;
};

/* What one build does, as stored in a task's spec (mat_spec_build). The
 * strings are borrowed (from the spec JSON or the model set). */
struct task_env;

struct mat_job {
	const char *model;          /* the model's name */
	const char *path;           /* models/silver/x.sql, for messages */
	const char *target;         /* the target's name */
	const char *schema;         /* where it lands (unquoted) */
	const char *name;           /* its relation's name (unquoted): the model's */
	enum model_mat mat;
	bool full_refresh;
	const char *sql;            /* the SELECT with is_incremental() false */
	const char *sql_incremental; /* the SELECT with it true (incremental only) */
	enum inc_strategy strategy;
	const char *const *key;     /* unique_key */
	size_t n_key;
	enum snap_strategy snap;
	const char *updated_at;
	const char *const *check_cols;
	size_t n_check_cols;        /* 0 with check_all */
	bool check_all;
	enum hard_deletes hard_deletes;
	const char *valid_to_current; /* an SQL expression; NULL: NULL */
	const struct mat_col *contract; /* the YAML columns, type NULL when not given */
	size_t n_contract;          /* 0: no contract (no column has a type) */
	/* The task that builds it, recorded as the relation's last writer
	 * (core/writes.h) in the build's transaction; NULL: not recorded. */
	const struct task_env *writer;
};

/* What a build did, for the task log and the task instance's counts. */
struct mat_stats {
	const char *action;         /* "created", "replaced", "swapped in", "merged", ... */
	bool incremental;           /* is_incremental() was true */
	int64_t batch;              /* rows the SELECT gave (-1: not counted, a view) */
	int64_t inserted, updated, deleted;
	int dependents;             /* views re-pointed at a new table */
	double seconds;
};

/* The spec of a `kind: model` task for model i under target t (NULL: the
 * default): both renderings of its SQL, where it lands, its config and its
 * contract, added to out. Rendering errors say file:line:col. */
int mat_spec_build(const struct model_set *s, const struct project *p, const struct target *t, int i,
		   bool full_refresh, json_t *out, struct err *err);

/* Reads a built spec back; the job borrows from spec, and *cols (free it
 * with mat_job_arrays_free, also after a failure) holds the arrays the job
 * points into. */
int mat_job_from_spec(const json_t *spec, struct mat_job *j, void **cols, struct err *err);
void mat_job_arrays_free(void *cols);

/* Builds the job on c in one transaction. On failure nothing was changed
 * and err says why (which column breaks the contract, which keys repeat).
 * With a commit ledger (core/ledger.h; NULL: none) the build's row goes in
 * just before the COMMIT; when an earlier try of the attempt committed
 * meanwhile the build is rolled back and MAT_COMMITTED_MEANWHILE returned
 * (lg->prior_* set). */
#define MAT_COMMITTED_MEANWHILE 1
/* Does building j twice leave what building it once does? A view or a
 * table is replaced whole, a merge or a delete+insert of a batch a second
 * time changes nothing more (and an is_incremental() batch read after the
 * first commit is empty); an append adds its batch again, and a snapshot
 * could record a second version. Only those need the commit ledger. */
bool mat_job_idempotent(const struct mat_job *j);
int mat_build(struct pg_conn *c, const struct mat_job *j, struct ledger *lg, struct mat_stats *st,
	      struct err *err);

/* The statements mat_build would run, for `sluice compile`, as if the
 * relation exists (exists) or not; what only the server can say (the
 * columns of the SELECT, the views on a table) is named in comments. */
void mat_plan(const struct mat_job *j, bool exists, struct strbuf *out);

/* ---- contracts (pure, for tests) ------------------------------------------------ */

/* A type name as format_type() writes it: int, int4 -> integer, varchar(n)
 * -> character varying(n), numeric(10, 2) -> numeric(10,2), timestamptz ->
 * timestamp with time zone, ... Lower case; unknown names are kept. */
void mat_type_norm(const char *type, struct strbuf *out);
/* Does a column of type got (format_type's) meet the contract's want? A
 * want without a modifier accepts any (varchar: character varying(20)). */
bool mat_type_meets(const char *want, const char *got);
/* Compares the columns a SELECT gives with the contract: 0 when they meet
 * it, else -1 and msg names every column that differs (expected vs got,
 * missing, extra). */
int mat_contract_diff(const struct mat_col *want, size_t n_want, const struct mat_col *got, size_t n_got,
		      struct strbuf *msg);

#endif
