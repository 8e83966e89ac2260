/* The SQL of every check, in one place: what a check task runs (a check's
 * failing rows under a target, the count of the rows it looked at), the
 * session and transaction it runs in, and the statements of a
 * reconciliation (core/reconcile.c). Text only: identifiers are quoted here
 * (mt_quote_ident, what PQescapeIdentifier gives for UTF-8), values are left
 * to parameters; nothing here talks to a server. */
#ifndef SLUICE_MODELS_CHECKSQL_H
#define SLUICE_MODELS_CHECKSQL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/util.h"
#include "core/models/model.h"

struct project;
struct target;

/* Adds to spec (a JSON object) everything a run of check c under target t
 * needs, so the run reads nothing of the project (the keys are listed in
 * doc/sluice.1 under "kind: check" and README's Checks):
 *   check, type, model (or null), source ("s.t" or null), column (or null),
 *   relation, conn, database (or null), severity, error_if, warn_if, limit,
 *   judge: "rows" (check_judge over the failing count), "freshness" or
 *   "reconcile";
 *   sql: the failing rows, two columns: k (the row's key as jsonb, or NULL)
 *   and r (the row as jsonb); params: the text values of its $1, $2 ...;
 *   total_sql: the count of the rows checked (absent when unknown; it
 *   takes no parameters);
 *   warn_after, error_after: freshness, in seconds (0: none);
 *   reconcile: {connection, database, relation, key, columns, ranges, leaf}.
 * Returns 0, or -1 with err saying why (the target cannot place the model, a
 * tests/ file does not render). */
int check_spec_build(const struct model_set *s, const struct project *p, const struct target *t, int c,
		     json_t *spec, struct err *err);

/* ---- what a run sends ------------------------------------------------------- */

/* The transaction a check reads in: one snapshot, nothing written. */
extern const char CHECKSQL_BEGIN[];
/* Its statement timeout: one parameter, in milliseconds. */
extern const char CHECKSQL_TIMEOUT[];
/* The session settings that make a value's text the same on any server
 * (time zone, date and interval styles, float digits): a reconciliation
 * compares text. */
extern const char CHECKSQL_SESSION[];

/* "SELECT count(*) FROM (sql) AS f" (malloc'ed). */
char *checksql_count(const char *sql);
/* The first limit rows of sql, in an order that is the same each run. */
char *checksql_rows(const char *sql, int limit);

/* ---- reconciliation ------------------------------------------------------------- */

/* The columns of a relation, in order: one parameter, the relation as SQL
 * text ("schema"."table"). */
extern const char CHECKSQL_COLUMNS[];

/* One side of a reconciliation. Key and cols are bare names (quoted here);
 * cols are compared after the key, in this order on both sides. */
struct rc_side {
	const char *relation;            /* quoted */
	const char *const *key;
	size_t n_key;
	const char *const *cols;
	size_t n_cols;
	const char *where;               /* an SQL filter, or NULL */
};

/* Each statement below reads the rows of a key range: lo (when given)
 * takes the first n_key parameters, the range's lowest key (included), hi
 * the next n_key, the key it stops before. Rows with a NULL key are left
 * out: they cannot be matched. */

/* count(*) of the range. */
void checksql_rc_count(struct strbuf *b, const struct rc_side *q, bool lo, bool hi);
/* The keys (as text, one column each) that split the range into parts of
 * `step` rows: the parameter after the bounds is step. */
void checksql_rc_bounds(struct strbuf *b, const struct rc_side *q, bool lo, bool hi);
/* For the range cut at n_cuts keys (parameters after the bounds, n_key
 * each, ascending): per part, its number (0 .. n_cuts), its rows and the
 * md5 of its rows' md5s in order. */
void checksql_rc_parts(struct strbuf *b, const struct rc_side *q, bool lo, bool hi, size_t n_cuts);
/* The range's rows: the key columns as text, the row's md5, and the
 * compared columns as jsonb; by key, at most limit. */
void checksql_rc_rows(struct strbuf *b, const struct rc_side *q, bool lo, bool hi, long limit);

/* "schema.table" or "table" as a quoted relation. */
void checksql_relation(struct strbuf *b, const char *table);

#endif
