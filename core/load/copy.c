/* The copy phase of a load: one producer (the calling thread) reads
 * records, checks them against the contract and formats COPY lines into
 * batches; stream threads, each with a connection of its own, send batches
 * as COPY statements, isolating the rows the server refuses (the CONTEXT
 * line names the row; without one the batch is halved until it is found). */
#include "core/load/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* A COPY statement's worth of rows; pg_copy_put is called with pieces of
 * at most PUT_BYTES. Each COPY statement costs the server about 2.5 ms
 * beyond its rows (measured: a million rows in 1 MB statements took 0.25 s
 * more of its CPU than in 8 MB ones); a batch holds its rows twice (sent
 * form and raw, for rejects), so 3 MB is where the gain meets the memory. */
#define BATCH_BYTES (3 * 1024 * 1024)
#define PUT_BYTES (256 * 1024)

/* ---- batches ---------------------------------------------------------------- */

void load_batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->data);
	free(b->raw);
	free(b->off);
	free(b->raw_off);
	free(b->line);
	free(b->skip);
	free(b);
}

static void batch_clear(struct batch *b)
{
	b->len = b->raw_len = 0;
	b->n = 0;
	if (b->off)
		b->off[0] = b->raw_off[0] = 0;
}

static inline void grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c);
	*cap = c;
}

static void batch_row_room(struct batch *b)
{
	if (b->n + 2 <= b->rows_cap)
		return;
	size_t c = b->rows_cap ? b->rows_cap * 2 : 4096;
	b->off = xrealloc(b->off, c * sizeof *b->off);
	b->raw_off = xrealloc(b->raw_off, c * sizeof *b->raw_off);
	b->line = xrealloc(b->line, c * sizeof *b->line);
	b->skip = xrealloc(b->skip, c);
	if (!b->rows_cap)
		b->off[0] = b->raw_off[0] = 0;
	b->rows_cap = c;
}

/* Bytes a COPY text field needs escaping for. */
static unsigned char esc_char[256];

static void esc_init(void)
{
	esc_char['\\'] = '\\';
	esc_char['\t'] = 't';
	esc_char['\n'] = 'n';
	esc_char['\r'] = 'r';
	esc_char['\v'] = 'v';
	esc_char['\b'] = 'b';
	esc_char['\f'] = 'f';
	esc_char[0] = 1; /* dropped: text cannot hold NUL */
}

/* Appends one field; the room (2 * n) was reserved by the caller. */
static inline char *put_field(char *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *q = p;
		while (q < end && !esc_char[*q])
			q++;
		memcpy(w, p, (size_t)(q - p));
		w += q - p;
		if (q == end)
			break;
		if (*q) {
			*w++ = '\\';
			*w++ = (char)esc_char[*q];
		}
		p = q + 1;
	}
	return w;
}

struct batch *load_batch_new(void)
{
	struct batch *b = xcalloc(1, sizeof *b);
	batch_row_room(b);
	return b;
}

/* ---- server errors ---------------------------------------------------------- */

/* The line of the COPY data the error is on (0 if none), and the column when
 * the server names it. */
static long copy_error_line(const struct pg_result *r, char *col, size_t col_size)
{
	col[0] = '\0';
	const char *c = pg_error_field(r, PG_FIELD_COLUMN);
	if (c)
		snprintf(col, col_size, "%s", c);
	const char *ctx = pg_error_field(r, PG_FIELD_CONTEXT);
	long line = 0;
	for (const char *p = ctx; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (!strncmp(p, "COPY ", 5)) {
			/* "COPY t, line 5, column a: "x"" or "COPY t, line 5: ..." */
			const char *hit = NULL;
			for (const char *q = p; q + 7 <= p + n; q++)
				if (!strncmp(q, ", line ", 7))
					hit = q;
			if (hit) {
				line = strtol(hit + 7, NULL, 10);
				const char *q = hit + 7;
				while (q < p + n && isdigit((unsigned char)*q))
					q++;
				if (!col[0] && q + 9 <= p + n && !strncmp(q, ", column ", 9)) {
					const char *s = q + 9, *e = s;
					while (e < p + n && *e != ':')
						e++;
					snprintf(col, col_size, "%.*s", (int)(e - s), s);
				}
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return line;
}

/* ---- COPY streams ------------------------------------------------------------ */

/* Sends a query that ends in COPY FROM STDIN and reads results up to the
 * copy state. */
static int copy_begin(struct stream *s, struct err *err)
{
	struct load *L = s->L;
	struct strbuf q = {0};
	sb_adds(&q, s->pending);
	if (!L->staged)
		sb_adds(&q, "SAVEPOINT sluice_batch; ");
	sb_adds(&q, L->copy_sql);
	s->pending = "";
	struct pg_result *bad;
	struct err e = {0};
	int rc = pg_copy_begin(s->pg, q.s, &bad, &e);
	sb_free(&q);
	if (rc == 0)
		return 0;
	if (bad) {
		char m[600];
		load_server_reason(bad, m, sizeof m);
		pg_clear(bad);
		return err_setc(err, err_code(&e), "COPY into %s: %s", L->q_target, m);
	}
	if (e.code == ERR_UNREACHABLE)
		return err_setc(err, err_code(&e), "COPY: %s", e.msg);
	return err_setc(err, err_code(&e), "COPY into %s: %s", L->q_target, e.msg);
}

/* Sends rows [a, z) of b that are not skipped as one COPY. 0: loaded; 1: the
 * server refused a row (*res holds the error); <0: the load fails. */
static int copy_rows(struct stream *s, struct batch *b, size_t a, size_t z, struct pg_result **res, struct err *err)
{
	*res = NULL;
	if (copy_begin(s, err) < 0)
		return err_code(err);
	size_t i = a;
	int ok = 0;
	struct err e = {0};
	if (s->L->enc) {
		size_t hl;
		const char *h = load_bin_header(&hl);
		ok = pg_copy_put(s->pg, h, hl, &e);
	}
	while (i < z && ok == 0) {
		while (i < z && b->skip[i])
			i++;
		size_t j = i;
		while (j < z && !b->skip[j] && b->off[j + 1] - b->off[i] < PUT_BYTES)
			j++;
		if (j == i && i < z)
			j = i + 1; /* one row longer than a piece */
		if (i < z)
			ok = pg_copy_put(s->pg, b->data + b->off[i], b->off[j] - b->off[i], &e);
		i = j;
	}
	if (s->L->enc && ok == 0)
		ok = pg_copy_put(s->pg, "\377\377", 2, &e); /* the trailer */
	struct pg_result *bad;
	int64_t rows;
	int end = pg_copy_end(s->pg, &rows, &bad, &e);
	s->loaded += rows;
	if (end < 0 && !bad)
		ok = end;
	if (ok < 0 || (bad && !load_row_error(bad)) || pg_broken(s->pg)) {
		char m[600];
		if (bad)
			load_server_reason(bad, m, sizeof m);
		else
			pg_errmsg(s->pg, m, sizeof m);
		err_setc(err, pg_broken(s->pg) ? ERR_UNREACHABLE : ERR_FAIL, "COPY into %s: %s", s->L->q_target, m);
		pg_clear(bad);
		return err_code(err);
	}
	if (bad) {
		s->pending = s->L->staged ? "" : "ROLLBACK TO SAVEPOINT sluice_batch; RELEASE SAVEPOINT sluice_batch; ";
		*res = bad;
		return 1;
	}
	s->pending = s->L->staged ? "" : "RELEASE SAVEPOINT sluice_batch; ";
	return 0;
}

static void reject_row(struct load *L, struct batch *b, size_t i, const char *col, const char *reason)
{
	b->skip[i] = 1;
	load_reject(L, b->line[i], col[0] ? col : NULL, reason, b->raw + b->raw_off[i], b->raw_off[i + 1] - b->raw_off[i],
	       true);
}

/* Loads rows [a, z), isolating the rows the server refuses. */
static int copy_range(struct stream *s, struct batch *b, size_t a, size_t z, struct err *err)
{
	while (a < z) {
		size_t live = 0;
		for (size_t i = a; i < z; i++)
			live += !b->skip[i];
		if (!live || s->L->abort)
			return 0;
		int64_t before = s->loaded;
		struct pg_result *r;
		int rc = copy_rows(s, b, a, z, &r, err);
		if (rc < 0)
			return err_code(err);
		if (rc == 0)
			return 0;
		s->loaded = before;
		char col[256], reason[1024];
		long line = copy_error_line(r, col, sizeof col);
		load_server_reason(r, reason, sizeof reason);
		pg_clear(r);
		if (line > 0 && (size_t)line <= live) {
			/* the line-th row sent */
			size_t i = a;
			for (long k = 0;; i++)
				if (!b->skip[i] && ++k == line)
					break;
			reject_row(s->L, b, i, col, reason);
			/* the rows before it passed row by row but may still fail
			 * a check made at the end of the statement */
			if (copy_range(s, b, a, i, err) < 0)
				return err_code(err);
			a = i + 1;
		} else if (live == 1) {
			for (size_t i = a; i < z; i++)
				if (!b->skip[i])
					reject_row(s->L, b, i, col, reason);
			return 0;
		} else {
			size_t half = live / 2, i = a;
			for (size_t k = 0; k < half; i++)
				k += !b->skip[i];
			if (copy_range(s, b, a, i, err) < 0)
				return err_code(err);
			a = i;
		}
	}
	return 0;
}

static void *stream_main(void *arg)
{
	struct stream *s = arg;
	struct load *L = s->L;
	for (;;) {
		pthread_mutex_lock(&L->mu);
		while (!L->full_head && !L->producing_done && !L->abort)
			pthread_cond_wait(&L->cv_full, &L->mu);
		if (L->abort || !L->full_head) {
			pthread_mutex_unlock(&L->mu);
			break;
		}
		struct batch *b = L->full_head;
		L->full_head = b->next;
		if (!L->full_head)
			L->full_tail = NULL;
		pthread_mutex_unlock(&L->mu);

		memset(b->skip, 0, b->n);
		struct err e = {0};
		int rc = copy_range(s, b, 0, b->n, &e);

		pthread_mutex_lock(&L->mu);
		batch_clear(b);
		b->next = L->free_list;
		L->free_list = b;
		pthread_cond_signal(&L->cv_free);
		pthread_mutex_unlock(&L->mu);
		if (rc < 0) {
			load_fail(L, &e);
			break;
		}
	}
	return NULL;
}

/* ---- the producer ------------------------------------------------------------- */

static struct batch *batch_take(struct load *L)
{
	pthread_mutex_lock(&L->mu);
	while (!L->free_list && !L->abort)
		pthread_cond_wait(&L->cv_free, &L->mu);
	struct batch *b = NULL;
	if (!L->abort) {
		b = L->free_list;
		L->free_list = b->next;
		b->next = NULL;
	}
	pthread_mutex_unlock(&L->mu);
	return b;
}

static void batch_send(struct load *L, struct batch *b)
{
	pthread_mutex_lock(&L->mu);
	if (L->full_tail)
		L->full_tail->next = b;
	else
		L->full_head = b;
	L->full_tail = b;
	pthread_cond_signal(&L->cv_full);
	pthread_mutex_unlock(&L->mu);
}

static int produce(struct load *L, struct record *first, struct err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, esc_init);
	const struct load_opts *o = L->o;
	size_t nc = L->n_cols;
	const char **in = xcalloc(nc + 1, sizeof *in);
	size_t *in_len = xcalloc(nc + 1, sizeof *in_len);
	const char **out = xcalloc(nc + 1, sizeof *out);
	size_t *out_len = xcalloc(nc + 1, sizeof *out_len);
	struct batch *b = NULL;
	struct record rec = *first;
	int rc = 1, ret = 0;
	int64_t start = now_ms(), next_report = start + 1000;
	size_t need_fields = 0;
	for (size_t i = 0; i < nc; i++)
		if ((size_t)L->src[i] + 1 > need_fields)
			need_fields = (size_t)L->src[i] + 1;

	while (rc == 1) {
		L->rows_in++;
		int64_t ord = L->rows_in;
		if ((L->rows_in & 1023) == 0 && now_ms() >= next_report) {
			load_progress(L, start, false);
			next_report = now_ms() + 1000;
		}
		char reason[1024];
		if (rec.error) {
			const char *col = rec.error_col > 0 && (size_t)rec.error_col <= L->n_file_cols
						  ? L->file_cols[rec.error_col - 1] : NULL;
			load_reject(L, rec.line, col, rec.error, rec.raw, rec.raw_len, true);
			goto next;
		}
		if (rec.n < need_fields) {
			snprintf(reason, sizeof reason, "%zu field%s, expected %zu", rec.n, rec.n == 1 ? "" : "s",
				 L->n_file_cols ? L->n_file_cols : need_fields);
			load_reject(L, rec.line, NULL, reason, rec.raw, rec.raw_len, true);
			goto next;
		}
		/* an empty field not written in quotes is NULL, as in COPY's CSV */
		for (size_t i = 0; i < nc; i++) {
			int f = L->src[i];
			in_len[i] = rec.lens[f];
			in[i] = in_len[i] || (rec.quoted && rec.quoted[f]) ? rec.fields[f] : NULL;
		}
		if (L->ct) {
			int bad = -1;
			reason[0] = '\0';
			if (contract_check(L->ct, L->cs, in, in_len, out, &bad, reason, sizeof reason) < 0) {
				const char *col = bad >= 0 && (size_t)bad < nc ? L->cols[bad] : NULL;
				load_reject(L, rec.line, col, reason[0] ? reason : "breaks the contract", rec.raw, rec.raw_len,
				       true);
				goto next;
			}
			for (size_t i = 0; i < nc; i++)
				out_len[i] = out[i] ? strlen(out[i]) : 0;
			int64_t seen_at = 0;
			if (L->keys && contract_keys_add(L->keys, out, rec.line, &seen_at) == 1) {
				snprintf(reason, sizeof reason, "duplicate key: the same %s as line %lld",
					 L->ct->n_key == 1 ? L->ct->key[0] : "key", (long long)seen_at);
				load_reject(L, rec.line, L->ct->key[0], reason, rec.raw, rec.raw_len, true);
				goto next;
			}
		} else {
			for (size_t i = 0; i < nc; i++) {
				out[i] = in[i];
				out_len[i] = in_len[i];
			}
		}
		if (o->mode == LOAD_MERGE) {
			size_t k = 0;
			while (k < L->n_key && out[L->key[k]])
				k++;
			if (k < L->n_key) {
				snprintf(reason, sizeof reason, "merge key column '%s' is empty", L->cols[L->key[k]]);
				load_reject(L, rec.line, L->cols[L->key[k]], reason, rec.raw, rec.raw_len, true);
				goto next;
			}
		}
		if (!b && !(b = batch_take(L)))
			break;
		batch_row_room(b);
		size_t room = 64;
		char *w;
		if (L->enc) {
			for (size_t i = 0; i < nc; i++)
				room += BIN_ROOM(out_len[i]);
			grow(&b->data, &b->cap, b->len + room);
			w = b->data + b->len;
			size_t nf = nc + (L->staged ? 2 : 0);
			*w++ = (char)(nf >> 8);
			*w++ = (char)nf;
			size_t i = 0;
			while (i < nc && load_bin_put(&w, L->enc[i], out[i], out_len[i], reason, sizeof reason) == 0)
				i++;
			if (i < nc) {
				/* out of the target type's range: the server's own words */
				load_reject(L, rec.line, L->cols[i], reason, rec.raw, rec.raw_len, true);
				goto next;
			}
			if (L->staged) {
				w = load_bin_int8(w, ord);
				w = load_bin_int8(w, rec.line);
			}
		} else {
			for (size_t i = 0; i < nc; i++)
				room += 2 * out_len[i] + 3;
			grow(&b->data, &b->cap, b->len + room);
			w = b->data + b->len;
			for (size_t i = 0; i < nc; i++) {
				if (i)
					*w++ = '\t';
				if (!out[i]) {
					*w++ = '\\';
					*w++ = 'N';
				} else {
					w = put_field(w, out[i], out_len[i]);
				}
			}
			if (L->staged)
				w += snprintf(w, 48, "\t%lld\t%lld", (long long)ord, (long long)rec.line);
			*w++ = '\n';
		}
		b->len = (size_t)(w - b->data);
		grow(&b->raw, &b->raw_cap, b->raw_len + rec.raw_len + 1);
		memcpy(b->raw + b->raw_len, rec.raw, rec.raw_len);
		b->raw_len += rec.raw_len;
		b->line[b->n] = rec.line;
		b->n++;
		b->off[b->n] = b->len;
		b->raw_off[b->n] = b->raw_len;
		if (b->len >= BATCH_BYTES) {
			batch_send(L, b);
			b = NULL;
		}
next:
		if (L->abort)
			break;
		rc = rec_next(L->rd, &rec, err);
	}
	if (rc < 0) {
		load_fail(L, err);
		ret = -1;
	}
	if (b && b->n && !L->abort)
		batch_send(L, b);
	else if (b) {
		pthread_mutex_lock(&L->mu);
		b->next = L->free_list;
		L->free_list = b;
		pthread_mutex_unlock(&L->mu);
	}
	pthread_mutex_lock(&L->mu);
	L->producing_done = true;
	pthread_cond_broadcast(&L->cv_full);
	pthread_mutex_unlock(&L->mu);
	free(in);
	free(in_len);
	free(out);
	free(out_len);
	return ret;
}

int load_run_streams(struct load *L, struct record *first, struct err *err)
{
	for (int i = 0; i < L->n_streams; i++) {
		struct stream *s = &L->streams[i];
		if (pthread_create(&s->th, NULL, stream_main, s) != 0) {
			struct err e = {0};
			err_set(&e, "cannot start a COPY thread: %s", strerror(errno));
			load_fail(L, &e);
			break;
		}
		s->started = true;
	}
	struct err pe = {0};
	produce(L, first, &pe);
	for (int i = 0; i < L->n_streams; i++)
		if (L->streams[i].started)
			pthread_join(L->streams[i].th, NULL);
	if (L->failed) {
		*err = L->fail;
		return err_code(&L->fail);
	}
	if (L->have_sink && reject_flush(&L->sink, err) < 0)
		return err_code(err);
	return 0;
}

