/* A table's columns as Avro types: the catalog read, the record schema
 * written and read back, the check of a file against a table. See
 * core/avromap.h for the mapping. */
#include "core/avromap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* The columns of a table, in order; generated columns left out (COPY cannot
 * write them). A domain counts as its base type. */
static const char COLUMNS_SQL[] =
	"SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
	"       coalesce(nullif(t.typbasetype, 0), t.oid)::int AS base, "
	"       CASE WHEN t.typbasetype <> 0 THEN t.typtypmod ELSE a.atttypmod END AS typmod, "
	"       NOT a.attnotnull, n.nspname, c.relname, c.reltuples::float8, c.relkind = 'p' "
	"FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
	"JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
	"ORDER BY a.attnum";
static const char EXISTS_SQL[] = "SELECT to_regclass($1) IS NOT NULL";

/* What each kind is written as. */
static const struct {
	const char *avro;      /* the Avro primitive */
	const char *logical;   /* its logicalType, or NULL */
	const char *create;    /* the SQL type --create gives it by default */
} KINDS[AK_N] = {
	[AK_BOOL] = {"boolean", NULL, "boolean"},
	[AK_INT2] = {"int", NULL, "smallint"},
	[AK_INT4] = {"int", NULL, "integer"},
	[AK_INT8] = {"long", NULL, "bigint"},
	[AK_FLOAT4] = {"float", NULL, "real"},
	[AK_FLOAT8] = {"double", NULL, "double precision"},
	[AK_TEXT] = {"string", NULL, "text"},
	[AK_JSONB] = {"string", NULL, "jsonb"},
	[AK_NUMERIC] = {"string", NULL, "numeric"},
	[AK_BYTEA] = {"bytes", NULL, "bytea"},
	[AK_UUID] = {"string", "uuid", "uuid"},
	[AK_DATE] = {"int", "date", "date"},
	[AK_TIMESTAMP] = {"long", "local-timestamp-micros", "timestamp without time zone"},
	[AK_TIMESTAMPTZ] = {"long", "timestamp-micros", "timestamp with time zone"},
	[AK_DECIMAL] = {"bytes", "decimal", "numeric"},
};

/* The kind of a type by its oid (pg_type.dat), -1 for one not supported. */
static int kind_of_oid(int oid, int typmod)
{
	switch (oid) {
	case 16: return AK_BOOL;
	case 21: return AK_INT2;
	case 23: return AK_INT4;
	case 20: return AK_INT8;
	case 700: return AK_FLOAT4;
	case 701: return AK_FLOAT8;
	case 25: case 1043: case 1042: case 19: case 114: return AK_TEXT;
	case 3802: return AK_JSONB;
	case 17: return AK_BYTEA;
	case 2950: return AK_UUID;
	case 1082: return AK_DATE;
	case 1114: return AK_TIMESTAMP;
	case 1184: return AK_TIMESTAMPTZ;
	case 1700: return typmod >= 4 ? AK_DECIMAL : AK_NUMERIC;
	default: return -1;
	}
}

void avtable_free(struct avtable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->cols[i].name);
		free(t->cols[i].sql_type);
	}
	free(t->cols);
	free(t->schema);
	free(t->name);
	memset(t, 0, sizeof *t);
}

/* numeric(p,s) as Avro's decimal: the scale cannot be negative (then the
 * values are integers with up to p-s digits), nor above the precision. */
static void decimal_of_typmod(int typmod, struct avcol *col)
{
	int tm = typmod - 4;
	int p = (tm >> 16) & 0xffff;
	/* an 11-bit signed scale (PostgreSQL 15 allows -1000 to 1000) */
	int s = ((tm & 0x7ff) ^ 1024) - 1024;
	if (s < 0) {
		col->precision = p - s;
		col->scale = 0;
	} else {
		col->precision = s > p ? s : p;
		col->scale = s;
	}
}

char *avtable_quote(struct pg_conn *c, const char *table)
{
	const char *dot = strchr(table, '.');
	if (!dot)
		return pg_ident(c, table);
	char *schema = xstrndup(table, (size_t)(dot - table));
	char *qs = pg_ident(c, schema), *qt = pg_ident(c, dot + 1);
	char *q = xasprintf("%s.%s", qs, qt);
	free(schema);
	free(qs);
	free(qt);
	return q;
}

int avtable_read(struct pg_conn *c, const char *table, struct avtable *t, struct err *err)
{
	memset(t, 0, sizeof *t);
	char *q = avtable_quote(c, table);
	const char *params[1] = {q};
	struct pg_result *r = pg_exec(c, EXISTS_SQL, 1, params, err);
	if (!r) {
		free(q);
		return err_prefix(err, "table '%s'", table);
	}
	bool exists = !strcmp(pg_val(r, 0, 0), "t");
	pg_clear(r);
	if (!exists) {
		free(q);
		return err_setc(err, ERR_NOTFOUND, "no table '%s'", table);
	}
	r = pg_exec(c, COLUMNS_SQL, 1, params, err);
	free(q);
	if (!r)
		return err_prefix(err, "table '%s'", table);
	int n = pg_rows(r);
	if (!n) {
		pg_clear(r);
		return err_set(err, "table '%s' has no columns", table);
	}
	t->cols = xcalloc((size_t)n, sizeof *t->cols);
	t->schema = xstrdup(pg_val(r, 0, 5));
	t->name = xstrdup(pg_val(r, 0, 6));
	t->reltuples = strtod(pg_val(r, 0, 7), NULL);
	t->partitioned = !strcmp(pg_val(r, 0, 8), "t");
	for (int i = 0; i < n; i++) {
		struct avcol *col = &t->cols[t->n++];
		col->name = xstrdup(pg_val(r, i, 0));
		col->sql_type = xstrdup(pg_val(r, i, 1));
		int typmod = atoi(pg_val(r, i, 3));
		int k = kind_of_oid(atoi(pg_val(r, i, 2)), typmod);
		col->nullable = !strcmp(pg_val(r, i, 4), "t");
		col->null_branch = col->val_branch = col->nan_branch = -1;
		if (k < 0) {
			err_set(err, "table '%s': column '%s' is of type %s, which backups do not support "
				"(boolean, smallint, integer, bigint, real, double precision, numeric, text, varchar, char, "
				"json, jsonb, bytea, uuid, date, timestamp, timestamptz)",
				table, col->name, col->sql_type);
			pg_clear(r);
			avtable_free(t);
			return ERR_FAIL;
		}
		col->kind = (enum avcol_kind)k;
		if (k == AK_DECIMAL)
			decimal_of_typmod(typmod, col);
		/* the branches a backup writes: ["null", T, "string"] */
		if (col->nullable) {
			col->null_branch = 0;
			col->val_branch = 1;
		} else if (k == AK_DECIMAL) {
			col->val_branch = 0;
		}
		if (k == AK_DECIMAL)
			col->nan_branch = col->val_branch + 1;
	}
	pg_clear(r);
	return 0;
}

/* Avro names: [A-Za-z_][A-Za-z0-9_]*; anything else becomes '_'. */
static char *avro_name(const char *s)
{
	char *n = xmalloc(strlen(s) + 2), *o = n;
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		*o++ = '_';
	for (; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
		*o++ = ok ? ch : '_';
	}
	*o = 0;
	return n;
}

static bool unique_name_taken(const json_t *fields, const char *name)
{
	size_t i;
	const json_t *f;
	json_array_foreach(fields, i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "name")), name))
			return true;
	}
	return false;
}

static json_t *value_type(const struct avcol *col)
{
	if (!KINDS[col->kind].logical)
		return json_string(KINDS[col->kind].avro);
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(KINDS[col->kind].avro));
	json_object_set_new(o, "logicalType", json_string(KINDS[col->kind].logical));
	if (col->kind == AK_DECIMAL) {
		json_object_set_new(o, "precision", json_integer(col->precision));
		json_object_set_new(o, "scale", json_integer(col->scale));
	}
	return o;
}

char *avtable_schema_json(const struct avtable *t)
{
	json_t *rec = json_object();
	char *rn = avro_name(t->name), *ns = avro_name(t->schema);
	json_object_set_new(rec, "type", json_string("record"));
	json_object_set_new(rec, "name", json_string(rn));
	json_object_set_new(rec, "namespace", json_string(ns));
	free(rn);
	free(ns);
	json_t *fields = json_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct avcol *col = &t->cols[i];
		json_t *f = json_object();
		char *fn = avro_name(col->name);
		/* two columns whose names become the same Avro name ("a-b", "a_b"):
		 * the later one gets a number, as field names must differ */
		for (int k = 2; unique_name_taken(fields, fn); k++) {
			char *base = avro_name(col->name);
			free(fn);
			fn = xasprintf("%s_%d", base, k);
			free(base);
		}
		json_object_set_new(f, "name", json_string(fn));
		json_t *ty = value_type(col);
		if (col->val_branch >= 0) {
			json_t *u = json_array();
			if (col->null_branch >= 0)
				json_array_append_new(u, json_string("null"));
			json_array_append_new(u, ty);
			if (col->nan_branch >= 0)
				json_array_append_new(u, json_string("string"));
			ty = u;
		}
		json_object_set_new(f, "type", ty);
		json_object_set_new(f, "sqlType", json_string(col->sql_type));
		if (strcmp(fn, col->name))
			json_object_set_new(f, "sqlName", json_string(col->name));
		free(fn);
		json_array_append_new(fields, f);
	}
	json_object_set_new(rec, "fields", fields);
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rec);
	return s;
}

/* ---- a file's schema ------------------------------------------------------------ */

/* The kind of a value type (not a union) of a file; -1 when unsupported.
 * sql is the field's sqlType or NULL. */
static int kind_of_avro(const json_t *ty, const char *sql, struct avcol *col, char *why, size_t wsize)
{
	const char *prim = json_is_string(ty) ? json_string_value(ty) : json_string_value(json_object_get(ty, "type"));
	const char *logical = json_is_object(ty) ? json_string_value(json_object_get(ty, "logicalType")) : NULL;
	if (!prim) {
		snprintf(why, wsize, "a type that is not a primitive");
		return -1;
	}
	if (logical && !strcmp(logical, "decimal") && (!strcmp(prim, "bytes"))) {
		json_t *p = json_object_get(ty, "precision"), *s = json_object_get(ty, "scale");
		if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 1000 ||
		    (s && (!json_is_integer(s) || json_integer_value(s) < 0 ||
			   json_integer_value(s) > json_integer_value(p)))) {
			snprintf(why, wsize, "a decimal without a valid precision and scale");
			return -1;
		}
		col->precision = (int)json_integer_value(p);
		col->scale = s ? (int)json_integer_value(s) : 0;
		return AK_DECIMAL;
	}
	if (logical && !strcmp(logical, "uuid") && !strcmp(prim, "string"))
		return AK_UUID;
	if (logical && !strcmp(logical, "date") && !strcmp(prim, "int"))
		return AK_DATE;
	if (logical && !strcmp(logical, "timestamp-micros") && !strcmp(prim, "long"))
		return AK_TIMESTAMPTZ;
	if (logical && !strcmp(logical, "local-timestamp-micros") && !strcmp(prim, "long"))
		return AK_TIMESTAMP;
	/* an unknown logical type reads as its primitive (the specification) */
	if (!strcmp(prim, "boolean"))
		return AK_BOOL;
	if (!strcmp(prim, "int"))
		return sql && !strcmp(sql, "smallint") ? AK_INT2 : AK_INT4;
	if (!strcmp(prim, "long"))
		return AK_INT8;
	if (!strcmp(prim, "float"))
		return AK_FLOAT4;
	if (!strcmp(prim, "double"))
		return AK_FLOAT8;
	if (!strcmp(prim, "bytes"))
		return AK_BYTEA;
	if (!strcmp(prim, "string")) {
		if (sql && !strcmp(sql, "jsonb"))
			return AK_JSONB;
		if (sql && !strcmp(sql, "numeric"))
			return AK_NUMERIC;
		return AK_TEXT;
	}
	snprintf(why, wsize, "type '%s'%s%s, which a restore does not read", prim, logical ? " with logicalType " : "",
		 logical ? logical : "");
	return -1;
}

static int read_field(const json_t *f, size_t i, struct avcol *col, struct err *err)
{
	const char *name = json_string_value(json_object_get(f, "sqlName"));
	if (!name)
		name = json_string_value(json_object_get(f, "name"));
	if (!name)
		return err_set(err, "field %zu has no name", i + 1);
	col->name = xstrdup(name);
	const char *sql = json_string_value(json_object_get(f, "sqlType"));
	col->sql_type = xstrdup(sql);
	col->null_branch = col->val_branch = col->nan_branch = -1;
	const json_t *ty = json_object_get(f, "type"), *val = ty;
	char why[200] = "";
	if (json_is_array(ty)) {
		size_t n = json_array_size(ty);
		for (size_t b = 0; b < n; b++) {
			const json_t *br = json_array_get(ty, b);
			if (json_is_string(br) && !strcmp(json_string_value(br), "null") && col->null_branch < 0)
				col->null_branch = (int)b;
			else if (col->val_branch < 0)
				col->val_branch = (int)b, val = br;
			else if (json_is_string(br) && !strcmp(json_string_value(br), "string") && col->nan_branch < 0)
				col->nan_branch = (int)b;
			else
				col->val_branch = -2;
		}
		if (col->val_branch < 0 || (col->nan_branch >= 0 && !(json_is_object(val) &&
			json_object_get(val, "logicalType") &&
			!strcmp(json_string_value(json_object_get(val, "logicalType")) ?: "", "decimal"))))
			return err_set(err, "field '%s': a union other than [\"null\", T] (or a decimal's with \"string\")",
				       name);
		col->nullable = col->null_branch >= 0;
	}
	int k = kind_of_avro(val, sql, col, why, sizeof why);
	if (k < 0)
		return err_set(err, "field '%s': %s", name, why);
	col->kind = (enum avcol_kind)k;
	return 0;
}

int avtable_from_schema(const char *text, size_t len, struct avtable *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *s = json_loadb(text, len, 0, &je);
	if (!s)
		return err_set(err, "the schema is not JSON (%s, at character %d)", je.text, je.position);
	const json_t *fields = json_object_get(s, "fields");
	if (!json_is_object(s) || strcmp(json_string_value(json_object_get(s, "type")) ?: "", "record") ||
	    !json_is_array(fields) || !json_array_size(fields)) {
		json_decref(s);
		return err_set(err, "the schema is not a record with fields");
	}
	out->name = xstrdup(json_string_value(json_object_get(s, "name")));
	out->schema = xstrdup(json_string_value(json_object_get(s, "namespace")));
	out->reltuples = -1;
	size_t n = json_array_size(fields);
	out->cols = xcalloc(n, sizeof *out->cols);
	for (size_t i = 0; i < n; i++) {
		out->n++;
		if (read_field(json_array_get(fields, i), i, &out->cols[i], err) < 0) {
			json_decref(s);
			avtable_free(out);
			return ERR_FAIL;
		}
	}
	json_decref(s);
	return 0;
}

const char *avcol_type_name(const struct avcol *col, char *buf, size_t size)
{
	if (col->kind == AK_DECIMAL)
		snprintf(buf, size, "decimal(%d,%d)", col->precision, col->scale);
	else if (KINDS[col->kind].logical)
		snprintf(buf, size, "%s (%s)", KINDS[col->kind].avro, KINDS[col->kind].logical);
	else if (col->kind == AK_NUMERIC || col->kind == AK_JSONB)
		snprintf(buf, size, "string (%s)", KINDS[col->kind].create);
	else
		snprintf(buf, size, "%s", KINDS[col->kind].avro);
	return buf;
}

/* Kinds a value of one can be restored into the other: the same Avro type,
 * and for strings the same family (text, numeric, jsonb). */
static bool fits(const struct avcol *f, const struct avcol *t)
{
	if (f->kind == t->kind)
		return f->kind != AK_DECIMAL || f->scale == t->scale;
	bool fi = f->kind == AK_INT2 || f->kind == AK_INT4, ti = t->kind == AK_INT2 || t->kind == AK_INT4;
	return fi && ti;
}

int avtable_compare(const struct avtable *file, const struct avtable *table, struct err *err)
{
	for (size_t i = 0; i < file->n || i < table->n; i++) {
		if (i >= table->n)
			return err_set(err, "the file has %zu columns, the table %zu: column %zu '%s' is not in the table",
				       file->n, table->n, i + 1, file->cols[i].name);
		if (i >= file->n)
			return err_set(err, "the file has %zu columns, the table %zu: column %zu '%s' is not in the file",
				       file->n, table->n, i + 1, table->cols[i].name);
		const struct avcol *f = &file->cols[i], *t = &table->cols[i];
		if (strcmp(f->name, t->name))
			return err_set(err, "column %zu: the file has '%s', the table '%s'", i + 1, f->name, t->name);
		if (!fits(f, t)) {
			char a[64], b[64];
			return err_set(err, "column %zu '%s': the file has %s%s%s%s, the table %s (%s)", i + 1, f->name,
				       avcol_type_name(f, a, sizeof a), f->sql_type ? " (" : "", f->sql_type ? f->sql_type : "",
				       f->sql_type ? ")" : "", avcol_type_name(t, b, sizeof b), t->sql_type);
		}
	}
	return 0;
}

/* A SQL type name made of what a plain type is written with (letters,
 * digits, spaces, parentheses, commas, minus): safe in a CREATE TABLE. */
static bool plain_type(const char *s)
{
	if (!s || !*s || strlen(s) > 60)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(" (),-", *s)))
			return false;
	return true;
}

char *avtable_create_sql(struct pg_conn *c, const struct avtable *file, const char *q_table)
{
	struct strbuf b = {0};
	sb_addf(&b, "CREATE TABLE %s (", q_table);
	for (size_t i = 0; i < file->n; i++) {
		const struct avcol *col = &file->cols[i];
		char *q = pg_ident(c, col->name);
		sb_addf(&b, "%s%s ", i ? ", " : "", q);
		free(q);
		if (plain_type(col->sql_type))
			sb_adds(&b, col->sql_type);
		else if (col->kind == AK_DECIMAL)
			sb_addf(&b, "numeric(%d,%d)", col->precision, col->scale);
		else
			sb_adds(&b, KINDS[col->kind].create);
		if (!col->nullable)
			sb_adds(&b, " NOT NULL");
	}
	sb_adds(&b, ")");
	return sb_steal(&b);
}
