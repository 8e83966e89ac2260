/* Loads: records -> contract -> COPY (binary where the contract types
 * allow it, binary.c; else text) -> PostgreSQL.
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
 *    lock its loader holds while it lives.
 *
 * This file runs a load from start to end; its phases have files of their
 * own: copy.c (records to COPY streams), target.c (the target and
 * the staging table), move.c (staged rows into the target). */
#include "core/load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"
#include "core/ledger.h"
#include "core/writes.h"
#include "core/load/internal.h"

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

/* ---- rejects ------------------------------------------------------------------ */

void load_fail(struct load *L, const struct err *e)
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
void load_reject(struct load *L, int64_t line, const char *col, const char *reason, const char *raw,
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
bool load_row_error(const struct pg_result *r)
{
	const char *st = pg_error_field(r, PG_FIELD_SQLSTATE);
	if (!st)
		return false;
	return !strncmp(st, "22", 2) || !strncmp(st, "23", 2) || !strncmp(st, "P0", 2) || !strncmp(st, "44", 2);
}

/* "message (detail)" of a server error. */
void load_server_reason(const struct pg_result *r, char *buf, size_t size)
{
	const char *m = pg_error_field(r, PG_FIELD_PRIMARY);
	const char *d = pg_error_field(r, PG_FIELD_DETAIL);
	snprintf(buf, size, "%s%s%s%s", m ? m : "refused by the server", d ? " (" : "", d ? d : "", d ? ")" : "");
}

/* ---- putting it together ---------------------------------------------------- */

void load_progress(struct load *L, int64_t start_ms, bool final)
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
			pg_close(L->streams[i].pg);
	}
	free(L->streams);
	if (L->main)
		pg_close(L->main);
	if (L->have_sink)
		reject_sink_free(&L->sink);
	if (L->state)
		pg_close(L->state);
	if (L->rd)
		rec_close(L->rd);
	contract_scratch_free(L->cs);
	contract_keys_free(L->keys);
	contract_free(L->ct);
	load_strv_free(L->file_cols, L->n_file_cols);
	load_strv_free(L->cols, L->n_cols);
	load_strv_free(L->types, L->n_cols);
	free(L->src);
	free(L->key);
	free(L->q_cols);
	free(L->q_target);
	free(L->q_stage);
	free(L->copy_sql);
	free(L->enc);
	free(L->schema);
	free(L->table);
	struct batch *lists[2] = {L->free_list, L->full_head};
	for (int k = 0; k < 2; k++)
		for (struct batch *b = lists[k], *nx; b; b = nx) {
			nx = b->next;
			load_batch_free(b);
		}
	pthread_mutex_destroy(&L->mu);
	pthread_cond_destroy(&L->cv_free);
	pthread_cond_destroy(&L->cv_full);
}

/* Past max_rejects (a count or a share of the rows read)? */
int load_check_rejects(struct load *L, struct err *err)
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

/* Just before the COMMIT: the table's last writer (core/writes.h), then the
 * commit ledger. */
int load_ledger_mark(struct load *L, int64_t rows, struct err *err)
{
	const struct load_opts *o = L->o;
	struct task_env writer = {.project = o->project, .pipeline = o->pipeline, .task = o->task,
				  .run_id = o->run_id, .try_number = o->try_number};
	if (writes_note(L->main, &writer, L->schema, L->table, (long long)rows, err) < 0)
		return err_code(err);
	if (!L->o->ledger)
		return 0;
	char what[600];
	snprintf(what, sizeof what, "load %ld into %s", L->load_id, L->o->into);
	int rc = ledger_mark(L->o->ledger, L->main, what, (long long)rows, err);
	if (rc > 0)
		return err_setc(err, ERR_EXISTS, "rolled back: try %d of the task committed this load at %s, while this try ran",
				L->o->ledger->prior_try, L->o->ledger->prior_at);
	return rc;
}

static int finish_direct(struct load *L, struct load_stats *st, struct err *err)
{
	struct stream *s = &L->streams[0];
	if (load_check_rejects(L, err) < 0) {
		pg_script(L->main, "ROLLBACK", NULL);
		return err_code(err);
	}
	if ((s->pending[0] && pg_script(L->main, s->pending, err) < 0) || load_ledger_mark(L, s->loaded, err) < 0) {
		int rc = err_code(err);
		pg_script(L->main, "ROLLBACK", NULL);
		return rc;
	}
	if (pg_script(L->main, "COMMIT", err) < 0)
		return err_prefix(err, "committing the load");
	st->rows_loaded = s->loaded;
	return 0;
}

/* A load task whose earlier try committed: that try's row in sluice.loads
 * (running, or marked lost since its process is gone) says so, the rows
 * there are its. */
static void note_prior(struct load *L, struct load_stats *st)
{
	const struct ledger *lg = L->o->ledger;
	st->rows_loaded = lg->prior_rows > 0 ? lg->prior_rows : 0;
	if (!L->state)
		return;
	struct err e = {0};
	loads_committed(L->state, L->o->project ? L->o->project : "", L->o->run_id, L->o->task, lg->prior_try,
			lg->prior_rows, lg->prior_at, &e);
}

int load_run(const struct load_opts *o, struct load_stats *st, struct err *err)
{
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
			rc = err_code(err);
			goto out;
		}
	}
	/* then the ledger: a try whose earlier try committed is not recorded as
	 * a load of its own (a failure to look is, below) */
	struct err lerr = {0};
	int seen = 0;
	if (o->ledger && (L.main = load_connect_target(o, &lerr)))
		seen = ledger_begin_check(o->ledger, L.main, o->log, &lerr);
	if (seen > 0) {
		note_prior(&L, st);
		goto out;
	}
	if (L.state) {
		struct load_info li = {o->project ? o->project : "", o->run_id, o->task, o->try_number, o->source,
				       o->into, load_mode_name(o->mode)};
		if (loads_begin(L.state, &li, &st->load_id, err) < 0) {
			rc = err_code(err);
			goto out;
		}
		reject_sink_init(&L.sink, L.state, st->load_id, o->run_id, o->task, o->source);
		L.have_sink = true;
	}
	L.load_id = st->load_id;
	if (seen < 0) {
		*err = lerr;
		rc = err_code(err);
		goto out;
	}

	if (!L.main && !(L.main = load_connect_target(o, err))) {
		rc = err_code(err);
		goto out;
	}
	if (writes_prepare(L.main, err) < 0) {
		rc = err_code(err);
		goto out;
	}
	L.q_target = load_quote_name(L.main, L.schema, L.table);

	L.ro = ro;
	if (rec_open(o->source, &ro, &L.rd, err) < 0) {
		rc = err_code(err);
		goto out;
	}
	struct record first;
	int got = rec_next(L.rd, &first, err);
	if (got < 0) {
		rc = err_code(err);
		goto out;
	}
	size_t nfc = 0;
	const char *const *fc = rec_columns(L.rd, &nfc);
	L.file_cols = xcalloc(nfc + 1, sizeof *L.file_cols);
	for (size_t i = 0; i < nfc; i++)
		L.file_cols[i] = xstrdup(fc[i]);
	L.n_file_cols = nfc;
	if (load_plan_columns(&L, err) < 0) {
		rc = err_code(err);
		goto out;
	}
	char why[400];
	st->binary = load_bin_plan(&L, why, sizeof why) == 0;
	if (o->log) {
		if (st->binary)
			fprintf(o->log, "load: COPY in binary format\n");
		else
			fprintf(o->log, "load: COPY in text format (%s)\n", why);
		fflush(o->log);
	}
	const char *fmt = st->binary ? " (FORMAT binary)" : "";

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
		load_drop_stale_stages(&L);
		if (load_create_stage(&L, st->load_id, err) < 0) {
			rc = err_code(err);
			goto out;
		}
		L.copy_sql = xasprintf("COPY %s (%s, sluice_ord, sluice_line) FROM STDIN%s", L.q_stage, L.q_cols, fmt);
		for (int i = 0; i < L.n_streams; i++) {
			if (!(L.streams[i].pg = load_connect_target(o, err))) {
				rc = err_code(err);
				goto out_stage;
			}
			pg_script(L.streams[i].pg, "SET synchronous_commit = off", NULL);
		}
	} else {
		L.copy_sql = xasprintf("COPY %s (%s) FROM STDIN%s", L.q_target, L.q_cols, fmt);
		L.streams[0].pg = L.main;
		if (pg_script(L.main, "BEGIN", err) < 0) {
			rc = err_code(err);
			goto out;
		}
		if (!L.target_exists && load_create_target(&L, err) < 0) {
			pg_script(L.main, "ROLLBACK", NULL);
			rc = err_code(err);
			goto out;
		}
	}

	/* one batch per stream in flight and one being filled: the server
	 * takes longer over a batch than the producer, so more would only wait
	 * (and hold 8 MB each) */
	for (int i = 0; i < L.n_streams + 1; i++) {
		struct batch *b = load_batch_new();
		b->next = L.free_list;
		L.free_list = b;
	}
	if (got == 1) {
		rc = load_run_streams(&L, &first, err);
	} else {
		/* an empty file still replaces */
		L.producing_done = true;
	}
	L.next_ord = L.rows_in;
	st->rows_in = L.rows_in;
	load_progress(&L, t0, true);
	if (rc == 0)
		rc = L.staged ? load_finish_staged(&L, st, err) : finish_direct(&L, st, err);
	else if (!L.staged)
		pg_script(L.main, "ROLLBACK", NULL);
out_stage:
	if (L.staged)
		load_drop_stage(&L);
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
			  rc && err ? err->msg : NULL, &le);
	}
	free(declared);
	load_cleanup(&L);
	return rc;
}
