/* What the phases of a load share: the load itself, its COPY streams and
 * batches, and the calls between them. load.c runs a load from start to end
 * (options, rejects, server errors, progress); copy.c reads, checks and
 * formats records and sends them over the COPY streams; target.c plans
 * the columns and creates the target and the staging table; move.c
 * moves staged rows into the target, isolating the ones it refuses. */
#ifndef SLUICE_LOAD_INT_H
#define SLUICE_LOAD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "connectors/records.h"
#include "core/contract.h"
#include "core/load.h"
#include "core/rejects.h"

/* libpq's (connectors/pg.h) */
struct pg_conn;
struct pg_result;

/* A COPY statement's worth of rows, with what rejects need of each. */
struct batch {
	char *data;             /* COPY text lines */
	size_t len, cap;
	char *raw;              /* the rows as read, for rejects */
	size_t raw_len, raw_cap;
	size_t *off;            /* row i is data[off[i] .. off[i+1]) */
	size_t *raw_off;
	int64_t *line;          /* source line of each row */
	unsigned char *skip;    /* rows rejected by the server */
	size_t n, rows_cap;
	struct batch *next;
};

struct stream {
	struct load *L;
	int idx;
	struct pg_conn *pg;
	pthread_t th;
	bool started;
	const char *pending;    /* statement to send before the next one */
	int64_t loaded;
};

struct load {
	const struct load_opts *o;
	struct rec_opts ro;     /* o->rec with the contract's names for a headerless file */
	struct contract *ct;
	struct contract_scratch *cs;
	/* append/replace: the contract's key must be unique within the input
	 * (merge instead keeps the last row of a repeated key) */
	struct contract_keys *keys;
	struct rec_reader *rd;
	char **file_cols;       /* the source's column names */
	size_t n_file_cols;

	char *schema, *table;   /* as given (schema NULL if none) */
	char *q_target;         /* quoted */
	bool target_exists;
	char **cols;            /* the columns loaded, in COPY order */
	char **types;           /* their SQL types (for staging and create) */
	size_t n_cols;
	int *src;               /* record field of each column */
	char *q_cols;           /* "a", "b" ... */
	int *key;               /* merge: indexes into cols */
	size_t n_key;
	bool has_load_ts;       /* merge: the target has load_timestamp */
	bool staged;
	char *q_stage;          /* staged: the staging table, quoted */
	char *copy_sql;
	/* COPY in binary (binary.c): each column's encoding; NULL = text */
	unsigned char *enc;

	long load_id;           /* its row in sluice.loads; 0 when not recorded */
	struct pg_conn *main;           /* direct: the stream's connection; staged: the mover */
	struct pg_conn *state;
	struct reject_sink sink;
	bool have_sink;

	struct stream *streams;
	int n_streams;

	pthread_mutex_t mu;
	pthread_cond_t cv_free, cv_full;
	struct batch *free_list, *full_head, *full_tail;
	bool producing_done, abort;
	struct err fail;        /* the first failure of any thread */
	bool failed;

	int64_t rows_in, rejected_counted, staged_rows;
	int64_t next_ord;
};

/* ---- load.c ------------------------------------------------------------- */

/* The first failure of any thread fails the load and stops every thread. */
void load_fail(struct load *L, const struct err *e);
/* Records a reject; fails the load when max_rejects is passed. */
void load_reject(struct load *L, int64_t line, const char *col, const char *reason, const char *raw, size_t raw_len,
		 bool counts);
/* Past max_rejects (a count or a share of the rows read)? */
int load_check_rejects(struct load *L, struct err *err);
/* Errors that belong to a row (bad value, constraint, trigger) rather than
 * to the load: those are isolated and rejected, the others fail the load. */
bool load_row_error(const struct pg_result *r);
/* "message (detail)" of a server error. */
void load_server_reason(const struct pg_result *r, char *buf, size_t size);
void load_progress(struct load *L, int64_t start_ms, bool final);
/* Just before the COMMIT on L->main: the load's row in the task's commit
 * ledger (nothing for an ad-hoc load). 0, or ERR_EXISTS when an earlier try
 * committed meanwhile (roll back), or <0; err set. */
int load_ledger_mark(struct load *L, int64_t rows, struct err *err);

/* ---- copy.c: records to COPY streams -------------------------------- */

struct batch *load_batch_new(void);
void load_batch_free(struct batch *b);
/* Starts the streams, produces every record from first on, waits for the
 * streams; the first failure of any of them is the result. */
int load_run_streams(struct load *L, struct record *first, struct err *err);

/* ---- binary.c: COPY in binary format ------------------------------ */

/* How a column's value is written in binary (binary.c). */
enum bin_enc { BIN_TEXT, BIN_JSONB, BIN_BOOL, BIN_INT2, BIN_INT4, BIN_INT8, BIN_NUMERIC, BIN_DATE, BIN_TIMESTAMP, BIN_UUID };

/* Room a value of n bytes of text input form may take in binary. */
#define BIN_ROOM(n) ((n) + 32)
/* Sets L->enc when every column pair (contract type, target type) has a
 * binary form; else -1 and why (for the log). */
int load_bin_plan(struct load *L, char *why, size_t why_size);
/* The header every binary COPY starts with. */
const char *load_bin_header(size_t *len);
/* Writes one field (length and bytes; v NULL = NULL) at *w and moves it.
 * -1 with reason when the value has no binary form in that type (out of
 * range): the reason is the one the server gives of the same text. */
int load_bin_put(char **w, enum bin_enc e, const char *v, size_t n, char *reason, size_t rsize);
char *load_bin_int8(char *w, int64_t v);

/* ---- target.c: the target and the staging table --------------------- */

struct pg_conn *load_connect_target(const struct load_opts *o, struct err *err);
/* schema.name quoted (schema may be NULL). */
char *load_quote_name(struct pg_conn *c, const char *schema, const char *name);
/* The index of name in v (exact, else ignoring case), or -1. */
int load_find_col(char **v, size_t n, const char *name);
void load_strv_free(char **v, size_t n);
/* Which columns are loaded, from where, with which types. */
int load_plan_columns(struct load *L, struct err *err);
/* CREATE TABLE for a missing target (inside the load's transaction). */
int load_create_target(struct load *L, struct err *err);
/* Drops staging tables whose load is gone (killed): their guard lock is free. */
void load_drop_stale_stages(struct load *L);
int load_create_stage(struct load *L, long load_id, struct err *err);
void load_drop_stage(struct load *L);

/* ---- move.c: staged rows into the target ----------------------------- */

/* Merge: superseded rows given way; then one transaction creates or empties
 * the target as the mode says and moves the rows, isolating refused ones. */
int load_finish_staged(struct load *L, struct load_stats *st, struct err *err);

#endif
