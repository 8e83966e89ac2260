/* Browsing a database: its schemas, the tables of a schema (estimated rows,
 * size, last writer from sluice.writes), a table's rows a screen at a time
 * by keyset on its primary key (ctid without one) -- never OFFSET, never the
 * whole table -- sorted by a column, filtered by a WHERE expression the user
 * types, a column's profile and a CSV export of what is shown. The one place
 * of the SQL; each statement is built apart from reading its result, so the
 * console sends them asynchronously and the batch face (sluice tables,
 * sluice rows) synchronously. Every statement runs in a READ ONLY
 * transaction with a statement timeout (BROWSE_BEGIN, BROWSE_TIMEOUT, then
 * COMMIT). */
#ifndef SLUICE_BROWSE_H
#define SLUICE_BROWSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "core/writes.h"

struct pg_conn;
struct pg_result;

#define BROWSE_TIMEOUT_S 10
/* Rows a profile reads when the column has no statistics. */
#define BROWSE_SAMPLE_ROWS 100000

/* The transaction a browse statement runs in: BROWSE_BEGIN, BROWSE_TIMEOUT,
 * the statement, COMMIT (ROLLBACK after an error). */
extern const char BROWSE_BEGIN[];
extern const char BROWSE_TIMEOUT[];
extern const char BROWSE_COMMIT[];
extern const char BROWSE_ROLLBACK[];

/* A statement and its text parameters (all malloc'ed). */
struct browse_stmt {
	char *sql;
	int n;
	char **params;
	bool reversed; /* the rows come last first: show them the other way round */
};
void browse_stmt_free(struct browse_stmt *s);

/* ---- schemas and tables ------------------------------------------------------ */

struct browse_schema {
	char *name;
	long tables;
};
/* The schemas a role may use (no catalogs): name, tables, and in every row
 * whether sluice.writes is there (browse_schemas_parse's *has_writes). */
void browse_schemas_stmt(struct browse_stmt *s);
int browse_schemas_parse(const struct pg_result *r, struct browse_schema **out, size_t *n, bool *has_writes);
void browse_schemas_free(struct browse_schema *v, size_t n);

struct browse_table {
	char *name;
	char kind;              /* r table, p partitioned, v view, m materialized view, f foreign */
	long long est_rows;     /* pg_class.reltuples; -1: never analysed */
	long long bytes;        /* pg_total_relation_size */
	char *size;             /* pg_size_pretty */
	bool has_writer;
	struct write_info writer;
};
/* The tables of schema, with their last writer when has_writes. */
void browse_tables_stmt(struct browse_stmt *s, const char *schema, bool has_writes);
int browse_tables_parse(const struct pg_result *r, bool has_writes, struct browse_table **out, size_t *n);
void browse_tables_free(struct browse_table *v, size_t n);
const char *browse_kind_name(char kind);

/* ---- a table's shape ----------------------------------------------------------- */

struct browse_rel {
	char *schema, *table;
	char *q_rel;        /* "schema"."table", quoted */
	size_t n_cols;
	char **cols;        /* names */
	char **q_cols;      /* quoted */
	char **types;       /* format_type */
	size_t n_key;       /* columns of the primary key; 0: by ctid (or none for a view) */
	size_t *key;        /* their indexes in cols, in key order */
	bool by_ctid;       /* no primary key: ctid is the key (an extra last column of a page) */
	bool keyless;       /* a view without key: only the first page */
	long long est_rows;
};
/* Its columns and primary key ($1 schema, $2 table); no row when there is
 * no such table. */
void browse_rel_stmt(struct browse_stmt *s, const char *schema, const char *table);
/* c quotes the identifiers (PQescapeIdentifier). ERR_NOTFOUND when r has no row. */
int browse_rel_parse(const struct pg_result *r, struct pg_conn *c, const char *schema, const char *table,
		     struct browse_rel *out, struct err *err);
void browse_rel_free(struct browse_rel *r);
/* "schema.table" or "table" (schema "public") split; names are not quoted. */
void browse_split_name(const char *name, char *schema, size_t ss, char *table, size_t ts);

/* ---- pages ------------------------------------------------------------------- */

/* What is shown: a filter and a sort. */
struct browse_view {
	const char *where;  /* an SQL expression, NULL or "": none */
	int sort;           /* a column index; -1: by the key */
	bool desc;
	int limit;          /* rows a page */
};

enum browse_page { BP_FIRST, BP_NEXT, BP_PREV, BP_LAST };

/* Where a page starts or ends: the sort column's value and the key's. */
struct browse_mark {
	bool set;
	char *sort;         /* NULL: SQL NULL */
	size_t n;
	char **key;
};
void browse_mark_free(struct browse_mark *m);
/* The mark of row `row` of a page result. */
void browse_mark_take(const struct browse_rel *rel, const struct browse_view *bv, const struct pg_result *r, int row,
		      struct browse_mark *m);
/* The page: BP_FIRST and BP_LAST need no mark; BP_NEXT the last row's of the
 * page shown, BP_PREV its first row's. Columns: the table's, then ctid when
 * by_ctid. */
void browse_rows_stmt(const struct browse_rel *rel, const struct browse_view *bv, enum browse_page pg,
		      const struct browse_mark *m, struct browse_stmt *s);
/* The whole view (filter and sort, no limit) for an export. */
void browse_export_stmt(const struct browse_rel *rel, const struct browse_view *bv, struct browse_stmt *s);

/* ---- a column's profile ---------------------------------------------------------- */

struct browse_profile {
	char *source;       /* "pg_stats (last ANALYZE)", "a sample of 100000 rows (TABLESAMPLE SYSTEM 1%)" */
	long long rows;     /* rows the figures stand for */
	double null_share;  /* 0..1; < 0: unknown */
	double distinct;    /* estimated distinct values; < 0: unknown */
	char *min, *max;    /* NULL: unknown */
	char *top;          /* "a (12.5%), b (3.1%)"; NULL: none */
};
/* From pg_stats ($1 schema, $2 table, $3 column): no row when the column
 * was never analysed; then browse_profile_sample_stmt. */
void browse_profile_stats_stmt(struct browse_stmt *s, const struct browse_rel *rel, size_t col);
void browse_profile_sample_stmt(struct browse_stmt *s, const struct browse_rel *rel, size_t col);
/* 0, ERR_NOTFOUND when r has no row. */
int browse_profile_parse(const struct pg_result *r, struct browse_profile *out);
void browse_profile_free(struct browse_profile *p);

/* ---- synchronous forms (the batch face, the console's export child) --------- */

/* s in a read-only transaction with the timeout (timeout_s 0: none). */
struct pg_result *browse_exec(struct pg_conn *c, const struct browse_stmt *s, int timeout_s, struct err *err);
/* Reads the table's shape: ERR_NOTFOUND when there is none. */
int browse_rel_load(struct pg_conn *c, const char *schema, const char *table, struct browse_rel *out,
		    struct err *err);
/* One CSV field (RFC 4180: quoted when it holds a comma, quote, CR or LF, or
 * is empty; NULL as nothing). */
void browse_csv_field(FILE *f, const char *s, bool null);
/* Streams the view as CSV (a header line, CRLF ends) to out, row by row;
 * *rows gets how many. */
int browse_export_csv(struct pg_conn *c, const struct browse_rel *rel, const struct browse_view *bv, FILE *out,
		      long long *rows, struct err *err);
/* The same into the file path, atomically (path.tmp renamed). */
int browse_export_file(struct pg_conn *c, const struct browse_rel *rel, const struct browse_view *bv,
		       const char *path, long long *rows, struct err *err);

#endif
