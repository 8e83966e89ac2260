/* Kind restore: an Avro object container file into a table (core/backup.h)
 * in one transaction, appended, replacing its rows, or into a table it
 * creates; its commit in the target's ledger (core/ledger.h), so a try that
 * follows one that committed does not load the rows again. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"
#include "core/backup.h"
#include "core/kinds/kind.h"
#include "core/ledger.h"

struct restore_spec {
	char *conn;
	char *connection; /* conn's long form (kind_parse_place) */
	char *database;   /* NULL: the connection's own */
	char *file;       /* template: the file (relative to the project root) */
	char *into;       /* template: table or schema.table */
	char *mode;       /* append (default), replace, create */
};

static const char *const restore_modes[] = {"append", "replace", "create", NULL};

#define F(x) .field = offsetof(struct restore_spec, x)
static const struct kind_key restore_keys[] = {
	{.name = "conn", .type = KEY_CONN, F(conn)},
	{.name = "connection", .type = KEY_STRING, F(connection)},
	{.name = "database", .type = KEY_STRING, F(database)},
	{.name = "file", .type = KEY_TEMPLATE, F(file), .required = true},
	{.name = "into", .type = KEY_TEMPLATE, F(into), .required = true},
	{.name = "mode", .type = KEY_ENUM, F(mode), .values = restore_modes},
};
#undef F

static void restore_parse(const struct kind_parse *p, void *spec)
{
	struct restore_spec *s = spec;
	kind_parse_place(p, &s->conn, &s->connection, s->database);
}

static int restore_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct restore_spec *s = spec;
	char *file, *into;
	kind_build_place(out, s->conn, s->database);
	if (kind_render(b, s->file, "file", &file, err) < 0)
		return err_code(err);
	if (kind_render(b, s->into, "into", &into, err) < 0) {
		free(file);
		return err_code(err);
	}
	json_object_set_new(out, "file", json_string(file));
	json_object_set_new(out, "into", json_string(into));
	json_object_set_new(out, "mode", json_string(s->mode ? s->mode : "append"));
	free(file);
	free(into);
	return 0;
}

static void restore_describe(const json_t *spec, struct strbuf *out)
{
	const char *f = json_string_value(json_object_get(spec, "file"));
	const char *t = json_string_value(json_object_get(spec, "into"));
	const char *m = json_string_value(json_object_get(spec, "mode"));
	sb_addf(out, "restore %s into %s on %s (%s)", f ? f : "?", t ? t : "?", kind_spec_conn_key(spec), m ? m : "append");
}

static int mark(struct pg_conn *c, int64_t rows, void *arg, struct err *err)
{
	return ledger_mark(arg, c, "restore", (long long)rows, err);
}

static int restore_run(const json_t *spec, const struct task_env *env)
{
	const char *file = json_string_value(json_object_get(spec, "file"));
	const char *into = json_string_value(json_object_get(spec, "into"));
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	if (!file || !into) {
		fprintf(stderr, "restore: the task's spec has no file or into\n");
		return 1;
	}
	struct ledger lg;
	ledger_init(&lg, env);
	struct restore_opts o = {.file = file, .table = into, .before_commit = mark, .commit_arg = &lg};
	o.mode = mode && !strcmp(mode, "replace") ? RESTORE_REPLACE : mode && !strcmp(mode, "create") ? RESTORE_CREATE
											       : RESTORE_APPEND;
	struct err e = {0};
	struct pg_conn *c = kind_connect(spec, env, &e);
	if (!c) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	int seen = ledger_begin_check(&lg, c, stdout, &e);
	if (seen != 0) {
		if (seen > 0)
			ledger_say(&lg, stdout, false);
		else
			fprintf(stderr, "%s\n", e.msg);
		pg_close(c);
		return seen > 0 ? 0 : 1;
	}
	struct restore_result r;
	int rc = restore_file(c, &o, &r, &e);
	pg_close(c);
	if (rc < 0) {
		fprintf(stderr, "restore into %s: %s\n", into, e.msg);
		printf("rolled back: %s was not changed\n", into);
		return rc == ERR_UNREACHABLE ? 2 : 1;
	}
	if (r.skipped) {
		ledger_say(&lg, stdout, true);
		return 0;
	}
	printf("restore of %s into %s (%s): %lld rows, %d columns, %lld blocks in %.2f s\n", file, into,
	       mode ? mode : "append", (long long)r.rows, r.columns, (long long)r.blocks, r.seconds);
	return 0;
}

const struct kind_ops kind_restore = {
	.name = "restore",
	.summary = "an Avro object container file into a table in one transaction (append, replace, create)",
	.spec_size = sizeof(struct restore_spec),
	.keys = restore_keys,
	.n_keys = sizeof restore_keys / sizeof restore_keys[0],
	.parse = restore_parse,
	.build = restore_build,
	.describe = restore_describe,
	.conn = kind_spec_conn_key,
	.run = restore_run,
};
