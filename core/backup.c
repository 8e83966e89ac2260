/* A table to an Avro object container file: COPY ... TO STDOUT (FORMAT
 * binary) in a repeatable-read snapshot, each row's fields turned into the
 * Avro encoding of its record as it arrives, the blocks compressed and
 * written by the writer's threads (connectors/avro.h) while the next ones
 * are encoded. The file is written beside its name and renamed when whole. */
#include "core/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"
#include "core/avromap.h"

static const char BEGIN_SQL[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
static const char COPY_SIGNATURE[11] = "PGCOPY\n\377\r\n";

/* days and microseconds between 1970-01-01 (Avro) and 2000-01-01 (PostgreSQL) */
#define DATE_SHIFT 10957
#define TS_SHIFT INT64_C(946684800000000)

int backup_codec(const char *name, enum avro_codec *out)
{
	return avro_codec_parse(name, out);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The COPY statement: every column by name, from the table itself (faster
 * than from a query) unless a numeric without typmod must come as its text
 * (exact, NaN and infinities included) or the table is partitioned. */
static char *copy_sql(struct pg_conn *c, const struct avtable *t)
{
	bool query = t->partitioned;
	for (size_t i = 0; i < t->n; i++)
		query |= t->cols[i].kind == AK_NUMERIC;
	char *qs = pg_ident(c, t->schema), *qn = pg_ident(c, t->name);
	struct strbuf b = {0};
	sb_adds(&b, query ? "COPY (SELECT " : "COPY ");
	if (!query)
		sb_addf(&b, "%s.%s (", qs, qn);
	for (size_t i = 0; i < t->n; i++) {
		char *q = pg_ident(c, t->cols[i].name);
		sb_addf(&b, "%s%s%s", i ? ", " : "", q, t->cols[i].kind == AK_NUMERIC ? "::text" : "");
		free(q);
	}
	if (query)
		sb_addf(&b, " FROM %s.%s", qs, qn);
	sb_adds(&b, ") TO STDOUT (FORMAT binary)");
	free(qs);
	free(qn);
	return sb_steal(&b);
}

static const char HEX[] = "0123456789abcdef";

/* One field's value (d, len) of column col, encoded into b. */
static int encode_value(const struct avcol *col, const unsigned char *d, int32_t len, struct avro_buf *b,
			struct err *err)
{
	int want = 0;
	switch (col->kind) {
	case AK_BOOL: want = 1; break;
	case AK_INT2: want = 2; break;
	case AK_INT4: case AK_FLOAT4: case AK_DATE: want = 4; break;
	case AK_INT8: case AK_FLOAT8: case AK_TIMESTAMP: case AK_TIMESTAMPTZ: want = 8; break;
	case AK_UUID: want = 16; break;
	default: break;
	}
	if (want && len != want)
		return err_set(err, "%d bytes for a %s", (int)len, col->sql_type);
	switch (col->kind) {
	case AK_BOOL:
		avro_buf_need(b, 1);
		b->p[b->len++] = d[0] != 0;
		break;
	case AK_INT2:
		avro_put_long(b, (int16_t)((unsigned)d[0] << 8 | d[1]));
		break;
	case AK_INT4:
		avro_put_long(b, (int32_t)be32(d));
		break;
	case AK_INT8:
		avro_put_long(b, (int64_t)be64(d));
		break;
	case AK_FLOAT4:
	case AK_FLOAT8:
		/* IEEE 754 both, big-endian there and little-endian here */
		avro_buf_need(b, 8);
		for (int i = 0; i < want; i++)
			b->p[b->len + (size_t)i] = d[want - 1 - i];
		b->len += (size_t)want;
		break;
	case AK_TEXT:
	case AK_NUMERIC:
	case AK_BYTEA:
		avro_put_bytes(b, d, (size_t)len);
		break;
	case AK_JSONB:
		if (len < 1 || d[0] != 1)
			return err_set(err, "a jsonb of version %d", len ? d[0] : -1);
		avro_put_bytes(b, d + 1, (size_t)len - 1);
		break;
	case AK_UUID: {
		avro_put_long(b, 36);
		avro_buf_need(b, 36);
		char *o = (char *)b->p + b->len;
		for (int i = 0; i < 16; i++) {
			if (i == 4 || i == 6 || i == 8 || i == 10)
				*o++ = '-';
			*o++ = HEX[d[i] >> 4];
			*o++ = HEX[d[i] & 15];
		}
		b->len += 36;
		break;
	}
	case AK_DATE: {
		int32_t v = (int32_t)be32(d);
		/* infinity and -infinity stay the extremes */
		avro_put_long(b, v == INT32_MAX || v == INT32_MIN ? v : (int64_t)v + DATE_SHIFT);
		break;
	}
	case AK_TIMESTAMP:
	case AK_TIMESTAMPTZ: {
		int64_t v = (int64_t)be64(d);
		if (v != INT64_MAX && v != INT64_MIN) {
			if (v >= INT64_MAX - TS_SHIFT)
				return err_set(err, "a timestamp after 294247-01-10 04:00:54.775806 has no "
					       "timestamp-micros form (microseconds since 1970 in 64 bits)");
			v += TS_SHIFT;
		}
		avro_put_long(b, v);
		break;
	}
	case AK_DECIMAL: {
		bool nan;
		size_t at = b->len;
		avro_put_long(b, col->val_branch >= 0 ? col->val_branch : 0);
		if (avnum_pg_to_decimal(d, (size_t)len, col->scale, b, &nan, err) < 0)
			return ERR_FAIL;
		if (nan) {
			b->len = at;
			avro_put_long(b, col->nan_branch);
			avro_put_bytes(b, "NaN", 3);
		}
		return 1; /* the branch is written */
	}
	default:
		return err_set(err, "a column kind %d", (int)col->kind);
	}
	return 0;
}

struct encoder {
	const struct avtable *t;
	struct avro_writer *w;
	int64_t rows;
	bool header_seen, trailer_seen;
};

/* One COPY row (the header first, in the first one) into one record. */
static int encode_row(struct encoder *en, const unsigned char *p, size_t n, struct err *err)
{
	const unsigned char *end = p + n;
	if (!en->header_seen) {
		if (n < 19 || memcmp(p, COPY_SIGNATURE, 11))
			return err_set(err, "the server's binary COPY has no signature");
		uint32_t ext = be32(p + 15);
		if (ext > n - 19)
			return err_set(err, "the server's binary COPY has a bad header");
		p += 19 + ext;
		en->header_seen = true;
		if (p == end)
			return 0;
	}
	if (end - p < 2)
		return err_set(err, "row %lld: a short row", (long long)en->rows + 1);
	int16_t nf = (int16_t)((unsigned)p[0] << 8 | p[1]);
	p += 2;
	if (nf == -1) {
		en->trailer_seen = true;
		return 0;
	}
	if ((size_t)nf != en->t->n)
		return err_set(err, "row %lld: %d fields for %zu columns", (long long)en->rows + 1, nf, en->t->n);
	struct avro_buf *b = avro_writer_buf(en->w);
	for (size_t j = 0; j < en->t->n; j++) {
		const struct avcol *col = &en->t->cols[j];
		if (end - p < 4)
			return err_set(err, "row %lld: a short row", (long long)en->rows + 1);
		int32_t len = (int32_t)be32(p);
		p += 4;
		if (len == -1) {
			if (col->null_branch < 0)
				return err_set(err, "row %lld, column '%s': NULL in a NOT NULL column", (long long)en->rows + 1,
					       col->name);
			avro_put_long(b, col->null_branch);
			continue;
		}
		if (len < 0 || len > end - p)
			return err_set(err, "row %lld, column '%s': a bad length", (long long)en->rows + 1, col->name);
		if (col->val_branch >= 0 && col->kind != AK_DECIMAL)
			avro_put_long(b, col->val_branch);
		if (encode_value(col, p, len, b, err) < 0)
			return err_prefix(err, "row %lld, column '%s'", (long long)en->rows + 1, col->name);
		p += len;
	}
	en->rows++;
	return avro_writer_row(en->w, err);
}

/* The temporary file beside path: "DIR/.NAME.XXXXXX". */
static char *temp_name(const char *path)
{
	char *d = xstrdup(path), *f = xstrdup(path);
	char *t = xasprintf("%s/.%s.XXXXXX", dirname(d), basename(f));
	free(d);
	free(f);
	return t;
}

int backup_table(struct pg_conn *c, const struct backup_opts *o, struct backup_result *res, struct err *err)
{
	memset(res, 0, sizeof *res);
	double t0 = now_wall();
	struct avtable t;
	if (pg_cmd(c, BEGIN_SQL, 0, NULL, err) < 0)
		return err_code(err);
	int rc = avtable_read(c, o->table, &t, err);
	if (rc < 0) {
		struct err e2 = {0};
		pg_cmd(c, "ROLLBACK", 0, NULL, &e2);
		return rc;
	}
	char *schema = avtable_schema_json(&t);
	char *tmp = temp_name(o->out);
	int fd = mkstemp(tmp);
	struct avro_writer *w = NULL;
	char *sql = NULL;
	bool copying = false;
	if (fd < 0) {
		rc = err_set(err, "%s: %s", o->out, strerror(errno));
		goto out;
	}
	struct avro_writer_opts wo = {.codec = o->codec, .level = o->level, .threads = o->threads, .counts_in_header = true};
	/* deflate is the slow part: a thread per core keeps it beside the copy */
	if (!wo.threads)
		wo.threads = o->codec == AVRO_CODEC_DEFLATE ? 2 : 1;
	if (!(w = avro_writer_new(fd, schema, &wo, err))) {
		rc = err_prefix(err, "%s", o->out);
		goto out;
	}
	sql = copy_sql(c, &t);
	if ((rc = pg_copy_out_begin(c, sql, err)) < 0) {
		err_prefix(err, "table '%s'", o->table);
		goto out;
	}
	copying = true;
	struct encoder en = {.t = &t, .w = w};
	struct backup_progress pr = {.rows_total = t.reltuples, .bytes_total = -1};
	int64_t last = now_ms();
	for (;;) {
		char *data;
		long n = pg_copy_out_get(c, &data, err);
		if (n == 0) {
			copying = false;
			break;
		}
		if (n < 0) {
			copying = false;
			rc = err_prefix(err, "table '%s'", o->table);
			goto out;
		}
		rc = encode_row(&en, (const unsigned char *)data, (size_t)n, err);
		pg_copy_out_free(data);
		if (rc < 0) {
			err_prefix(err, "table '%s'", o->table);
			goto out;
		}
		if (o->progress && !(en.rows & 4095) && now_ms() - last >= 100) {
			last = now_ms();
			int64_t blocks;
			pr.rows = en.rows;
			avro_writer_stats(w, &pr.rows, &blocks, &pr.bytes);
			o->progress(&pr, o->arg);
		}
	}
	if (!en.trailer_seen) {
		rc = err_set(err, "table '%s': the copy ended without its trailer", o->table);
		goto out;
	}
	if ((rc = avro_writer_finish(w, err)) < 0) {
		err_prefix(err, "%s", o->out);
		goto out;
	}
	avro_writer_stats(w, &res->rows, &res->blocks, &res->bytes);
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		rc = err_set(err, "%s: %s", o->out, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, o->out) < 0) {
		rc = err_set(err, "%s: %s", o->out, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	res->columns = (int)t.n;
	rc = pg_cmd(c, "COMMIT", 0, NULL, err);
out:
	if (copying)
		pg_copy_out_cancel(c);
	if (rc < 0) {
		struct err e2 = {0};
		pg_cmd(c, "ROLLBACK", 0, NULL, &e2);
	}
	avro_writer_free(w);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(sql);
	free(schema);
	avtable_free(&t);
	res->seconds = now_wall() - t0;
	return rc;
}
