/* The move phase of a staged load: in one transaction the staged rows go
 * into the target (replace: TRUNCATE + INSERT; merge: INSERT ... ON CONFLICT
 * DO UPDATE), all at once first; when the server refuses a row, in chunks
 * under savepoints, halved until the refused rows are found and rejected
 * with their raw text read again from the source. */
#include "core/load/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "connectors/pg.h"

/* Rows moved per statement when a staged move has to isolate bad rows. */
#define MOVE_CHUNK 20000

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
		load_reject(L, w[i].line, w[i].col, w[i].reason, w[i].raw, w[i].raw ? strlen(w[i].raw) : 0, counts);
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
	bool add_ts = merge && load_find_col(L->cols, L->n_cols, "load_timestamp") < 0;
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
static int move_try(struct mover *m, const char *where, struct pg_result **row_err, struct err *err)
{
	struct load *L = m->L;
	char *sql = move_sql(L, where);
	if (pg_script(L->main, "SAVEPOINT sluice_move", err) < 0) {
		free(sql);
		return err_code(err);
	}
	struct pg_result *refused;
	struct err e = {0};
	struct pg_result *r = pg_try(L->main, sql, 0, NULL, &refused, &e);
	free(sql);
	if (r) {
		m->loaded += pg_cmd_rows(r);
		pg_clear(r);
		return pg_script(L->main, "RELEASE SAVEPOINT sluice_move", err);
	}
	if (!refused)
		return err_setc(err, err_code(&e), "moving rows into %s: %s", L->o->into, e.msg);
	r = refused;
	if (!load_row_error(r)) {
		char msg[600];
		load_server_reason(r, msg, sizeof msg);
		pg_clear(r);
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
	struct pg_result *r;
	int rc = move_try(m, where, &r, err);
	if (rc <= 0)
		return rc;
	if (pg_script(L->main, "ROLLBACK TO SAVEPOINT sluice_move; RELEASE SAVEPOINT sluice_move", err) < 0) {
		pg_clear(r);
		return err_code(err);
	}
	if (hi - lo == 1) {
		char reason[1024];
		load_server_reason(r, reason, sizeof reason);
		const char *col = pg_error_field(r, PG_FIELD_COLUMN);
		if (m->n_bad == m->cap_bad) {
			m->cap_bad = m->cap_bad ? m->cap_bad * 2 : 16;
			m->bad = xrealloc(m->bad, m->cap_bad * sizeof *m->bad);
		}
		m->bad[m->n_bad++] = (struct want){lo, 0, xstrdup(col), xstrdup(reason), NULL};
		pg_clear(r);
		char *q = xasprintf("SELECT sluice_line FROM %s WHERE sluice_ord = %lld", L->q_stage, (long long)lo);
		r = pg_exec(L->main, q, 0, NULL, NULL);
		free(q);
		if (r && pg_rows(r) == 1)
			m->bad[m->n_bad - 1].line = atoll(pg_val(r, 0, 0));
		pg_clear(r);
		return 0;
	}
	pg_clear(r);
	int64_t mid = lo + (hi - lo) / 2;
	if (move_range(m, lo, mid, err) < 0)
		return err_code(err);
	return move_range(m, mid, hi, err);
}

static int move_all(struct mover *m, struct err *err)
{
	struct load *L = m->L;
	struct pg_result *r;
	int rc = move_try(m, "", &r, err);
	if (rc <= 0)
		return rc;
	pg_clear(r);
	char *sql = xasprintf("ROLLBACK TO SAVEPOINT sluice_move; RELEASE SAVEPOINT sluice_move;"
			" CREATE INDEX ON %s (sluice_ord)", L->q_stage);
	rc = pg_script(L->main, sql, err);
	free(sql);
	if (rc < 0)
		return err_code(err);
	for (int64_t lo = 1; lo <= L->next_ord; lo += MOVE_CHUNK)
		if (move_range(m, lo, lo + MOVE_CHUNK, err) < 0)
			return err_code(err);
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
	struct pg_result *r = pg_exec(L->main, sql, 0, NULL, err);
	free(sql);
	if (!r)
		return err_prefix(err, "merge: finding repeated keys");
	size_t n = (size_t)pg_rows(r);
	struct want *w = xcalloc(n + 1, sizeof *w);
	for (size_t i = 0; i < n; i++) {
		w[i].ord = atoll(pg_val(r, (int)i, 0));
		w[i].line = atoll(pg_val(r, (int)i, 2));
		w[i].reason = xasprintf("superseded by line %s", pg_val(r, (int)i, 1));
	}
	pg_clear(r);
	/* their raw text comes from reading the source again */
	wants_reject(L, w, n, false);
	free(w);
	*n_sup = (int64_t)n;
	return 0;
}

int load_finish_staged(struct load *L, struct load_stats *st, struct err *err)
{
	const struct load_opts *o = L->o;
	if (load_check_rejects(L, err) < 0)
		return err_code(err);
	if (o->mode == LOAD_MERGE && drop_superseded(L, &st->superseded, err) < 0)
		return err_code(err);
	if (o->log) {
		fprintf(o->log, "load: moving the rows into %s\n", o->into);
		fflush(o->log);
	}
	if (pg_script(L->main, "BEGIN", err) < 0)
		return err_code(err);
	if (!L->target_exists && load_create_target(L, err) < 0)
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
		if (L->failed || load_check_rejects(L, err) < 0) {
			if (L->failed)
				*err = L->fail;
			goto fail_m;
		}
	}
	free(m.bad);
	if (load_ledger_mark(L, m.loaded, err) < 0)
		goto fail;
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

