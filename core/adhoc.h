/* A statement someone typed (`sluice sql`), run on a connection with a
 * statement timeout: its rows, or the server's error with the place in the
 * statement it points at. */
#ifndef SLUICE_ADHOC_H
#define SLUICE_ADHOC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* libpq's result (connectors/pg.h): read with pg_rows, pg_cols, pg_val ... */
struct pg_result;

/* Where an error points in the statement (line and column from 1, counted in
 * characters; 0: the server named no place). */
struct adhoc_pos {
	int line, col;
	size_t line_off;   /* byte offset of that line in the statement */
	size_t off;        /* byte offset of the place */
};

/* Connects to dsn (connect_timeout and keepalives added unless it sets
 * them), sets statement_timeout to timeout_s and runs sql. Returns the
 * result (caller pg_clear()s) or NULL with err set: the server's message
 * after name ("wh: line 1, column 8: syntax error at or near ..."), pos filled when it
 * points at a place, err's code ERR_UNREACHABLE when the server could not
 * be reached. */
struct pg_result *adhoc_run(const char *dsn, const char *name, const char *sql, int timeout_s, struct adhoc_pos *pos, struct err *err);

/* The same, the rows handed to each one at a time as they come (a result of
 * one row, borrowed for the call), so memory stays flat: for output that
 * needs no widths (CSV, JSON). Returns the last result (the columns, the
 * command tag, no rows; caller pg_clear()s) or NULL as adhoc_run. */
struct pg_result *adhoc_stream(const char *dsn, const char *name, const char *sql, int timeout_s,
			       int (*each)(const struct pg_result *row, void *arg), void *arg, struct adhoc_pos *pos,
			       struct err *err);

#endif
