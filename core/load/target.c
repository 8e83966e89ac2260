/* The target of a load: which columns are loaded from where with which
 * types, the target table looked up or created, and the UNLOGGED staging
 * table a staged load copies into, guarded by an advisory lock its loader
 * holds while it lives (a killed load's table is dropped by the next one). */
#include "core/load/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"

/* Key space of the advisory locks that guard staging tables (<< 32 | oid). */
#define STAGE_LOCK_SPACE "(1364349763::bigint << 32)"
#define STAGE_PREFIX "sluice_stage_"

char *load_quote_name(struct pg_conn *c, const char *schema, const char *name)
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

int load_find_col(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return (int)i;
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i], name))
			return (int)i;
	return -1;
}

struct pg_conn *load_connect_target(const struct load_opts *o, struct err *err)
{
	struct pg_conn *c = pg_connect_db(o->conninfo, o->database, "target database", err);
	if (!c)
		return NULL;
	/* the COPY text is UTF-8 whatever the server's default */
	pg_script(c, "SET client_encoding = 'UTF8'", NULL);
	return c;
}

/* The target's columns and their types; target_exists false if there is no
 * such table. */
static int inspect_target(struct load *L, char ***names, char ***types, size_t *n, struct err *err)
{
	*names = *types = NULL;
	*n = 0;
	const char *p[1] = {L->q_target};
	struct pg_result *r =
		pg_exec(L->main,
			"SELECT a.attname, format_type(a.atttypid, a.atttypmod), n.nspname"
			" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			" LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
			" WHERE c.oid = to_regclass($1) ORDER BY a.attnum",
			1, p, err);
	if (!r)
		return err_prefix(err, "looking up %s", L->o->into);
	int nt = pg_rows(r);
	L->target_exists = nt > 0;
	if (nt > 0 && !L->schema)
		L->schema = xstrdup(pg_val(r, 0, 2));
	*names = xcalloc((size_t)nt + 1, sizeof **names);
	*types = xcalloc((size_t)nt + 1, sizeof **types);
	for (int i = 0; i < nt; i++) {
		if (pg_isnull(r, i, 0))
			continue;
		(*names)[*n] = xstrdup(pg_val(r, i, 0));
		(*types)[(*n)++] = xstrdup(pg_val(r, i, 1));
	}
	pg_clear(r);
	return 0;
}

void load_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Which columns are loaded, from where, with which types. */
int load_plan_columns(struct load *L, struct err *err)
{
	const struct load_opts *o = L->o;
	char **tnames, **ttypes;
	size_t tn;
	if (inspect_target(L, &tnames, &ttypes, &tn, err) < 0)
		return err_code(err);
	int rc = 0;
	if (!L->target_exists && !o->create) {
		rc = err_set(err, "table %s does not exist (create it first, or load with --create)", o->into);
		goto out;
	}
	/* a column named twice would be matched once and the other dropped */
	for (size_t j = 1; j < L->n_file_cols; j++)
		for (size_t i = 0; i < j; i++)
			if (!strcmp(L->file_cols[i], L->file_cols[j])) {
				if (L->ro.format != REC_CSV || !L->ro.header || L->ro.n_columns) {
					rc = err_set(err, "column '%s' is named twice in the declared columns", L->file_cols[j]);
					goto out;
				}
				/* where the header names it, its fields written as they read */
				size_t col = 1;
				for (size_t k = 0; k < j; k++)
					col += strlen(L->file_cols[k]) + 1;
				rc = err_set(err, "%s:1:%zu: column '%s' is in the header twice (first as field %zu)", o->source,
					     col, L->file_cols[j], i + 1);
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
			L->src[i] = load_find_col(L->file_cols, L->n_file_cols, c->name);
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
			int t = load_find_col(tnames, tn, L->cols[i]);
			if (t < 0) {
				rc = err_set(err, "table %s has no column '%s'", o->into, L->cols[i]);
				goto out;
			}
			free(L->cols[i]);
			free(L->types[i]);
			L->cols[i] = xstrdup(tnames[t]);
			L->types[i] = xstrdup(ttypes[t]);
		}
		L->has_load_ts = load_find_col(tnames, tn, "load_timestamp") >= 0;
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
			L->key[i] = load_find_col(L->cols, L->n_cols, key[i]);
			if (L->key[i] < 0) {
				rc = err_setc(err, ERR_PROJECT, "merge key '%s' is not a loaded column", key[i]);
				goto out;
			}
		}
		if (load_find_col(L->cols, L->n_cols, "load_timestamp") >= 0)
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
	load_strv_free(tnames, tn);
	load_strv_free(ttypes, tn);
	return rc;
}

/* The schema a missing target names, for a load that creates it: the table
 * does not exist, so L->schema is the one `into` gave. */
static void add_create_schema(struct load *L, struct strbuf *b)
{
	if (L->target_exists || !L->o->create || !L->schema)
		return;
	char *q = pg_ident(L->main, L->schema);
	sb_addf(b, "CREATE SCHEMA IF NOT EXISTS %s; ", q);
	free(q);
}

/* CREATE TABLE for a missing target (inside the load's transaction). */
int load_create_target(struct load *L, struct err *err)
{
	struct strbuf b = {0};
	add_create_schema(L, &b);
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
void load_drop_stale_stages(struct load *L)
{
	struct pg_result *r = pg_exec(L->main,
				      "WITH c AS MATERIALIZED (SELECT c.oid, n.nspname, c.relname FROM pg_class c"
				      "  JOIN pg_namespace n ON n.oid = c.relnamespace"
				      "  WHERE c.relkind = 'r' AND c.relname LIKE 'sluice\\_stage\\_%'"
				      "  AND pg_has_role(c.relowner, 'USAGE'))"
				      " SELECT oid, nspname, relname FROM c"
				      " WHERE pg_try_advisory_lock(" STAGE_LOCK_SPACE " | oid::bigint)",
				      0, NULL, NULL);
	if (!r)
		return;
	for (int i = 0; i < pg_rows(r); i++) {
		char *q = load_quote_name(L->main, pg_val(r, i, 1), pg_val(r, i, 2));
		char *sql = xasprintf("DROP TABLE IF EXISTS %s", q);
		pg_script(L->main, sql, NULL);
		free(sql);
		free(q);
		const char *p[1] = {pg_val(r, i, 0)};
		pg_cmd(L->main, "SELECT pg_advisory_unlock(" STAGE_LOCK_SPACE " | $1::bigint)", 1, p, NULL);
	}
	pg_clear(r);
}

/* The staging table: the loaded columns with the target's types, plus the
 * record's ordinal and line. Created and locked in one transaction, so no
 * other load ever sees it unguarded. */
int load_create_stage(struct load *L, long load_id, struct err *err)
{
	char name[96];
	snprintf(name, sizeof name, STAGE_PREFIX "%ld_%d", load_id, (int)getpid());
	L->q_stage = load_quote_name(L->main, L->schema, name);
	struct strbuf b = {0};
	/* the staging table lives beside the target, in its schema */
	sb_adds(&b, "BEGIN; ");
	add_create_schema(L, &b);
	sb_addf(&b, "CREATE UNLOGGED TABLE %s (", L->q_stage);
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

void load_drop_stage(struct load *L)
{
	if (!L->q_stage || pg_broken(L->main))
		return;
	char *sql = xasprintf("DROP TABLE IF EXISTS %s", L->q_stage);
	pg_script(L->main, sql, NULL);
	free(sql);
	pg_script(L->main, "SELECT pg_advisory_unlock_all()", NULL);
}

