/* A table's columns as Avro sees them (core/backup.c, core/restore.c): the
 * PostgreSQL column types a backup supports, the Avro type of each (with its
 * logical type), the record schema a backup writes in a file's header, the
 * same read back from a file, and the check that a file fits a table.
 *
 *   PostgreSQL                      Avro
 *   boolean                         boolean
 *   smallint, integer               int
 *   bigint                          long
 *   real / double precision         float / double (NaN, +-Infinity kept)
 *   text, varchar(n), char(n),
 *   name, json, jsonb               string
 *   bytea                           bytes
 *   uuid                            string, logicalType uuid
 *   date                            int, logicalType date (days since
 *                                   1970-01-01; +-infinity as INT32_MAX/MIN)
 *   timestamp with time zone        long, logicalType timestamp-micros (UTC)
 *   timestamp without time zone     long, logicalType local-timestamp-micros
 *                                   (both: +-infinity as INT64_MAX/MIN)
 *   numeric(p,s)                    bytes, logicalType decimal, precision p,
 *                                   scale s (s < 0: scale 0, precision p-s),
 *                                   in a union with string for NaN
 *   numeric (no typmod)             string (PostgreSQL's text form: exact,
 *                                   any scale, NaN and +-Infinity)
 *
 * A column that may be NULL is the union ["null", T]. Every field keeps the
 * column's SQL type ("sqlType") and, when its name is not an Avro name, the
 * column's name ("sqlName"). */
#ifndef SLUICE_AVROMAP_H
#define SLUICE_AVROMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct pg_conn;

enum avcol_kind {
	AK_BOOL, AK_INT2, AK_INT4, AK_INT8, AK_FLOAT4, AK_FLOAT8,
	AK_TEXT,      /* text, varchar, char, name, json: the bytes as they are */
	AK_JSONB,     /* binary form: a version byte, then the text */
	AK_NUMERIC,   /* numeric without typmod: a string */
	AK_BYTEA, AK_UUID, AK_DATE, AK_TIMESTAMP, AK_TIMESTAMPTZ,
	AK_DECIMAL,   /* numeric(p,s) */
	AK_N
};

struct avcol {
	char *name;          /* the column's name */
	char *sql_type;      /* format_type(), e.g. "numeric(12,2)"; NULL if unknown */
	enum avcol_kind kind;
	int precision, scale; /* AK_DECIMAL: Avro's (scale >= 0) */
	bool nullable;
	/* in a file: the union's branches (-1: none; val_branch -1: not a union) */
	int null_branch, val_branch, nan_branch;
};

struct avtable {
	char *schema, *name;  /* the table's (from the catalog) */
	struct avcol *cols;
	size_t n;
	double reltuples;     /* the planner's estimate of its rows (-1: none) */
	bool partitioned;
};

void avtable_free(struct avtable *t);

/* A table name as sluice takes it ("name", or "schema.name" split at the
 * first dot, each part as it is spelled) quoted for SQL; malloc'ed. */
char *avtable_quote(struct pg_conn *c, const char *table);
/* The columns of table ("name" or "schema.name", as avtable_quote) read
 * from the catalog. A column of a type a backup does not support is an
 * error naming it and its type; ERR_NOTFOUND when there is no such table. */
int avtable_read(struct pg_conn *c, const char *table, struct avtable *t, struct err *err);
/* The record schema of the table's columns (JSON, malloc'ed). */
char *avtable_schema_json(const struct avtable *t);
/* A file's avro.schema read back: a record of fields of the types above
 * (sqlType, when present, tells numeric and jsonb strings from text). An
 * error names the field it could not read. */
int avtable_from_schema(const char *json, size_t len, struct avtable *out, struct err *err);
/* Does the file's schema fit the table: the same columns in the same order,
 * each of the same Avro type. An error names the first column that differs
 * and both types. */
int avtable_compare(const struct avtable *file, const struct avtable *table, struct err *err);
/* CREATE TABLE q_table (...) for the file's columns: their sqlType when it
 * is a plain type name, else the type their Avro type maps to; NOT NULL
 * where the field is not a union with null. malloc'ed. */
char *avtable_create_sql(struct pg_conn *c, const struct avtable *file, const char *q_table);
/* The Avro type of a column as messages show it ("decimal(12,2)",
 * "long (timestamp-micros)", "string"). */
const char *avcol_type_name(const struct avcol *col, char *buf, size_t size);

/* ---- numeric values (core/avronum.c) ------------------------------------- */

struct avro_buf;

/* A numeric in PostgreSQL's binary form (ndigits, weight, sign, dscale,
 * base-10000 digits) as an Avro decimal of that scale: its bytes (the
 * unscaled value, two's complement, big-endian, fewest bytes) appended to
 * out with their length. *nan set (nothing written) for NaN. -1 with err
 * set for an infinity, a value with more decimals than scale, or a bad
 * form. */
int avnum_pg_to_decimal(const unsigned char *pg, size_t len, int scale, struct avro_buf *out, bool *nan,
			struct err *err);
/* An Avro decimal's bytes of that scale as a PostgreSQL binary numeric of
 * display scale dscale, appended to out after its int32 length. */
int avnum_decimal_to_pg(const unsigned char *b, size_t n, int scale, int dscale, struct avro_buf *out,
			struct err *err);
/* A numeric's text form (PostgreSQL's output: [-]digits[.digits], NaN,
 * Infinity, -Infinity) as a binary numeric, appended after its length. */
int avnum_text_to_pg(const char *s, size_t n, struct avro_buf *out, struct err *err);

#endif
