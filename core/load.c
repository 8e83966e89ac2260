/* Loads: records -> contract -> COPY text -> PostgreSQL.
 *
 * One producer (the calling thread) reads records, checks them and formats
 * COPY lines into batches; stream threads, each with a connection of its
 * own, send batches as COPY statements. A batch the server refuses is
 * isolated row by row the way pgloader does it: the CONTEXT line of the
 * error names the row (it is rejected with the server's message and the
 * batch re-sent without it); an error without a line (a foreign key checked
 * at the end of the statement) splits the batch in halves until the row is
 * found.
 *
 * Two ways to the target:
 *  - direct (append with one stream): COPY into the target itself inside one
 *    transaction, each batch under a savepoint; COMMIT at the end.
 *  - staged (replace, merge, and append over several streams): parallel COPY
 *    into an UNLOGGED staging table, then one transaction moves the rows into
 *    the target (replace: TRUNCATE + INSERT; merge: INSERT ... ON CONFLICT DO
 *    UPDATE). A staging table left behind by a killed load is dropped by the
 *    next load into the same database: each one is guarded by an advisory
 *    lock its loader holds while it lives. */
#include "core/load.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"
#include "core/contract.h"
#include "core/rejects.h"

/* A COPY statement's worth of rows; PQputCopyData is called with pieces of
 * at most PUT_BYTES. */
#define BATCH_BYTES (1024 * 1024)
#define PUT_BYTES (256 * 1024)
/* Rows moved per statement when a staged move has to isolate bad rows. */
#define MOVE_CHUNK 20000
/* Key space of the advisory locks that guard staging tables (<< 32 | oid). */
#define STAGE_LOCK_SPACE "(1364349763::bigint << 32)"
#define STAGE_PREFIX "sluice_stage_"

static const char *const mode_names[] = {"append", "replace", "merge"};

const char *load_mode_name(enum load_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

int load_mode_parse(const char *s, enum load_mode *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, mode_names[i])) {
			*out = (enum load_mode)i;
			return 0;
		}
	return -1;
}

int load_max_rejects_parse(const char *s, long long *n, double *pct)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	if (!strcmp(end, "%")) {
		if (v > 100)
			return -1;
		*pct = v;
		*n = -1;
		return 0;
	}
	if (*end || v != (double)(long long)v)
		return -1;
	*n = (long long)v;
	*pct = -1;
	return 0;
}

/* ---- batches ---------------------------------------------------------------- */

struct batch {
	char *data;             /* COPY text lines */
	size_t len, cap;
	char *raw;              /* the rows as read, for rejects */
	size_t raw_len, raw_cap;
	size_t *off;            /* row i is data[off[i] .. off[i+1]) */
	size_t *raw_off;
	int64_t *line;          /* source line of each row */
	unsigned char *skip;    /* rows rejected by the server */
	size_t n, rows_cap;
	struct batch *next;
};

static void batch_free(struct batch *b)
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

/* ---- the load --------------------------------------------------------------- */

struct stream {
	struct load *L;
	int idx;
	PGconn *pg;
	pthread_t th;
	bool started;
	const char *pending;    /* statement to send before the next one */
	int64_t loaded;
};

struct load {
	const struct load_opts *o;
	struct rec_opts ro;     /* o->rec with the contract's names for a headerless file */
	struct contract *ct;
	struct contract_scratch *cs;
	/* append/replace: the contract's key must be unique within the input
	 * (merge instead keeps the last row of a repeated key) */
	struct contract_keys *keys;
	struct rec_reader *rd;
	char **file_cols;       /* the source's column names */
	size_t n_file_cols;

	char *schema, *table;   /* as given (schema NULL if none) */
	char *q_target;         /* quoted */
	bool target_exists;
	char **cols;            /* the columns loaded, in COPY order */
	char **types;           /* their SQL types (for staging and create) */
	size_t n_cols;
	int *src;               /* record field of each column */
	char *q_cols;           /* "a", "b" ... */
	int *key;               /* merge: indexes into cols */
	size_t n_key;
	bool has_load_ts;       /* merge: the target has load_timestamp */
	bool staged;
	char *q_stage;          /* staged: the staging table, quoted */
	char *copy_sql;

	PGconn *main;           /* direct: the stream's connection; staged: the mover */
	PGconn *state;
	struct reject_sink sink;
	bool have_sink;

	struct stream *streams;
	int n_streams;

	pthread_mutex_t mu;
	pthread_cond_t cv_free, cv_full;
	struct batch *free_list, *full_head, *full_tail;
	bool producing_done, abort;
	struct err fail;        /* the first failure of any thread */
	bool failed;

	int64_t rows_in, rejected_counted, staged_rows;
	int64_t next_ord;
};

static void load_fail(struct load *L, const struct err *e)
{
	pthread_mutex_lock(&L->mu);
	if (!L->failed) {
		L->fail = *e;
		if (!L->fail.code)
			L->fail.code = ERR_FAIL;
		L->failed = true;
	}
	L->abort = true;
	pthread_cond_broadcast(&L->cv_free);
	pthread_cond_broadcast(&L->cv_full);
	pthread_mutex_unlock(&L->mu);
}

static bool too_many(const struct load *L, int64_t counted)
{
	return L->o->max_rejects >= 0 && counted > L->o->max_rejects;
}

/* Records a reject; fails the load when max_rejects is passed. */
static void reject(struct load *L, int64_t line, const char *col, const char *reason, const char *raw,
		   size_t raw_len, bool counts)
{
	int64_t n;
	if (L->have_sink) {
		n = reject_add(&L->sink, line, col, reason, raw, raw_len, counts);
		if (n < 0) {
			load_fail(L, &L->sink.err);
			return;
		}
	} else {
		pthread_mutex_lock(&L->mu);
		n = counts ? ++L->rejected_counted : L->rejected_counted;
		pthread_mutex_unlock(&L->mu);
	}
	if (counts && too_many(L, n)) {
		struct err e = {0};
		err_set(&e, "more than %lld rejects: nothing was loaded", L->o->max_rejects);
		load_fail(L, &e);
	}
}

static int64_t rejects_counted(struct load *L)
{
	if (L->have_sink) {
		pthread_mutex_lock(&L->sink.mu);
		int64_t n = L->sink.counted;
		pthread_mutex_unlock(&L->sink.mu);
		return n;
	}
	return L->rejected_counted;
}

static int64_t rejects_total(struct load *L)
{
	if (L->have_sink) {
		pthread_mutex_lock(&L->sink.mu);
		int64_t n = L->sink.count;
		pthread_mutex_unlock(&L->sink.mu);
		return n;
	}
	return L->rejected_counted;
}

/* ---- server errors ---------------------------------------------------------- */

/* Errors that belong to a row (bad value, constraint, trigger) rather than to
 * the load: those are isolated and rejected, the others fail the load. */
static bool row_error(const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (!st)
		return false;
	return !strncmp(st, "22", 2) || !strncmp(st, "23", 2) || !strncmp(st, "P0", 2) || !strncmp(st, "44", 2);
}

/* "message (detail)" of a server error. */
static void server_reason(const PGresult *r, char *buf, size_t size)
{
	const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	snprintf(buf, size, "%s%s%s%s", m ? m : "refused by the server", d ? " (" : "", d ? d : "", d ? ")" : "");
}

/* The line of the COPY data the error is on (0 if none), and the column when
 * the server names it. */
static long copy_error_line(const PGresult *r, char *col, size_t col_size)
{
	col[0] = '\0';
	const char *c = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
	if (c)
		snprintf(col, col_size, "%s", c);
	const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
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
	int ok = PQsendQuery(s->pg, q.s);
	sb_free(&q);
	if (!ok) {
		char m[512];
		return err_setc(err, ERR_UNREACHABLE, "COPY: %s", pg_errmsg(s->pg, m, sizeof m));
	}
	PGresult *r;
	int rc = -1;
	while ((r = PQgetResult(s->pg))) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_IN) {
			PQclear(r);
			return 0;
		}
		if (st != PGRES_COMMAND_OK && rc < 0) {
			char m[600];
			server_reason(r, m, sizeof m);
			err_setc(err, pg_broken(s->pg) ? ERR_UNREACHABLE : ERR_FAIL, "COPY into %s: %s", L->q_target, m);
			rc = -2;
		}
		PQclear(r);
	}
	if (rc == -1)
		err_set(err, "COPY into %s: the server did not start the copy", L->q_target);
	return -1;
}

/* Sends rows [a, z) of b that are not skipped as one COPY. 0: loaded; 1: the
 * server refused a row (*res holds the error); <0: the load fails. */
static int copy_rows(struct stream *s, struct batch *b, size_t a, size_t z, PGresult **res, struct err *err)
{
	*res = NULL;
	if (copy_begin(s, err) < 0)
		return -1;
	size_t i = a;
	int ok = 1;
	while (i < z && ok == 1) {
		while (i < z && b->skip[i])
			i++;
		size_t j = i;
		while (j < z && !b->skip[j] && b->off[j + 1] - b->off[i] < PUT_BYTES)
			j++;
		if (j == i && i < z)
			j = i + 1; /* one row longer than a piece */
		if (i < z)
			ok = PQputCopyData(s->pg, b->data + b->off[i], (int)(b->off[j] - b->off[i]));
		i = j;
	}
	if (ok == 1)
		ok = PQputCopyEnd(s->pg, NULL);
	PGresult *r, *bad = NULL;
	while ((r = PQgetResult(s->pg))) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			s->loaded += atoll(PQcmdTuples(r));
			PQclear(r);
		} else if (!bad) {
			bad = r;
		} else {
			PQclear(r);
		}
	}
	if (ok != 1 || (bad && !row_error(bad)) || pg_broken(s->pg)) {
		char m[600];
		if (bad)
			server_reason(bad, m, sizeof m);
		else
			pg_errmsg(s->pg, m, sizeof m);
		err_setc(err, pg_broken(s->pg) ? ERR_UNREACHABLE : ERR_FAIL, "COPY into %s: %s", s->L->q_target, m);
		PQclear(bad);
		return -1;
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
	reject(L, b->line[i], col[0] ? col : NULL, reason, b->raw + b->raw_off[i], b->raw_off[i + 1] - b->raw_off[i],
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
		PGresult *r;
		int rc = copy_rows(s, b, a, z, &r, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 0;
		s->loaded = before;
		char col[256], reason[1024];
		long line = copy_error_line(r, col, sizeof col);
		server_reason(r, reason, sizeof reason);
		PQclear(r);
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
				return -1;
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
				return -1;
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

/* ---- setup ------------------------------------------------------------------ */

static char *quote_name(PGconn *c, const char *schema, const char *name)
{
	char *t = pg_ident(c, name);
	if (!schema)
		return t;
	char *s = pg_ident(c, schema);
	char *q = xasprintf("%s.%s", s, t);
	free(s);
	free(t);
	return q;
}

static int find_col(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return (int)i;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i], name))
			return (int)i;
	return -1;
}

static PGconn *connect_target(const struct load_opts *o, struct err *err)
{
	PGconn *c = pg_connect(o->conninfo, "target database", err);
	if (!c)
		return NULL;
	PGresult *r = PQexec(c, "SET client_encoding = 'UTF8'");
	PQclear(r);
	return c;
}

/* The target's columns and their types; target_exists false if there is no
 * such table. */
static int inspect_target(struct load *L, char ***names, char ***types, size_t *n, struct err *err)
{
	*names = *types = NULL;
	*n = 0;
	const char *p[1] = {L->q_target};
	PGresult *r = pg_exec(L->main,
			      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), n.nspname"
			      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			      " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
			      " WHERE c.oid = to_regclass($1) ORDER BY a.attnum",
			      1, p, err);
	if (!r)
		return err_prefix(err, "looking up %s", L->o->into);
	int nt = PQntuples(r);
	L->target_exists = nt > 0;
	if (nt > 0 && !L->schema)
		L->schema = xstrdup(PQgetvalue(r, 0, 2));
	*names = xcalloc((size_t)nt + 1, sizeof **names);
	*types = xcalloc((size_t)nt + 1, sizeof **types);
	for (int i = 0; i < nt; i++) {
		if (PQgetisnull(r, i, 0))
			continue;
		(*names)[*n] = xstrdup(PQgetvalue(r, i, 0));
		(*types)[(*n)++] = xstrdup(PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Which columns are loaded, from where, with which types. */
static int plan_columns(struct load *L, struct err *err)
{
	const struct load_opts *o = L->o;
	char **tnames, **ttypes;
	size_t tn;
	if (inspect_target(L, &tnames, &ttypes, &tn, err) < 0)
		return -1;
	int rc = 0;
	if (!L->target_exists && !o->create) {
		rc = err_set(err, "table %s does not exist (create it first, or load with --create)", o->into);
		goto out;
	}
	if (L->ct) {
		L->n_cols = L->ct->n_cols;
		L->cols = xcalloc(L->n_cols, sizeof *L->cols);
		L->types = xcalloc(L->n_cols, sizeof *L->types);
		L->src = xcalloc(L->n_cols, sizeof *L->src);
		for (size_t i = 0; i < L->n_cols; i++) {
			const struct contract_col *c = &L->ct->cols[i];
			L->cols[i] = xstrdup(c->name);
			char buf[128];
			L->types[i] = xstrdup(contract_sql_type(c, buf, sizeof buf));
			L->src[i] = find_col(L->file_cols, L->n_file_cols, c->name);
			if (L->src[i] < 0) {
				rc = err_set(err, "%s has no column '%s' (contract %s)", o->source, c->name, L->ct->name);
				goto out;
			}
		}
	} else {
		if (!L->n_file_cols) {
			rc = err_set(err, "%s: no columns (a headerless file needs its column names)", o->source);
			goto out;
		}
		L->n_cols = L->n_file_cols;
		L->cols = xcalloc(L->n_cols, sizeof *L->cols);
		L->types = xcalloc(L->n_cols, sizeof *L->types);
		L->src = xcalloc(L->n_cols, sizeof *L->src);
		for (size_t i = 0; i < L->n_cols; i++) {
			L->cols[i] = xstrdup(L->file_cols[i]);
			L->types[i] = xstrdup("text");
			L->src[i] = (int)i;
		}
	}
	if (L->target_exists) {
		/* load into the target's own spelling and types */
		for (size_t i = 0; i < L->n_cols; i++) {
			int t = find_col(tnames, tn, L->cols[i]);
			if (t < 0) {
				rc = err_set(err, "table %s has no column '%s'", o->into, L->cols[i]);
				goto out;
			}
			free(L->cols[i]);
			free(L->types[i]);
			L->cols[i] = xstrdup(tnames[t]);
			L->types[i] = xstrdup(ttypes[t]);
		}
		L->has_load_ts = find_col(tnames, tn, "load_timestamp") >= 0;
	}
	for (size_t i = 0; i < L->n_cols; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(L->cols[i], L->cols[j])) {
				rc = err_set(err, "column '%s' is loaded twice", L->cols[i]);
				goto out;
			}
	if (o->mode == LOAD_MERGE) {
		const char *const *key = o->key;
		size_t nk = o->n_key;
		if (!nk && L->ct) {
			key = (const char *const *)L->ct->key;
			nk = L->ct->n_key;
		}
		if (!nk) {
			rc = err_setc(err, ERR_PROJECT, "merge needs a key (--key COLS, or a key in the contract)");
			goto out;
		}
		L->key = xcalloc(nk, sizeof *L->key);
		L->n_key = nk;
		for (size_t i = 0; i < nk; i++) {
			L->key[i] = find_col(L->cols, L->n_cols, key[i]);
			if (L->key[i] < 0) {
				rc = err_setc(err, ERR_PROJECT, "merge key '%s' is not a loaded column", key[i]);
				goto out;
			}
		}
		if (find_col(L->cols, L->n_cols, "load_timestamp") >= 0)
			L->has_load_ts = true; /* the file sets it: leave it alone */
	}
	struct strbuf b = {0};
	for (size_t i = 0; i < L->n_cols; i++) {
		char *q = pg_ident(L->main, L->cols[i]);
		sb_addf(&b, "%s%s", i ? ", " : "", q);
		free(q);
	}
	L->q_cols = sb_steal(&b);
out:
	strv_free(tnames, tn);
	strv_free(ttypes, tn);
	return rc;
}

/* CREATE TABLE for a missing target (inside the load's transaction). */
static int create_target(struct load *L, struct err *err)
{
	struct strbuf b = {0};
	sb_addf(&b, "CREATE TABLE %s (", L->q_target);
	for (size_t i = 0; i < L->n_cols; i++) {
		char *q = pg_ident(L->main, L->cols[i]);
		sb_addf(&b, "%s%s %s", i ? ", " : "", q, L->types[i]);
		if (L->ct && L->ct->cols[i].required)
			sb_adds(&b, " NOT NULL");
		free(q);
	}
	if (L->o->mode == LOAD_MERGE) {
		if (!L->has_load_ts)
			sb_adds(&b, ", load_timestamp timestamptz");
		L->has_load_ts = true;
		sb_adds(&b, ", PRIMARY KEY (");
		for (size_t i = 0; i < L->n_key; i++) {
			char *q = pg_ident(L->main, L->cols[L->key[i]]);
			sb_addf(&b, "%s%s", i ? ", " : "", q);
			free(q);
		}
		sb_adds(&b, ")");
	}
	sb_adds(&b, ")");
	int rc = pg_script(L->main, b.s, err);
	sb_free(&b);
	if (rc < 0)
		return err_prefix(err, "creating %s", L->o->into);
	L->target_exists = true;
	return 0;
}

/* Drops staging tables whose load is gone (killed): their guard lock is free. */
static void drop_stale_stages(struct load *L)
{
	PGresult *r = pg_exec(L->main,
			      "WITH c AS MATERIALIZED (SELECT c.oid, n.nspname, c.relname FROM pg_class c"
			      "  JOIN pg_namespace n ON n.oid = c.relnamespace"
			      "  WHERE c.relkind = 'r' AND c.relname LIKE 'sluice\\_stage\\_%'"
			      "  AND pg_has_role(c.relowner, 'USAGE'))"
			      " SELECT oid, nspname, relname FROM c"
			      " WHERE pg_try_advisory_lock(" STAGE_LOCK_SPACE " | oid::bigint)",
			      0, NULL, NULL);
	if (!r)
		return;
	for (int i = 0; i < PQntuples(r); i++) {
		char *q = quote_name(L->main, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
		char *sql = xasprintf("DROP TABLE IF EXISTS %s", q);
		pg_script(L->main, sql, NULL);
		free(sql);
		free(q);
		const char *p[1] = {PQgetvalue(r, i, 0)};
		pg_cmd(L->main, "SELECT pg_advisory_unlock(" STAGE_LOCK_SPACE " | $1::bigint)", 1, p, NULL);
	}
	PQclear(r);
}

/* The staging table: the loaded columns with the target's types, plus the
 * record's ordinal and line. Created and locked in one transaction, so no
 * other load ever sees it unguarded. */
static int create_stage(struct load *L, long load_id, struct err *err)
{
	char name[96];
	snprintf(name, sizeof name, STAGE_PREFIX "%ld_%d", load_id, (int)getpid());
	L->q_stage = quote_name(L->main, L->schema, name);
	struct strbuf b = {0};
	sb_addf(&b, "BEGIN; CREATE UNLOGGED TABLE %s (", L->q_stage);
	for (size_t i = 0; i < L->n_cols; i++) {
		char *q = pg_ident(L->main, L->cols[i]);
		sb_addf(&b, "%s %s, ", q, L->types[i]);
		free(q);
	}
	sb_adds(&b, "sluice_ord bigint, sluice_line bigint) WITH (autovacuum_enabled = off)");
	const char *p[1] = {L->q_stage};
	int rc = pg_script(L->main, b.s, err);
	sb_free(&b);
	if (rc == 0)
		rc = pg_cmd(L->main, "SELECT pg_advisory_lock(" STAGE_LOCK_SPACE " | to_regclass($1)::oid::bigint)",
			    1, p, err);
	if (rc == 0)
		rc = pg_script(L->main, "COMMIT", err);
	if (rc < 0) {
		pg_script(L->main, "ROLLBACK", NULL);
		free(L->q_stage);
		L->q_stage = NULL;
		return err_prefix(err, "creating a staging table");
	}
	return 0;
}

static void drop_stage(struct load *L)
{
	if (!L->q_stage || pg_broken(L->main))
		return;
	char *sql = xasprintf("DROP TABLE IF EXISTS %s", L->q_stage);
	pg_script(L->main, sql, NULL);
	free(sql);
	pg_script(L->main, "SELECT pg_advisory_unlock_all()", NULL);
}

/* ---- raws of staged rows ------------------------------------------------------ */

struct want {
	int64_t ord, line;
	char *col, *reason, *raw;
};

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Reads the source again for the raw text of the given records (ordinals). */
static void fetch_raws(struct load *L, struct want *w, size_t n)
{
	if (!n || !strcmp(L->o->source, "-"))
		return;
	qsort(w, n, sizeof *w, want_cmp);
	struct rec_reader *rd = NULL;
	struct err e = {0};
	if (rec_open(L->o->source, &L->ro, &rd, &e) < 0)
		return;
	struct record rec;
	int64_t ord = 0;
	size_t k = 0;
	while (k < n && rec_next(rd, &rec, &e) == 1) {
		ord++;
		while (k < n && w[k].ord < ord)
			k++;
		while (k < n && w[k].ord == ord) {
			w[k].raw = xstrndup(rec.raw, rec.raw_len);
			if (!w[k].line)
				w[k].line = rec.line;
			k++;
		}
	}
	rec_close(rd);
}

static void wants_reject(struct load *L, struct want *w, size_t n, bool counts)
{
	fetch_raws(L, w, n);
	for (size_t i = 0; i < n; i++) {
		reject(L, w[i].line, w[i].col, w[i].reason, w[i].raw, w[i].raw ? strlen(w[i].raw) : 0, counts);
		free(w[i].col);
		free(w[i].reason);
		free(w[i].raw);
	}
}

/* ---- the staged move ------------------------------------------------------------ */

static char *move_sql(struct load *L, const char *where)
{
	struct strbuf b = {0};
	bool merge = L->o->mode == LOAD_MERGE;
	bool add_ts = merge && find_col(L->cols, L->n_cols, "load_timestamp") < 0;
	sb_addf(&b, "INSERT INTO %s (%s%s) SELECT %s%s FROM %s%s", L->q_target, L->q_cols,
		add_ts ? ", load_timestamp" : "", L->q_cols, add_ts ? ", now()" : "", L->q_stage, where);
	if (merge) {
		sb_adds(&b, " ON CONFLICT (");
		for (size_t i = 0; i < L->n_key; i++) {
			char *q = pg_ident(L->main, L->cols[L->key[i]]);
			sb_addf(&b, "%s%s", i ? ", " : "", q);
			free(q);
		}
		sb_adds(&b, ") DO UPDATE SET ");
		bool first = true;
		for (size_t i = 0; i < L->n_cols; i++) {
			bool is_key = false;
			for (size_t k = 0; k < L->n_key; k++)
				is_key = is_key || L->key[k] == (int)i;
			if (is_key)
				continue;
			char *q = pg_ident(L->main, L->cols[i]);
			sb_addf(&b, "%s%s = EXCLUDED.%s", first ? "" : ", ", q, q);
			first = false;
			free(q);
		}
		if (add_ts)
			sb_addf(&b, "%sload_timestamp = EXCLUDED.load_timestamp", first ? "" : ", ");
		else if (first) {
			/* every column is the key: touch the row anyway */
			char *q = pg_ident(L->main, L->cols[L->key[0]]);
			sb_addf(&b, "%s = EXCLUDED.%s", q, q);
			free(q);
		}
	}
	return sb_steal(&b);
}

struct mover {
	struct load *L;
	int64_t loaded;
	struct want *bad;
	size_t n_bad, cap_bad;
};

/* Moves the staged rows matching where inside a savepoint. 0: moved (the
 * savepoint is released); 1: a row the server refuses (*row_err holds its
 * result and the savepoint is still open); <0: any other failure. */
static int move_try(struct mover *m, const char *where, PGresult **row_err, struct err *err)
{
	struct load *L = m->L;
	char *sql = move_sql(L, where);
	if (pg_script(L->main, "SAVEPOINT sluice_move", err) < 0) {
		free(sql);
		return -1;
	}
	PGresult *r = PQexec(L->main, sql);
	free(sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		m->loaded += atoll(PQcmdTuples(r));
		PQclear(r);
		return pg_script(L->main, "RELEASE SAVEPOINT sluice_move", err);
	}
	if (!row_error(r)) {
		char msg[600];
		server_reason(r, msg, sizeof msg);
		PQclear(r);
		return err_setc(err, pg_broken(L->main) ? ERR_UNREACHABLE : ERR_FAIL, "moving rows into %s: %s",
				L->o->into, msg);
	}
	*row_err = r;
	return 1;
}

/* Moves records [lo, hi) (ordinals); on a row error splits until the row is
 * found. */
static int move_range(struct mover *m, int64_t lo, int64_t hi, struct err *err)
{
	struct load *L = m->L;
	if (lo >= hi)
		return 0;
	char where[96];
	snprintf(where, sizeof where, " WHERE sluice_ord >= %lld AND sluice_ord < %lld", (long long)lo,
		 (long long)hi);
	PGresult *r;
	int rc = move_try(m, where, &r, err);
	if (rc <= 0)
		return rc;
	if (pg_script(L->main, "ROLLBACK TO SAVEPOINT sluice_move; RELEASE SAVEPOINT sluice_move", err) < 0) {
		PQclear(r);
		return -1;
	}
	if (hi - lo == 1) {
		char reason[1024];
		server_reason(r, reason, sizeof reason);
		const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
		if (m->n_bad == m->cap_bad) {
			m->cap_bad = m->cap_bad ? m->cap_bad * 2 : 16;
			m->bad = xrealloc(m->bad, m->cap_bad * sizeof *m->bad);
		}
		m->bad[m->n_bad++] = (struct want){lo, 0, xstrdup(col), xstrdup(reason), NULL};
		PQclear(r);
		char *q = xasprintf("SELECT sluice_line FROM %s WHERE sluice_ord = %lld", L->q_stage, (long long)lo);
		r = pg_exec(L->main, q, 0, NULL, NULL);
		free(q);
		if (r && PQntuples(r) == 1)
			m->bad[m->n_bad - 1].line = atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
		return 0;
	}
	PQclear(r);
	int64_t mid = lo + (hi - lo) / 2;
	if (move_range(m, lo, mid, err) < 0)
		return -1;
	return move_range(m, mid, hi, err);
}

static int move_all(struct mover *m, struct err *err)
{
	struct load *L = m->L;
	PGresult *r;
	int rc = move_try(m, "", &r, err);
	if (rc <= 0)
		return rc;
	PQclear(r);
	char *sql = xasprintf("ROLLBACK TO SAVEPOINT sluice_move; RELEASE SAVEPOINT sluice_move;"
			" CREATE INDEX ON %s (sluice_ord)", L->q_stage);
	rc = pg_script(L->main, sql, err);
	free(sql);
	if (rc < 0)
		return -1;
	for (int64_t lo = 1; lo <= L->next_ord; lo += MOVE_CHUNK)
		if (move_range(m, lo, lo + MOVE_CHUNK, err) < 0)
			return -1;
	return 0;
}

/* Merge: earlier rows of a key repeated in the input give way to the last one. */
static int drop_superseded(struct load *L, int64_t *n_sup, struct err *err)
{
	struct strbuf k = {0};
	for (size_t i = 0; i < L->n_key; i++) {
		char *q = pg_ident(L->main, L->cols[L->key[i]]);
		sb_addf(&k, "%s%s", i ? ", " : "", q);
		free(q);
	}
	char *sql = xasprintf("DELETE FROM %s s USING (SELECT sluice_ord,"
			      " first_value(sluice_line) OVER w AS winner, row_number() OVER w AS rn FROM %s"
			      " WINDOW w AS (PARTITION BY %s ORDER BY sluice_ord DESC)) x"
			      " WHERE s.sluice_ord = x.sluice_ord AND x.rn > 1 RETURNING s.sluice_ord, x.winner, s.sluice_line",
			      L->q_stage, L->q_stage, k.s);
	sb_free(&k);
	PGresult *r = pg_exec(L->main, sql, 0, NULL, err);
	free(sql);
	if (!r)
		return err_prefix(err, "merge: finding repeated keys");
	size_t n = (size_t)PQntuples(r);
	struct want *w = xcalloc(n + 1, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		w[i].ord = atoll(PQgetvalue(r, (int)i, 0));
		w[i].line = atoll(PQgetvalue(r, (int)i, 2));
		w[i].reason = xasprintf("superseded by line %s", PQgetvalue(r, (int)i, 1));
	}
	PQclear(r);
	/* their raw text comes from reading the source again */
	wants_reject(L, w, n, false);
	free(w);
	*n_sup = (int64_t)n;
	return 0;
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

static void progress(struct load *L, int64_t start_ms, bool final)
{
	const struct load_opts *o = L->o;
	int64_t done = 0, size = -1;
	if (L->rd)
		rec_progress(L->rd, &done, &size);
	double secs = (double)(now_ms() - start_ms) / 1000.0;
	double rate = secs > 0 ? (double)L->rows_in / secs : 0;
	char pct[16] = "";
	if (size > 0)
		snprintf(pct, sizeof pct, " (%d%%)", (int)(done * 100 / size));
	long long rej = (long long)rejects_total(L);
	if (o->log && !final) {
		fprintf(o->log, "load: %lld rows read%s, %.0f rows/s, %lld rejected\n", (long long)L->rows_in, pct, rate,
			rej);
		fflush(o->log);
	}
	if (o->tty) {
		fprintf(stderr, "\r\033[Kload: %lld rows%s, %.0f rows/s, %lld rejected", (long long)L->rows_in, pct,
			rate, rej);
		if (final)
			fputc('\n', stderr);
		fflush(stderr);
	}
}

/* Reads, checks and formats every record; hands full batches to the streams. */
static int produce(struct load *L, struct record *first, struct err *err)
{
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
			progress(L, start, false);
			next_report = now_ms() + 1000;
		}
		char reason[1024];
		if (rec.error) {
			const char *col = rec.error_col > 0 && (size_t)rec.error_col <= L->n_file_cols
						  ? L->file_cols[rec.error_col - 1] : NULL;
			reject(L, rec.line, col, rec.error, rec.raw, rec.raw_len, true);
			goto next;
		}
		if (rec.n < need_fields) {
			snprintf(reason, sizeof reason, "%zu field%s, expected %zu", rec.n, rec.n == 1 ? "" : "s",
				 L->n_file_cols ? L->n_file_cols : need_fields);
			reject(L, rec.line, NULL, reason, rec.raw, rec.raw_len, true);
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
				reject(L, rec.line, col, reason[0] ? reason : "breaks the contract", rec.raw, rec.raw_len,
				       true);
				goto next;
			}
			for (size_t i = 0; i < nc; i++)
				out_len[i] = out[i] ? strlen(out[i]) : 0;
			int64_t seen_at = 0;
			if (L->keys && contract_keys_add(L->keys, out, rec.line, &seen_at) == 1) {
				snprintf(reason, sizeof reason, "duplicate key: the same %s as line %lld",
					 L->ct->n_key == 1 ? L->ct->key[0] : "key", (long long)seen_at);
				reject(L, rec.line, L->ct->key[0], reason, rec.raw, rec.raw_len, true);
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
				reject(L, rec.line, L->cols[L->key[k]], reason, rec.raw, rec.raw_len, true);
				goto next;
			}
		}
		if (!b && !(b = batch_take(L)))
			break;
		batch_row_room(b);
		size_t room = 64;
		for (size_t i = 0; i < nc; i++)
			room += 2 * out_len[i] + 3;
		grow(&b->data, &b->cap, b->len + room);
		char *w = b->data + b->len;
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

/* ---- putting it together ---------------------------------------------------- */

/* Default COPY streams: one per core beside the producer's (measured: on two
 * cores a second stream only takes CPU from the producer), at most 8. */
static int default_streams(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static void split_into(struct load *L, const char *into)
{
	const char *dot = strchr(into, '.');
	if (dot) {
		L->schema = xstrndup(into, (size_t)(dot - into));
		L->table = xstrdup(dot + 1);
	} else {
		L->table = xstrdup(into);
	}
}

static void load_cleanup(struct load *L)
{
	for (int i = 0; i < L->n_streams; i++) {
		if (L->streams[i].pg && L->streams[i].pg != L->main)
			PQfinish(L->streams[i].pg);
	}
	free(L->streams);
	if (L->main)
		PQfinish(L->main);
	if (L->have_sink)
		reject_sink_free(&L->sink);
	if (L->state)
		PQfinish(L->state);
	if (L->rd)
		rec_close(L->rd);
	contract_scratch_free(L->cs);
	contract_keys_free(L->keys);
	contract_free(L->ct);
	strv_free(L->file_cols, L->n_file_cols);
	strv_free(L->cols, L->n_cols);
	strv_free(L->types, L->n_cols);
	free(L->src);
	free(L->key);
	free(L->q_cols);
	free(L->q_target);
	free(L->q_stage);
	free(L->copy_sql);
	free(L->schema);
	free(L->table);
	struct batch *lists[2] = {L->free_list, L->full_head};
	for (int k = 0; k < 2; k++)
		for (struct batch *b = lists[k], *nx; b; b = nx) {
			nx = b->next;
			batch_free(b);
		}
	pthread_mutex_destroy(&L->mu);
	pthread_cond_destroy(&L->cv_free);
	pthread_cond_destroy(&L->cv_full);
}

/* Past max_rejects (a count or a share of the rows read)? */
static int check_rejects(struct load *L, struct err *err)
{
	int64_t n = rejects_counted(L);
	const struct load_opts *o = L->o;
	if (o->max_rejects >= 0 && n > o->max_rejects)
		return err_set(err, "%lld rejects, more than the %lld allowed: nothing was loaded", (long long)n,
			       o->max_rejects);
	if (o->max_rejects_pct >= 0 && L->rows_in > 0 && (double)n * 100.0 / (double)L->rows_in > o->max_rejects_pct)
		return err_set(err, "%lld rejects in %lld rows (%.2f%%), more than the %g%% allowed: nothing was loaded",
			       (long long)n, (long long)L->rows_in, (double)n * 100.0 / (double)L->rows_in,
			       o->max_rejects_pct);
	return 0;
}

static int run_streams(struct load *L, struct record *first, struct err *err)
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
		return L->fail.code ? L->fail.code : ERR_FAIL;
	}
	if (L->have_sink && reject_flush(&L->sink, err) < 0)
		return err_code(err);
	return 0;
}

static int finish_direct(struct load *L, struct load_stats *st, struct err *err)
{
	struct stream *s = &L->streams[0];
	if (check_rejects(L, err) < 0) {
		pg_script(L->main, "ROLLBACK", NULL);
		return ERR_FAIL;
	}
	struct strbuf q = {0};
	sb_adds(&q, s->pending);
	sb_adds(&q, "COMMIT");
	int rc = pg_script(L->main, q.s, err);
	sb_free(&q);
	if (rc < 0)
		return err_prefix(err, "committing the load");
	st->rows_loaded = s->loaded;
	return 0;
}

static int finish_staged(struct load *L, struct load_stats *st, struct err *err)
{
	const struct load_opts *o = L->o;
	if (check_rejects(L, err) < 0)
		return ERR_FAIL;
	if (o->mode == LOAD_MERGE && drop_superseded(L, &st->superseded, err) < 0)
		return err_code(err);
	if (o->log) {
		fprintf(o->log, "load: moving the rows into %s\n", o->into);
		fflush(o->log);
	}
	if (pg_script(L->main, "BEGIN", err) < 0)
		return -1;
	if (!L->target_exists && create_target(L, err) < 0)
		goto fail;
	if (o->mode == LOAD_MERGE && !L->has_load_ts) {
		char *sql = xasprintf("ALTER TABLE %s ADD COLUMN load_timestamp timestamptz", L->q_target);
		int rc = pg_script(L->main, sql, err);
		free(sql);
		if (rc < 0) {
			err_prefix(err, "adding load_timestamp to %s", o->into);
			goto fail;
		}
	}
	if (o->mode == LOAD_REPLACE) {
		/* TRUNCATE keeps indexes, constraints, grants and dependent views;
		 * a table other tables reference cannot be truncated: DELETE then */
		char *sql = xasprintf("SAVEPOINT sluice_t; TRUNCATE %s", L->q_target);
		int rc = pg_script(L->main, sql, NULL);
		free(sql);
		if (rc < 0) {
			sql = xasprintf("ROLLBACK TO SAVEPOINT sluice_t; DELETE FROM %s", L->q_target);
			rc = pg_script(L->main, sql, err);
			free(sql);
			if (rc < 0) {
				err_prefix(err, "emptying %s", o->into);
				goto fail;
			}
		}
	}
	struct mover m = {L, 0, NULL, 0, 0};
	/* all at once first; only if a row is refused, in chunks that are
	 * split until the refused rows are found */
	if (move_all(&m, err) < 0)
		goto fail_m;
	if (m.n_bad) {
		/* move_range already split down to the bad rows */
		wants_reject(L, m.bad, m.n_bad, true);
		if (L->have_sink && reject_flush(&L->sink, err) < 0)
			goto fail_m;
		if (L->failed || check_rejects(L, err) < 0) {
			if (L->failed)
				*err = L->fail;
			goto fail_m;
		}
	}
	free(m.bad);
	if (pg_script(L->main, "COMMIT", err) < 0)
		return err_prefix(err, "committing the load");
	st->rows_loaded = m.loaded;
	return 0;
fail_m:
	free(m.bad);
fail:
	pg_script(L->main, "ROLLBACK", NULL);
	return err_code(err);
}

int load_run(const struct load_opts *o, struct load_stats *st, struct err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, esc_init);
	memset(st, 0, sizeof *st);
	int64_t t0 = now_ms();
	struct load L = {0};
	L.o = o;
	pthread_mutex_init(&L.mu, NULL);
	pthread_cond_init(&L.cv_free, NULL);
	pthread_cond_init(&L.cv_full, NULL);
	split_into(&L, o->into);
	int rc = 0;
	struct rec_opts ro = o->rec;
	const char **declared = NULL;

	if (o->contract) {
		struct diags d = {0};
		if (contract_load(o->contract, &L.ct, &d) < 0 || d.n) {
			struct strbuf b = {0};
			for (size_t i = 0; i < d.n; i++)
				sb_addf(&b, "%s%s:%d:%d: %s", i ? "\n" : "", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
			rc = err_setc(err, ERR_PROJECT, "%s", b.s ? b.s : "invalid contract");
			sb_free(&b);
			diags_free(&d);
			goto out;
		}
		diags_free(&d);
		L.cs = contract_scratch_new();
		if (L.ct->n_key && o->mode != LOAD_MERGE)
			L.keys = contract_keys_new(L.ct);
		/* a headerless file without declared names has the contract's columns */
		if (!ro.header && !ro.n_columns) {
			declared = xcalloc(L.ct->n_cols + 1, sizeof *declared);
			for (size_t i = 0; i < L.ct->n_cols; i++)
				declared[i] = L.ct->cols[i].name;
			ro.columns = declared;
			ro.n_columns = L.ct->n_cols;
		}
	}

	/* the state database first: the load is recorded even if it fails */
	if (o->state_conninfo) {
		L.state = pg_connect(o->state_conninfo, "state database", err);
		if (!L.state) {
			rc = err->code;
			goto out;
		}
		struct load_info li = {o->project ? o->project : "", o->run_id, o->task, o->try_number, o->source,
				       o->into, load_mode_name(o->mode)};
		if (loads_begin(L.state, &li, &st->load_id, err) < 0) {
			rc = err_code(err);
			goto out;
		}
		reject_sink_init(&L.sink, L.state, st->load_id, o->run_id, o->task, o->source);
		L.have_sink = true;
	}

	if (!(L.main = connect_target(o, err))) {
		rc = err->code;
		goto out;
	}
	L.q_target = quote_name(L.main, L.schema, L.table);

	L.ro = ro;
	if (rec_open(o->source, &ro, &L.rd, err) < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	struct record first;
	int got = rec_next(L.rd, &first, err);
	if (got < 0) {
		rc = ERR_FAIL;
		goto out;
	}
	size_t nfc = 0;
	const char *const *fc = rec_columns(L.rd, &nfc);
	L.file_cols = xcalloc(nfc + 1, sizeof *L.file_cols);
	for (size_t i = 0; i < nfc; i++)
		L.file_cols[i] = xstrdup(fc[i]);
	L.n_file_cols = nfc;
	if (plan_columns(&L, err) < 0) {
		rc = err_code(err);
		goto out;
	}

	/* direct into the target for a plain append on one stream; otherwise
	 * through a staging table */
	L.n_streams = o->parallel > 0 ? o->parallel : default_streams();
	L.staged = o->mode != LOAD_APPEND || (o->parallel_set && L.n_streams > 1);
	if (!L.staged)
		L.n_streams = 1;
	st->streams = L.n_streams;
	L.streams = xcalloc((size_t)L.n_streams, sizeof *L.streams);
	for (int i = 0; i < L.n_streams; i++) {
		L.streams[i].L = &L;
		L.streams[i].idx = i;
		L.streams[i].pending = "";
	}

	if (L.staged) {
		drop_stale_stages(&L);
		if (create_stage(&L, st->load_id, err) < 0) {
			rc = err_code(err);
			goto out;
		}
		L.copy_sql = xasprintf("COPY %s (%s, sluice_ord, sluice_line) FROM STDIN", L.q_stage, L.q_cols);
		for (int i = 0; i < L.n_streams; i++) {
			if (!(L.streams[i].pg = connect_target(o, err))) {
				rc = err->code;
				goto out_stage;
			}
			pg_script(L.streams[i].pg, "SET synchronous_commit = off", NULL);
		}
	} else {
		L.copy_sql = xasprintf("COPY %s (%s) FROM STDIN", L.q_target, L.q_cols);
		L.streams[0].pg = L.main;
		if (pg_script(L.main, "BEGIN", err) < 0) {
			rc = err_code(err);
			goto out;
		}
		if (!L.target_exists && create_target(&L, err) < 0) {
			pg_script(L.main, "ROLLBACK", NULL);
			rc = err_code(err);
			goto out;
		}
	}

	/* two batches per stream in flight or being filled, and one spare */
	for (int i = 0; i < 2 * L.n_streams + 1; i++) {
		struct batch *b = xcalloc(1, sizeof *b);
		batch_row_room(b);
		b->next = L.free_list;
		L.free_list = b;
	}
	if (got == 1) {
		rc = run_streams(&L, &first, err);
	} else {
		/* an empty file still replaces */
		L.producing_done = true;
	}
	L.next_ord = L.rows_in;
	st->rows_in = L.rows_in;
	progress(&L, t0, true);
	if (rc == 0)
		rc = L.staged ? finish_staged(&L, st, err) : finish_direct(&L, st, err);
	else if (!L.staged)
		pg_script(L.main, "ROLLBACK", NULL);
out_stage:
	if (L.staged)
		drop_stage(&L);
out:
	st->rows_in = L.rows_in;
	if (L.have_sink) {
		struct err fe = {0};
		if (reject_flush(&L.sink, &fe) < 0 && rc == 0) {
			*err = fe;
			rc = err_code(&fe);
		}
	}
	st->rejected = rejects_total(&L);
	if (rc != 0)
		st->rows_loaded = 0;
	st->seconds = (double)(now_ms() - t0) / 1000.0;
	if (L.state && st->load_id) {
		struct err le = {0};
		loads_end(L.state, st->load_id, rc == 0, st->rows_in, st->rows_loaded, st->rejected,
			  rc ? err->msg : NULL, &le);
	}
	free(declared);
	load_cleanup(&L);
	return rc;
}
