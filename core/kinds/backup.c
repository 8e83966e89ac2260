/* Kind backup: a table to an Avro object container file (core/backup.h),
 * on its connection, the file written whole or not at all. It changes no
 * database, and a second run writes the same file again: no ledger. */
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "connectors/pg.h"
#include "core/backup.h"
#include "core/kinds/kind.h"

struct backup_spec {
	char *conn;
	char *connection; /* conn's long form (kind_parse_place) */
	char *database;   /* NULL: the connection's own */
	char *table;      /* template: table or schema.table */
	char *out;        /* template: the file (relative to the project root) */
	char *codec;      /* null, deflate (default), snappy */
	int level;        /* deflate's level; 0: the default */
};

static const char *const codecs[] = {"null", "deflate", "snappy", NULL};

#define F(x) .field = offsetof(struct backup_spec, x)
static const struct kind_key backup_keys[] = {
	{.name = "conn", .type = KEY_CONN, F(conn)},
	{.name = "connection", .type = KEY_STRING, F(connection)},
	{.name = "database", .type = KEY_STRING, F(database)},
	{.name = "table", .type = KEY_TEMPLATE, F(table), .required = true},
	{.name = "out", .type = KEY_TEMPLATE, F(out)},
	{.name = "codec", .type = KEY_ENUM, F(codec), .values = codecs},
	{.name = "level", .type = KEY_INT, F(level), .min = 1},
};
#undef F

static void backup_parse(const struct kind_parse *p, void *spec)
{
	struct backup_spec *s = spec;
	kind_parse_place(p, &s->conn, &s->connection, s->database);
	if (s->level > 9)
		diags_add(p->r->d, yr_at_value(p->r, p->task, "level"), "'level' is deflate's, 1 to 9, not %d", s->level);
	if (s->level && (!s->codec || strcmp(s->codec, "deflate")) && s->codec)
		diags_add(p->r->d, yr_at_key(p->r, p->task, "level"), "'level' applies to codec deflate only");
}

static int backup_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct backup_spec *s = spec;
	char *table, *file;
	kind_build_place(out, s->conn, s->database);
	if (kind_render(b, s->table, "table", &table, err) < 0)
		return err_code(err);
	if (s->out) {
		if (kind_render(b, s->out, "out", &file, err) < 0) {
			free(table);
			return err_code(err);
		}
	} else {
		file = xasprintf("backups/%s.avro", table);
	}
	json_object_set_new(out, "table", json_string(table));
	json_object_set_new(out, "out", json_string(file));
	json_object_set_new(out, "codec", json_string(s->codec ? s->codec : "deflate"));
	if (s->level)
		json_object_set_new(out, "level", json_integer(s->level));
	free(table);
	free(file);
	return 0;
}

static void backup_describe(const json_t *spec, struct strbuf *out)
{
	const char *t = json_string_value(json_object_get(spec, "table"));
	const char *f = json_string_value(json_object_get(spec, "out"));
	const char *c = json_string_value(json_object_get(spec, "codec"));
	sb_addf(out, "backup %s on %s to %s (%s)", t ? t : "?", kind_spec_conn_key(spec), f ? f : "?", c ? c : "deflate");
}

static int backup_run(const json_t *spec, const struct task_env *env)
{
	const char *table = json_string_value(json_object_get(spec, "table"));
	const char *file = json_string_value(json_object_get(spec, "out"));
	struct backup_opts o = {.table = table, .out = file,
				.level = (int)json_integer_value(json_object_get(spec, "level"))};
	struct err e = {0};
	if (!table || !file || backup_codec(json_string_value(json_object_get(spec, "codec")) ?: "deflate", &o.codec) < 0) {
		fprintf(stderr, "backup: the task's spec has no table, out or codec\n");
		return 1;
	}
	char *dir = xstrdup(file);
	int rc = mkdir_p(dirname(dir), 0755, &e);
	free(dir);
	if (rc < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	struct pg_conn *c = kind_connect(spec, env, &e);
	if (!c) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	struct backup_result r;
	rc = backup_table(c, &o, &r, &e);
	pg_close(c);
	if (rc < 0) {
		fprintf(stderr, "backup of %s: %s\n", table, e.msg);
		return rc == ERR_UNREACHABLE ? 2 : 1;
	}
	printf("backup of %s: %lld rows, %d columns, %lld blocks, %lld bytes (%s) in %.2f s: %s\n", table,
	       (long long)r.rows, r.columns, (long long)r.blocks, (long long)r.bytes, avro_codec_name(o.codec), r.seconds,
	       file);
	return 0;
}

const struct kind_ops kind_backup = {
	.name = "backup",
	.summary = "a table to an Avro object container file (null, deflate or snappy)",
	.spec_size = sizeof(struct backup_spec),
	.keys = backup_keys,
	.n_keys = sizeof backup_keys / sizeof backup_keys[0],
	.parse = backup_parse,
	.build = backup_build,
	.describe = backup_describe,
	.conn = kind_spec_conn_key,
	.run = backup_run,
};
