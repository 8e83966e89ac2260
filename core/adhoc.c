/* Ad hoc statements: one connection, one statement, a bounded wait. */
#include "core/adhoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"
#include "core/connections.h"

/* SQL this module runs besides the statement it is given. */
static const char SQL_STATEMENT_TIMEOUT[] = "SELECT set_config('statement_timeout', $1, false)";

/* The character position (from 1) the server gives, as line and column. */
static void locate(const char *sql, long pos, struct adhoc_pos *out)
{
	out->line = 1;
	out->col = 1;
	out->line_off = 0;
	long ch = 1;
	size_t i = 0;
	for (; sql[i] && ch < pos; i++) {
		unsigned char b = (unsigned char)sql[i];
		if ((b & 0xc0) == 0x80)
			continue; /* inside a UTF-8 character */
		if (sql[i] == '\n') {
			out->line++;
			out->col = 0;
			out->line_off = i + 1;
		}
		out->col++;
		ch++;
	}
	/* i is on the first byte of character pos */
	while (sql[i] && ((unsigned char)sql[i] & 0xc0) == 0x80)
		i++;
	out->off = i;
}

/* The server's error, placed in the statement when it says where. */
static void place_error(const char *sql, struct pg_result *refused, struct adhoc_pos *pos, struct err *err)
{
	const char *at = pg_error_field(refused, PG_FIELD_POSITION);
	const char *m = pg_error_field(refused, PG_FIELD_PRIMARY);
	const char *state = pg_error_field(refused, PG_FIELD_SQLSTATE);
	const char *detail = pg_error_field(refused, PG_FIELD_DETAIL);
	if (at && atol(at) > 0) {
		locate(sql, atol(at), pos);
		err_setc(err, err->code, "line %d, column %d: %s%s%s%s (SQLSTATE %s)", pos->line, pos->col, m ? m : "",
			 detail ? " (" : "", detail ? detail : "", detail ? ")" : "", state ? state : "?");
	}
}

/* Connected to dsn with the statement timeout set, or NULL with err set. */
static struct pg_conn *open_conn(const char *dsn, const char *name, int timeout_s, struct err *err)
{
	char *g = connections_dsn_guarded(dsn, 0);
	struct pg_conn *c = pg_connect(g, name, err);
	memset(g, 0, strlen(g));
	free(g);
	if (!c)
		return NULL;
	char ms[32];
	snprintf(ms, sizeof ms, "%ld", (long)timeout_s * 1000);
	const char *p[] = {ms};
	if (pg_cmd(c, SQL_STATEMENT_TIMEOUT, 1, p, err) < 0) {
		err_prefix(err, "%s", name);
		pg_close(c);
		return NULL;
	}
	return c;
}

/* Runs sql on dsn: streamed to each, or (each NULL) whole. */
static struct pg_result *run(const char *dsn, const char *name, const char *sql, int timeout_s,
			     int (*each)(const struct pg_result *row, void *arg), void *arg, struct adhoc_pos *pos,
			     struct err *err)
{
	memset(pos, 0, sizeof *pos);
	struct pg_conn *c = open_conn(dsn, name, timeout_s, err);
	if (!c)
		return NULL;
	struct pg_result *refused = NULL;
	struct pg_result *r = each ? pg_stream(c, sql, each, arg, &refused, err) : pg_try(c, sql, 0, NULL, &refused, err);
	if (refused) {
		place_error(sql, refused, pos, err);
		pg_clear(refused);
	}
	if (!r)
		err_prefix(err, "%s", name);
	pg_close(c);
	return r;
}

struct pg_result *adhoc_run(const char *dsn, const char *name, const char *sql, int timeout_s, struct adhoc_pos *pos,
			    struct err *err)
{
	return run(dsn, name, sql, timeout_s, NULL, NULL, pos, err);
}

struct pg_result *adhoc_stream(const char *dsn, const char *name, const char *sql, int timeout_s,
			       int (*each)(const struct pg_result *row, void *arg), void *arg, struct adhoc_pos *pos,
			       struct err *err)
{
	return run(dsn, name, sql, timeout_s, each, arg, pos, err);
}
