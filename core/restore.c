/* An Avro object container file into a table: the file's schema checked
 * against the table's columns, the records turned into COPY ... FROM STDIN
 * (FORMAT binary) rows block by block, all in one transaction (with the
 * TRUNCATE of --replace or the CREATE TABLE of --create), so that a file that
 * turns out corrupt half way, or a row the table refuses, leaves the table as
 * it was. */
#include "core/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"
#include "core/avromap.h"

#define DATE_SHIFT 10957
#define TS_SHIFT INT64_C(946684800000000)
/* COPY data is sent in pieces of about this size */
#define PUT_SIZE (256 * 1024)

static const unsigned char COPY_HEADER[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static void put32(struct avro_buf *o, uint32_t v)
{
	avro_buf_need(o, 4);
	unsigned char *p = o->p + o->len;
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	o->len += 4;
}

static void put64(struct avro_buf *o, uint64_t v)
{
	put32(o, (uint32_t)(v >> 32));
	put32(o, (uint32_t)v);
}

static int hexv(int ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* A uuid's text (with or without its dashes, any case) as its 16 bytes. */
static int uuid_parse(const unsigned char *s, size_t n, unsigned char out[16])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-' && n == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
			continue;
		int h = hexv(s[i]), l = i + 1 < n ? hexv(s[i + 1]) : -1;
		if (h < 0 || l < 0 || k == 16)
			return -1;
		out[k++] = (unsigned char)(h << 4 | l);
		i++;
	}
	return k == 16 ? 0 : -1;
}

/* One value of file column f into table column t's binary form. */
static int decode_value(const struct avcol *f, const struct avcol *t, struct avro_cur *c, struct avro_buf *o,
			struct err *err)
{
	int64_t v = 0;
	const unsigned char *s = NULL;
	size_t n = 0;
	switch (t->kind) {
	case AK_BOOL:
		if (c->p >= c->end || *c->p > 1)
			return err_set(err, c->p >= c->end ? "the block ends" : "a boolean that is neither 0 nor 1");
		put32(o, 1);
		avro_buf_need(o, 1);
		o->p[o->len++] = *c->p++;
		return 0;
	case AK_INT2:
	case AK_INT4:
	case AK_INT8:
	case AK_DATE:
	case AK_TIMESTAMP:
	case AK_TIMESTAMPTZ:
		if (avro_get_long(c, &v) < 0)
			return err_set(err, "bad varint");
		break;
	case AK_FLOAT4:
	case AK_FLOAT8: {
		int w = t->kind == AK_FLOAT4 ? 4 : 8;
		if (c->end - c->p < w)
			return err_set(err, "the block ends");
		put32(o, (uint32_t)w);
		avro_buf_need(o, 8);
		for (int i = 0; i < w; i++)
			o->p[o->len + (size_t)i] = c->p[w - 1 - i];
		o->len += (size_t)w;
		c->p += w;
		return 0;
	}
	default:
		if (avro_get_bytes(c, &s, &n) < 0)
			return err_set(err, "bad length or the block ends");
		break;
	}
	switch (t->kind) {
	case AK_INT2:
		if (v < INT16_MIN || v > INT16_MAX)
			return err_set(err, "%lld is out of range for smallint", (long long)v);
		put32(o, 2);
		avro_buf_need(o, 2);
		o->p[o->len++] = (unsigned char)((uint16_t)v >> 8);
		o->p[o->len++] = (unsigned char)v;
		return 0;
	case AK_INT4:
		if (v < INT32_MIN || v > INT32_MAX)
			return err_set(err, "%lld is out of range for integer", (long long)v);
		put32(o, 4);
		put32(o, (uint32_t)v);
		return 0;
	case AK_INT8:
		put32(o, 8);
		put64(o, (uint64_t)v);
		return 0;
	case AK_DATE:
		if (v < INT32_MIN || v > INT32_MAX)
			return err_set(err, "%lld days is out of range for a date", (long long)v);
		if (v != INT32_MAX && v != INT32_MIN) {
			v -= DATE_SHIFT;
			if (v < INT32_MIN + 1)
				return err_set(err, "a date out of range");
		}
		put32(o, 4);
		put32(o, (uint32_t)v);
		return 0;
	case AK_TIMESTAMP:
	case AK_TIMESTAMPTZ:
		if (v != INT64_MAX && v != INT64_MIN) {
			if (v < INT64_MIN + 1 + TS_SHIFT)
				return err_set(err, "a timestamp out of range");
			v -= TS_SHIFT;
		}
		put32(o, 8);
		put64(o, (uint64_t)v);
		return 0;
	case AK_TEXT:
	case AK_BYTEA:
		put32(o, (uint32_t)n);
		avro_put_raw(o, s, n);
		return 0;
	case AK_JSONB:
		put32(o, (uint32_t)n + 1);
		avro_buf_need(o, n + 1);
		o->p[o->len++] = 1;
		avro_put_raw(o, s, n);
		return 0;
	case AK_NUMERIC:
		return avnum_text_to_pg((const char *)s, n, o, err);
	case AK_UUID: {
		unsigned char u[16];
		if (uuid_parse(s, n, u) < 0)
			return err_set(err, "'%.*s' is not a uuid", (int)(n > 40 ? 40 : n), s);
		put32(o, 16);
		avro_put_raw(o, u, 16);
		return 0;
	}
	case AK_DECIMAL:
		return avnum_decimal_to_pg(s, n, f->scale, t->scale, o, err);
	default:
		return err_set(err, "a column kind %d", (int)t->kind);
	}
}

/* The numeric NaN in binary form. */
static void put_nan(struct avro_buf *o)
{
	static const unsigned char NAN_NUMERIC[8] = {0, 0, 0, 0, 0xC0, 0, 0, 0};
	put32(o, 8);
	avro_put_raw(o, NAN_NUMERIC, 8);
}

/* One record into one COPY row. */
static int decode_record(const struct avtable *file, const struct avtable *t, struct avro_cur *c, struct avro_buf *o,
			 struct err *err)
{
	avro_buf_need(o, 2);
	o->p[o->len++] = (unsigned char)(t->n >> 8);
	o->p[o->len++] = (unsigned char)t->n;
	for (size_t j = 0; j < file->n; j++) {
		const struct avcol *f = &file->cols[j], *tc = &t->cols[j];
		if (f->val_branch >= 0) {
			int64_t br;
			if (avro_get_long(c, &br) < 0)
				return err_set(err, "column '%s': bad varint", f->name);
			if (br == f->null_branch) {
				put32(o, UINT32_MAX);
				continue;
			}
			if (br == f->nan_branch) {
				const unsigned char *s;
				size_t n;
				if (avro_get_bytes(c, &s, &n) < 0 || n != 3 || memcmp(s, "NaN", 3))
					return err_set(err, "column '%s': a decimal's string that is not NaN", f->name);
				put_nan(o);
				continue;
			}
			if (br != f->val_branch)
				return err_set(err, "column '%s': union branch %lld of a union of fewer", f->name,
					       (long long)br);
		}
		if (decode_value(f, tc, c, o, err) < 0)
			return err_prefix(err, "column '%s'", f->name);
	}
	return 0;
}

/* FREEZE where the table was created or emptied in this transaction (no
 * other transaction can see its rows before the commit anyway): the rows
 * are written frozen, with no later pass to set their hint bits. */
static int copy_sql(struct pg_conn *c, const struct avtable *t, const char *q_table, bool freeze, char **out)
{
	struct strbuf b = {0};
	sb_addf(&b, "COPY %s (", q_table);
	for (size_t i = 0; i < t->n; i++) {
		char *q = pg_ident(c, t->cols[i].name);
		sb_addf(&b, "%s%s", i ? ", " : "", q);
		free(q);
	}
	sb_adds(&b, freeze ? ") FROM STDIN (FORMAT binary, FREEZE)" : ") FROM STDIN (FORMAT binary)");
	*out = sb_steal(&b);
	return 0;
}

/* The server's refusal of a COPY row: the row is the record's number in
 * the file ("COPY t, line 5, column a: ..."). */
static void copy_refused(struct err *err, struct pg_result *refused)
{
	const char *ctx = refused ? pg_error_field(refused, PG_FIELD_CONTEXT) : NULL;
	if (ctx) {
		char m[sizeof err->msg];
		snprintf(m, sizeof m, "%s", err->msg);
		err_set(err, "%.600s (%.300s: the line is the record's number in the file)", m, ctx);
	}
}

/* ---- reading ahead -----------------------------------------------------------------
 * A thread reads and decompresses the next blocks while the records of the
 * one before are decoded and sent: inflating is about as slow as the copy. */
#define AHEAD 3

enum { SLOT_EMPTY, SLOT_FULL, SLOT_END, SLOT_ERROR };

struct ahead_slot {
	struct avro_buf data;
	int64_t count, block_no, block_off;
	int state;
};

struct ahead {
	struct avro_reader *r;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct ahead_slot slots[AHEAD];
	int64_t put, take;
	bool stop;
	struct err err;
};

static void *ahead_thread(void *arg)
{
	struct ahead *a = arg;
	for (;;) {
		pthread_mutex_lock(&a->mu);
		struct ahead_slot *s = &a->slots[a->put % AHEAD];
		while (!a->stop && s->state != SLOT_EMPTY)
			pthread_cond_wait(&a->cond, &a->mu);
		bool stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			return NULL;
		struct avro_cur blk;
		int64_t count = 0;
		struct err e = {0};
		int got = avro_reader_next(a->r, &blk, &count, &e);
		if (got > 0) {
			s->data.len = 0;
			avro_put_raw(&s->data, blk.p, (size_t)(blk.end - blk.p));
			s->count = count;
			s->block_no = avro_reader_block_no(a->r);
			s->block_off = avro_reader_block_off(a->r);
		}
		pthread_mutex_lock(&a->mu);
		if (got < 0)
			a->err = e;
		s->state = got > 0 ? SLOT_FULL : got == 0 ? SLOT_END : SLOT_ERROR;
		a->put++;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->mu);
		if (got <= 0)
			return NULL;
	}
}

static int ahead_start(struct ahead *a, struct avro_reader *r, struct err *err)
{
	a->r = r;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cond, NULL);
	if (pthread_create(&a->thread, NULL, ahead_thread, a) != 0)
		return err_set(err, "cannot start a thread: %s", strerror(errno));
	a->started = true;
	return 0;
}

/* The next block (borrowed until ahead_done): 1, 0 at the end, -1 with err. */
static int ahead_next(struct ahead *a, struct ahead_slot **out, struct err *err)
{
	pthread_mutex_lock(&a->mu);
	struct ahead_slot *s = &a->slots[a->take % AHEAD];
	while (s->state == SLOT_EMPTY)
		pthread_cond_wait(&a->cond, &a->mu);
	int st = s->state;
	if (st == SLOT_ERROR)
		*err = a->err;
	pthread_mutex_unlock(&a->mu);
	*out = s;
	return st == SLOT_FULL ? 1 : st == SLOT_END ? 0 : -1;
}

static void ahead_done(struct ahead *a)
{
	pthread_mutex_lock(&a->mu);
	a->slots[a->take % AHEAD].state = SLOT_EMPTY;
	a->take++;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mu);
}

/* Stops and waits for the thread; the reader is the caller's again. */
static void ahead_stop(struct ahead *a)
{
	if (!a->started)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	a->started = false;
	for (int i = 0; i < AHEAD; i++)
		avro_buf_free(&a->slots[i].data);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cond);
}

int restore_file(struct pg_conn *c, const struct restore_opts *o, struct restore_result *res, struct err *err)
{
	memset(res, 0, sizeof *res);
	double t0 = now_wall();
	int fd = open(o->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setc(err, errno == ENOENT ? ERR_NOTFOUND : ERR_FAIL, "%s: %s", o->file, strerror(errno));
	struct stat st;
	int64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
	struct avro_reader *r = avro_reader_open(fd, o->file, err);
	struct avtable file = {0}, t = {0};
	char *q_table = NULL, *sql = NULL;
	bool in_tx = false, copying = false;
	struct avro_buf out = {0};
	struct ahead ahead = {0};
	int rc = ERR_FAIL;
	if (!r)
		goto done;
	size_t slen;
	const char *schema = avro_reader_meta(r, "avro.schema", &slen);
	if ((rc = avtable_from_schema(schema, slen, &file, err)) < 0) {
		err_prefix(err, "%s", o->file);
		goto done;
	}
	q_table = avtable_quote(c, o->table);
	if ((rc = pg_cmd(c, "BEGIN", 0, NULL, err)) < 0)
		goto done;
	in_tx = true;
	if (o->mode == RESTORE_CREATE) {
		char *create = avtable_create_sql(c, &file, q_table);
		rc = pg_cmd(c, create, 0, NULL, err);
		free(create);
		if (rc < 0) {
			err_prefix(err, "create table '%s'", o->table);
			goto done;
		}
	}
	if ((rc = avtable_read(c, o->table, &t, err)) < 0) {
		if (rc == ERR_NOTFOUND)
			err_prefix(err, "--create makes it");
		goto done;
	}
	if ((rc = avtable_compare(&file, &t, err)) < 0) {
		err_prefix(err, "%s does not fit table '%s'", o->file, o->table);
		goto done;
	}
	if (o->mode == RESTORE_REPLACE) {
		char *trunc = xasprintf("TRUNCATE %s", q_table);
		rc = pg_cmd(c, trunc, 0, NULL, err);
		free(trunc);
		if (rc < 0)
			goto done;
	}
	copy_sql(c, &t, q_table, o->mode != RESTORE_APPEND, &sql);
	struct pg_result *refused = NULL;
	if ((rc = pg_copy_begin(c, sql, &refused, err)) < 0) {
		pg_clear(refused);
		goto done;
	}
	copying = true;
	avro_put_raw(&out, COPY_HEADER, sizeof COPY_HEADER);
	struct backup_progress pr = {.rows_total = -1, .bytes_total = size};
	int64_t last = now_ms();
	if ((rc = ahead_start(&ahead, r, err)) < 0)
		goto done;
	for (;;) {
		struct ahead_slot *sl;
		int got = ahead_next(&ahead, &sl, err);
		if (got < 0) {
			rc = got;
			goto done;
		}
		if (!got)
			break;
		struct avro_cur blk = {sl->data.p, sl->data.p + sl->data.len};
		for (int64_t i = 0; i < sl->count; i++) {
			if (decode_record(&file, &t, &blk, &out, err) < 0) {
				rc = err_prefix(err, "%s: block %lld (at byte %lld), record %lld of %lld", o->file,
						(long long)sl->block_no, (long long)sl->block_off, (long long)i + 1,
						(long long)sl->count);
				goto done;
			}
			if (out.len >= PUT_SIZE) {
				if ((rc = pg_copy_put(c, (const char *)out.p, out.len, err)) < 0)
					goto done;
				out.len = 0;
			}
		}
		if (blk.p != blk.end) {
			rc = err_set(err, "%s: block %lld (at byte %lld): %lld bytes left after its %lld records", o->file,
				     (long long)sl->block_no, (long long)sl->block_off, (long long)(blk.end - blk.p),
				     (long long)sl->count);
			goto done;
		}
		res->rows += sl->count;
		res->blocks++;
		pr.bytes = sl->block_off;
		ahead_done(&ahead);
		if (o->progress && now_ms() - last >= 100) {
			last = now_ms();
			pr.rows = res->rows;
			o->progress(&pr, o->arg);
		}
	}
	/* the reader's own again: its counts are final */
	ahead_stop(&ahead);
	/* the format has no end mark: a file cut at a block boundary reads as
	 * a whole one but for the count its writer left in the header */
	size_t mlen;
	const char *said = avro_reader_meta(r, AVRO_META_ROWS, &mlen);
	if (said && mlen == 20 && strtoll(said, NULL, 10) != res->rows) {
		rc = err_set(err, "%s: the file ends after block %lld (at byte %lld) with %lld records, and its header says "
			     "%lld: it was cut short", o->file, (long long)avro_reader_block_no(r) - 1,
			     (long long)avro_reader_block_off(r), (long long)res->rows, strtoll(said, NULL, 10));
		goto done;
	}
	const char *crc = avro_reader_meta(r, AVRO_META_CRC, &mlen);
	/* (header values are NUL-terminated as read) */
	if (crc && mlen == 8 && (uint32_t)strtoul(crc, NULL, 16) != avro_reader_crc(r)) {
		rc = err_set(err, "%s: the data of its %lld blocks (up to byte %lld) does not match the CRC32 in its "
			     "header (%s %.8s, read %08x): a byte was changed (%s blocks carry no checksum of their own)",
			     o->file, (long long)res->blocks, (long long)avro_reader_block_off(r), AVRO_META_CRC, crc,
			     (unsigned)avro_reader_crc(r), avro_codec_name(avro_reader_codec(r)));
		goto done;
	}
	avro_buf_need(&out, 2);
	out.p[out.len++] = 0xff;
	out.p[out.len++] = 0xff;
	if ((rc = pg_copy_put(c, (const char *)out.p, out.len, err)) < 0)
		goto done;
	copying = false;
	int64_t copied = 0;
	if ((rc = pg_copy_end(c, &copied, &refused, err)) < 0) {
		copy_refused(err, refused);
		pg_clear(refused);
		err_prefix(err, "table '%s'", o->table);
		goto done;
	}
	res->columns = (int)t.n;
	if (o->before_commit) {
		rc = o->before_commit(c, res->rows, o->commit_arg, err);
		if (rc != 0) {
			res->skipped = rc > 0;
			rc = rc > 0 ? 0 : rc;
			goto done; /* rolled back below */
		}
	}
	rc = pg_cmd(c, "COMMIT", 0, NULL, err);
	in_tx = false;
done:
	ahead_stop(&ahead);
	if (copying) {
		struct err e2 = {0};
		pg_copy_abort(c, err->msg, &e2);
	}
	if (in_tx) {
		struct err e2 = {0};
		pg_cmd(c, "ROLLBACK", 0, NULL, &e2);
	}
	avro_buf_free(&out);
	free(sql);
	free(q_table);
	avtable_free(&file);
	avtable_free(&t);
	avro_reader_free(r);
	close(fd);
	res->seconds = now_wall() - t0;
	return rc;
}
