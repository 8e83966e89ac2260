/* Kind sql: a script of SQL statements run in one transaction on a
 * connection (default: the project's target), each statement's outcome in
 * the task log. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"
#include "core/kinds/kind.h"
#include "core/ledger.h"
#include "core/writes.h"

struct sql_spec {
	char *conn;
	char *connection; /* conn's long form (kind_parse_place) */
	char *database;   /* NULL: the connection's own */
	char *sql;        /* template text */
	struct strv writes; /* the tables it writes, recorded as their last writer (core/writes.h) */
};

static const struct kind_key sql_keys[] = {
	{.name = "conn", .type = KEY_CONN, .field = offsetof(struct sql_spec, conn)},
	{.name = "connection", .type = KEY_STRING, .field = offsetof(struct sql_spec, connection)},
	{.name = "database", .type = KEY_STRING, .field = offsetof(struct sql_spec, database)},
	{.name = "sql", .type = KEY_TEMPLATE, .field = offsetof(struct sql_spec, sql), .required = true},
	{.name = "writes", .type = KEY_NAMES, .field = offsetof(struct sql_spec, writes)},
};

static void sql_parse(const struct kind_parse *p, void *spec)
{
	struct sql_spec *s = spec;
	kind_parse_place(p, &s->conn, &s->connection, s->database);
}

static int sql_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct sql_spec *s = spec;
	char *sql;
	kind_build_place(out, s->conn, s->database);
	if (kind_render(b, s->sql, "sql", &sql, err) < 0)
		return err_code(err);
	json_object_set_new(out, "sql", json_string(sql));
	free(sql);
	if (s->writes.n) {
		json_t *w = json_array();
		for (size_t i = 0; i < s->writes.n; i++)
			json_array_append_new(w, json_string(s->writes.v[i]));
		json_object_set_new(out, "writes", w);
	}
	return 0;
}

static void sql_describe(const json_t *spec, struct strbuf *out)
{
	const char *sql = json_string_value(json_object_get(spec, "sql"));
	const char *db = json_string_value(json_object_get(spec, "database"));
	sb_addf(out, "sql on %s%s%s: %s", kind_spec_conn_key(spec), db ? ", database " : "", db ? db : "", sql ? sql : "");
}

/* Each statement's command tag on stdout, an error on stderr. */
static void print_step(const struct pg_step *s, void *arg)
{
	bool *printed_error = arg;
	if (s->tag && s->rows >= 0)
		printf("%s (%d row%s)\n", s->tag, s->rows, s->rows == 1 ? "" : "s");
	else if (s->tag)
		printf("%s\n", s->tag);
	else {
		fflush(stdout);
		taskexec_settle(1);
		if (s->copy)
			fprintf(stderr, "ERROR: COPY FROM STDIN/TO STDOUT is not supported in a sql task; use a load task\n");
		else
			fprintf(stderr, "ERROR: %s%s%s (SQLSTATE %s)\n", s->error, s->position ? " at character " : "",
				s->position ? s->position : "", s->sqlstate ? s->sqlstate : "?");
		*printed_error = true;
	}
}

/* The tables the spec says it writes ("schema.table" or "table"), each
 * recorded as written by this try. */
static int note_writes(struct pg_conn *c, const json_t *spec, const struct task_env *env, struct err *err)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(spec, "writes"), i, w)
	{
		const char *name = json_string_value(w), *dot = name ? strchr(name, '.') : NULL;
		if (!name)
			continue;
		char schema[PG_NAME_MAX + 1];
		if (dot)
			snprintf(schema, sizeof schema, "%.*s", (int)(dot - name), name);
		if (writes_note(c, env, dot ? schema : NULL, dot ? dot + 1 : name, -1, err) < 0)
			return err_code(err);
	}
	return 0;
}

/* Runs the script in one transaction, with its row in the commit ledger
 * (core/ledger.h) just before the COMMIT; not at all when an earlier try of
 * the attempt committed. Exit 2 when the database cannot be reached, 1 when
 * a statement or the commit failed. */
static int sql_run(const json_t *spec, const struct task_env *env)
{
	const char *sql = json_string_value(json_object_get(spec, "sql"));
	const char *db = json_string_value(json_object_get(spec, "database"));
	struct err e = {0};
	char what[300];
	snprintf(what, sizeof what, "connection '%s'%s%s", kind_spec_conn_key(spec), db ? ", database " : "", db ? db : "");
	struct pg_conn *c = kind_connect(spec, env, &e);
	if (!c) {
		/* one line, so it is the error summary too */
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	struct ledger lg;
	ledger_init(&lg, env);
	int seen = ledger_begin_check(&lg, c, stdout, &e);
	if (seen != 0) {
		if (seen > 0)
			ledger_say(&lg, stdout, false);
		else
			fprintf(stderr, "%s: %s\n", what, e.msg);
		pg_close(c);
		return seen > 0 ? 0 : 1;
	}
	if (json_array_size(json_object_get(spec, "writes")) && writes_prepare(c, &e) < 0) {
		fprintf(stderr, "%s: %s\n", what, e.msg);
		pg_close(c);
		return 1;
	}
	/* the notices of the user's SQL belong in the task log (stderr) */
	pg_cmd(c, "RESET client_min_messages", 0, NULL, &e);
	if (pg_cmd(c, "BEGIN", 0, NULL, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		pg_close(c);
		return 1;
	}
	/* one simple-protocol script, so several statements may be given; each
	 * result reports its own command tag */
	bool printed_error = false;
	int rc = 0, meanwhile = 0;
	if (pg_script_steps(c, sql ? sql : "", print_step, &printed_error, &e) < 0) {
		if (!printed_error) /* it could not be sent */
			fprintf(stderr, "%s\n", e.msg);
		rc = 1;
	}
	fflush(stdout);
	if (!rc && note_writes(c, spec, env, &e) < 0) {
		taskexec_settle(1);
		fprintf(stderr, "%s\n", e.msg);
		rc = 1;
	}
	if (!rc && (meanwhile = ledger_mark(&lg, c, "sql", -1, &e)) < 0) {
		taskexec_settle(1);
		fprintf(stderr, "%s\n", e.msg);
		rc = 1;
	}
	if (pg_cmd(c, rc || meanwhile ? "ROLLBACK" : "COMMIT", 0, NULL, &e) < 0) {
		fflush(stdout);
		taskexec_settle(1);
		fprintf(stderr, "commit failed: %s\n", e.msg);
		rc = 1;
	} else if (meanwhile) {
		ledger_say(&lg, stdout, true);
	} else if (rc) {
		/* stdout: the error above stays the last stderr line, the summary */
		taskexec_settle(2);
		printf("rolled back: nothing was changed\n");
	}
	pg_close(c);
	return rc;
}

const struct kind_ops kind_sql = {
	.name = "sql",
	.summary = "SQL statements run in one transaction on a connection",
	.spec_size = sizeof(struct sql_spec),
	.keys = sql_keys,
	.n_keys = sizeof sql_keys / sizeof sql_keys[0],
	.parse = sql_parse,
	.build = sql_build,
	.describe = sql_describe,
	.conn = kind_spec_conn_key,
	.run = sql_run,
};
