/* Quality checks as the project declares them: column tests (not_null,
 * unique, accepted_values, relationships), model tests (row_count,
 * expression, unique_combination, freshness), source freshness and custom
 * SQL files (tests/ **.sql returning the failing rows), each with a
 * severity and thresholds. Parsed and checked here; run by the check kind,
 * which counts failing rows and asks check_judge() what that means. */
#ifndef SLUICE_MODELS_CHECK_H
#define SLUICE_MODELS_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/models/model.h"

enum check_kind {
	CHECK_NOT_NULL,           /* column */
	CHECK_UNIQUE,             /* column */
	CHECK_ACCEPTED_VALUES,    /* column: values */
	CHECK_RELATIONSHIPS,      /* column: every value is in to.field */
	CHECK_ROW_COUNT,          /* model: min <= count(*) <= max */
	CHECK_EXPRESSION,         /* model: rows where expression is not true fail */
	CHECK_UNIQUE_COMBINATION, /* model: columns together are unique */
	CHECK_FRESHNESS,          /* model: age of max(column) */
	CHECK_SOURCE_FRESHNESS,   /* source table: age of max(loaded_at_field) */
	CHECK_CUSTOM,             /* tests/ file: the rows its SELECT returns fail */
	CHECK_RECONCILE,          /* model or source table: the same rows as a table on another connection */
};

enum check_severity { SEV_ERROR, SEV_WARN };

/* error_if / warn_if: "failing OP value", value a count or a percentage of
 * the rows checked (">5%"). */
enum thr_op { THR_GT, THR_GE, THR_LT, THR_LE, THR_EQ, THR_NE };

struct check_threshold {
	enum thr_op op;
	double value;
	bool percent;
};

/* What a run of a check comes to. */
enum check_status { CHECK_PASS, CHECK_WARN, CHECK_FAIL, CHECK_ERROR };

#define CHECK_DEFAULT_LIMIT 100
#define RECONCILE_DEFAULT_RANGES 16
#define RECONCILE_DEFAULT_LEAF 256

/* reconcile: the relation checked ("here", on the target) against a table
 * on another connection ("there"), row for row by key. */
struct check_reconcile {
	char *connection;         /* there: a connection name from connections.yml */
	char *database;           /* a database on that connection's server; NULL: its own */
	char *table;              /* there: table or schema.table */
	struct names key;         /* the key columns, one or more */
	struct names columns;     /* the columns compared; none: every column both sides have */
	int ranges;               /* key ranges a differing range is split into */
	int leaf;                 /* a range of at most this many rows lists its keys */
};

struct model_check {
	char *name;               /* unique in the project: customers.customer_id.not_null */
	enum check_kind kind;
	int model;                /* the model checked (index in set->v), -1: a source's or none */
	int table;                /* CHECK_SOURCE_FRESHNESS, or a column test on a source: set->tables index; -1 */
	char *column;             /* column tests; NULL otherwise */
	enum check_severity severity;   /* default error */
	struct check_threshold error_if, warn_if; /* default "!=0" both */
	char *where;              /* an SQL filter on the rows checked; NULL: all */
	int limit;                /* failing rows kept per run (default CHECK_DEFAULT_LIMIT) */
	struct names tags;        /* its own; the model's tags apply too */
	/* the models it must run after: the model, relationships' `to`, a
	 * custom file's refs (each once) */
	int *parents;
	size_t n_parents;
	/* kind-specific */
	struct names values;      /* CHECK_ACCEPTED_VALUES (as strings) */
	bool quote;               /* CHECK_ACCEPTED_VALUES: values are quoted literals (default true) */
	int to_model;             /* CHECK_RELATIONSHIPS: ref('m'), or -1 ... */
	int to_table;             /* ... source('s','t'), or -1 */
	char *field;              /* CHECK_RELATIONSHIPS: the column there */
	bool have_min, have_max;  /* CHECK_ROW_COUNT */
	long long min, max;
	char *expression;         /* CHECK_EXPRESSION */
	struct names columns;     /* CHECK_UNIQUE_COMBINATION */
	char *at_column;          /* CHECK_FRESHNESS: the timestamp column */
	double warn_after, error_after; /* CHECK_FRESHNESS, CHECK_SOURCE_FRESHNESS: seconds, 0: none */
	struct check_reconcile *rc; /* CHECK_RECONCILE */
	char *path;               /* CHECK_CUSTOM: the file as shown */
	char *sql;                /* CHECK_CUSTOM: its text */
	struct mtmpl *tmpl;       /* CHECK_CUSTOM: parsed (MT_TEST) */
	struct loc loc;           /* where it is declared */
};

const char *check_kind_name(enum check_kind k);
const char *check_status_name(enum check_status s);

/* The status of a run that found failing rows out of total checked (total
 * is what percentages are of; 0 makes a percentage threshold count as 0%):
 * error_if first, then warn_if; a warn-severity check is never worse than
 * CHECK_WARN. */
enum check_status check_judge(const struct model_check *c, long long failing, long long total);

/* Parses a threshold: ">10", ">= 5", "!=0", "<1%", "=0". Returns 0 or -1
 * with *bad the offset of what was not understood. */
int check_threshold_parse(const char *s, struct check_threshold *out, size_t *bad);
/* The threshold as written back (">10", ">5%"). */
void check_threshold_text(const struct check_threshold *t, char *buf, size_t cap);

#endif
