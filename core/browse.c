/* The SQL of browsing a database (core/browse.h): schemas, tables with their
 * last writer, keyset pages, profiles and exports, and reading their
 * results. */
#include "core/browse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "connectors/pg.h"

const char BROWSE_BEGIN[] = "BEGIN TRANSACTION READ ONLY";
/* SET LOCAL statement_timeout with the value as a parameter ($1, in ms) */
const char BROWSE_TIMEOUT[] = "SELECT set_config('statement_timeout', $1, true)";
const char BROWSE_COMMIT[] = "COMMIT";
const char BROWSE_ROLLBACK[] = "ROLLBACK";

static const char SQL_SCHEMAS[] =
	"SELECT n.nspname, count(c.oid), to_regclass('" WRITES_TABLE "') IS NOT NULL"
	" FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r','p','v','m','f')"
	" WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
	"   AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"
	"   AND has_schema_privilege(n.oid, 'USAGE')"
	" GROUP BY n.nspname ORDER BY n.nspname";

#define SQL_TABLES_COLS                                                                                        \
	"SELECT c.relname, c.relkind, c.reltuples::bigint, pg_total_relation_size(c.oid),"                    \
	" pg_size_pretty(pg_total_relation_size(c.oid))"
#define SQL_TABLES_WHERE " WHERE n.nspname = $1 AND c.relkind IN ('r','p','v','m','f') ORDER BY c.relname"
static const char SQL_TABLES[] =
	SQL_TABLES_COLS " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace" SQL_TABLES_WHERE;
/* only where sluice.writes exists: the statement would not parse elsewhere */
static const char SQL_TABLES_WRITES[] =
	SQL_TABLES_COLS ", w.pipeline, w.task, w.run_id, w.try, w.rows,"
	" to_char(w.written_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" LEFT JOIN " WRITES_TABLE " w ON w.schema_name = n.nspname AND w.table_name = c.relname" SQL_TABLES_WHERE;

static const char SQL_REL[] =
	"SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
	" coalesce((SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(att, n) WHERE k.att = a.attnum), 0),"
	" c.relkind, c.reltuples::bigint"
	" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	" JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
	" LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary"
	" WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p','v','m','f') ORDER BY a.attnum";

/* The estimates ANALYZE keeps; min and max are the least and greatest of
 * the histogram's bounds and the common values (the histogram leaves those
 * out), compared as the column's type (%1$s; for a type without an order,
 * %2$s and %3$s are NULL, else x.h and x.m). */
static const char SQL_PROFILE_STATS[] =
	"SELECT 'pg_stats (as of the last ANALYZE)', greatest(c.reltuples, 0)::bigint, s.null_frac,"
	" CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * greatest(c.reltuples, 0) ELSE s.n_distinct END,"
	" (SELECT min(v::%1$s)::text FROM unnest(coalesce(%2$s, '{}') || coalesce(%3$s, '{}')) v),"
	" (SELECT max(v::%1$s)::text FROM unnest(coalesce(%2$s, '{}') || coalesce(%3$s, '{}')) v),"
	" (SELECT string_agg(format('%%s (%%s%%%%)', m.v, round((m.f * 100)::numeric, 1)), ', ' ORDER BY m.o)"
	"    FROM unnest(x.m, s.most_common_freqs) WITH ORDINALITY AS m(v, f, o)"
	"    WHERE m.o <= 5)"
	" FROM pg_stats s JOIN pg_class c ON c.oid = to_regclass(format('%%I.%%I', $1::text, $2::text)),"
	" LATERAL (SELECT s.histogram_bounds::text::text[] AS h, s.most_common_vals::text::text[] AS m) x"
	" WHERE s.schemaname = $1 AND s.tablename = $2 AND s.attname = $3 ORDER BY s.inherited DESC LIMIT 1";

/* %1$s the column, %2$s the relation and its sample clause, %3$d the rows;
 * min and max only for types with an order (%4$s: "v" or "NULL") */
static const char SQL_PROFILE_SAMPLE[] =
	"WITH s AS (SELECT %1$s AS v FROM %2$s LIMIT %3$d)"
	" SELECT $1::text, count(*), CASE WHEN count(*) > 0 THEN 1 - count(v)::float8 / count(*) END,"
	" count(DISTINCT v::text), min(%4$s)::text, max(%4$s)::text,"
	" (SELECT string_agg(format('%%s (%%s)', t.x, t.n), ', ' ORDER BY t.n DESC, t.x)"
	"    FROM (SELECT v::text AS x, count(*) AS n FROM s WHERE v IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5) t)"
	" FROM s";

void browse_stmt_free(struct browse_stmt *s)
{
	if (!s)
		return;
	free(s->sql);
	for (int i = 0; i < s->n; i++)
		free(s->params[i]);
	free(s->params);
	memset(s, 0, sizeof *s);
}

static void stmt_init(struct browse_stmt *s, const char *sql)
{
	memset(s, 0, sizeof *s);
	s->sql = xstrdup(sql);
}

/* Appends parameter v (NULL: SQL NULL); returns its $ number. */
static int stmt_param(struct browse_stmt *s, const char *v)
{
	s->params = xrealloc(s->params, (size_t)(s->n + 1) * sizeof *s->params);
	s->params[s->n++] = v ? xstrdup(v) : NULL;
	return s->n;
}

/* ---- schemas and tables ------------------------------------------------------ */

void browse_schemas_stmt(struct browse_stmt *s)
{
	stmt_init(s, SQL_SCHEMAS);
}

int browse_schemas_parse(const struct pg_result *r, struct browse_schema **out, size_t *n, bool *has_writes)
{
	int rows = pg_rows(r);
	*out = xcalloc((size_t)rows + 1, sizeof **out);
	*n = (size_t)rows;
	*has_writes = false;
	for (int i = 0; i < rows; i++) {
		(*out)[i].name = pg_strdup_val(r, i, 0);
		(*out)[i].tables = atol(pg_val(r, i, 1));
		*has_writes = !strcmp(pg_val(r, i, 2), "t");
	}
	return 0;
}

void browse_schemas_free(struct browse_schema *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

void browse_tables_stmt(struct browse_stmt *s, const char *schema, bool has_writes)
{
	stmt_init(s, has_writes ? SQL_TABLES_WRITES : SQL_TABLES);
	stmt_param(s, schema);
}

int browse_tables_parse(const struct pg_result *r, bool has_writes, struct browse_table **out, size_t *n)
{
	int rows = pg_rows(r);
	*out = xcalloc((size_t)rows + 1, sizeof **out);
	*n = (size_t)rows;
	for (int i = 0; i < rows; i++) {
		struct browse_table *t = &(*out)[i];
		t->name = pg_strdup_val(r, i, 0);
		t->kind = pg_val(r, i, 1)[0];
		t->est_rows = atoll(pg_val(r, i, 2));
		t->bytes = atoll(pg_val(r, i, 3));
		t->size = pg_strdup_val(r, i, 4);
		t->has_writer = has_writes && pg_cols(r) > 10 && !pg_isnull(r, i, 10);
		if (t->has_writer)
			writes_parse_row(r, i, 5, &t->writer);
	}
	return 0;
}

void browse_tables_free(struct browse_table *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].size);
	}
	free(v);
}

const char *browse_kind_name(char kind)
{
	switch (kind) {
	case 'r': return "table";
	case 'p': return "partitioned";
	case 'v': return "view";
	case 'm': return "matview";
	case 'f': return "foreign";
	default: return "?";
	}
}

/* ---- a table's shape ----------------------------------------------------------- */

void browse_rel_stmt(struct browse_stmt *s, const char *schema, const char *table)
{
	stmt_init(s, SQL_REL);
	stmt_param(s, schema);
	stmt_param(s, table);
}

int browse_rel_parse(const struct pg_result *r, struct pg_conn *c, const char *schema, const char *table,
		     struct browse_rel *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	int rows = pg_rows(r);
	if (rows == 0)
		return err_setc(err, ERR_NOTFOUND, "no table %s.%s", schema, table);
	out->schema = xstrdup(schema);
	out->table = xstrdup(table);
	char *qs = pg_ident(c, schema), *qt = pg_ident(c, table);
	out->q_rel = xasprintf("%s.%s", qs, qt);
	free(qs);
	free(qt);
	out->n_cols = (size_t)rows;
	out->cols = xcalloc((size_t)rows, sizeof *out->cols);
	out->q_cols = xcalloc((size_t)rows, sizeof *out->q_cols);
	out->types = xcalloc((size_t)rows, sizeof *out->types);
	out->key = xcalloc((size_t)rows, sizeof *out->key);
	for (int i = 0; i < rows; i++) {
		out->cols[i] = pg_strdup_val(r, i, 0);
		out->q_cols[i] = pg_ident(c, out->cols[i]);
		out->types[i] = pg_strdup_val(r, i, 1);
		int pos = atoi(pg_val(r, i, 2));
		if (pos > 0 && pos <= rows) {
			out->key[pos - 1] = (size_t)i;
			if ((size_t)pos > out->n_key)
				out->n_key = (size_t)pos;
		}
	}
	char kind = pg_val(r, 0, 3)[0];
	out->est_rows = atoll(pg_val(r, 0, 4));
	if (!out->n_key) {
		/* ctid names a row in a plain table or a materialized view only
		 * (a partitioned one repeats them across its partitions) */
		out->by_ctid = kind == 'r' || kind == 'm';
		out->keyless = !out->by_ctid;
	}
	return 0;
}

void browse_rel_free(struct browse_rel *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_cols; i++) {
		free(r->cols[i]);
		free(r->q_cols[i]);
		free(r->types[i]);
	}
	free(r->cols);
	free(r->q_cols);
	free(r->types);
	free(r->key);
	free(r->schema);
	free(r->table);
	free(r->q_rel);
	memset(r, 0, sizeof *r);
}

void browse_split_name(const char *name, char *schema, size_t ss, char *table, size_t ts)
{
	const char *dot = strchr(name, '.');
	if (dot) {
		snprintf(schema, ss, "%.*s", (int)(dot - name), name);
		snprintf(table, ts, "%s", dot + 1);
	} else {
		snprintf(schema, ss, "public");
		snprintf(table, ts, "%s", name);
	}
}

/* ---- pages ------------------------------------------------------------------- */

void browse_mark_free(struct browse_mark *m)
{
	if (!m)
		return;
	free(m->sort);
	for (size_t i = 0; i < m->n; i++)
		free(m->key[i]);
	free(m->key);
	memset(m, 0, sizeof *m);
}

void browse_mark_take(const struct browse_rel *rel, const struct browse_view *bv, const struct pg_result *r, int row,
		      struct browse_mark *m)
{
	browse_mark_free(m);
	m->set = true;
	if (bv->sort >= 0)
		m->sort = pg_strdup_val(r, row, bv->sort);
	m->n = rel->by_ctid ? 1 : rel->n_key;
	m->key = xcalloc(m->n + 1, sizeof *m->key);
	if (rel->by_ctid)
		m->key[0] = pg_strdup_val(r, row, (int)rel->n_cols);
	else
		for (size_t i = 0; i < rel->n_key; i++)
			m->key[i] = pg_strdup_val(r, row, (int)rel->key[i]);
}

/* The key as a row (or one column, or ctid). */
static void add_key(struct strbuf *b, const struct browse_rel *rel)
{
	if (rel->by_ctid) {
		sb_adds(b, "ctid");
		return;
	}
	if (rel->n_key > 1)
		sb_addc(b, '(');
	for (size_t i = 0; i < rel->n_key; i++)
		sb_addf(b, "%s%s", i ? ", " : "", rel->q_cols[rel->key[i]]);
	if (rel->n_key > 1)
		sb_addc(b, ')');
}

/* The mark's key values as parameters, in the same shape as add_key. */
static void add_key_params(struct strbuf *b, struct browse_stmt *s, const struct browse_rel *rel,
			   const struct browse_mark *m)
{
	if (rel->by_ctid) {
		sb_addf(b, "$%d::tid", stmt_param(s, m->n ? m->key[0] : NULL));
		return;
	}
	if (m->n > 1)
		sb_addc(b, '(');
	for (size_t i = 0; i < m->n; i++)
		sb_addf(b, "%s$%d", i ? ", " : "", stmt_param(s, m->key[i]));
	if (m->n > 1)
		sb_addc(b, ')');
}

/* Rows after the mark in the order asc (ASC NULLS LAST) or not (DESC NULLS
 * FIRST: its exact reverse, PostgreSQL's defaults). */
static void add_after(struct strbuf *b, struct browse_stmt *s, const struct browse_rel *rel,
		      const struct browse_view *bv, const struct browse_mark *m, bool asc)
{
	const char *op = asc ? ">" : "<";
	if (bv->sort < 0) {
		add_key(b, rel);
		sb_addf(b, " %s ", op);
		add_key_params(b, s, rel, m);
		return;
	}
	const char *col = rel->q_cols[bv->sort];
	if (m->sort) {
		int p = stmt_param(s, m->sort);
		sb_addf(b, "(%s %s $%d OR (%s = $%d AND ", col, op, p, col, p);
		add_key(b, rel);
		sb_addf(b, " %s ", op);
		add_key_params(b, s, rel, m);
		/* NULLs come after every value going up, before them going down */
		if (asc)
			sb_addf(b, ") OR %s IS NULL)", col);
		else
			sb_adds(b, "))");
	} else {
		sb_addf(b, "(%s IS %sNULL %s ", col, asc ? "" : "NOT ", asc ? "AND" : "OR");
		add_key(b, rel);
		sb_addf(b, " %s ", op);
		add_key_params(b, s, rel, m);
		sb_addc(b, ')');
	}
}

static void add_order(struct strbuf *b, const struct browse_rel *rel, const struct browse_view *bv, bool asc)
{
	const char *dir = asc ? "ASC" : "DESC";
	sb_adds(b, " ORDER BY ");
	if (bv->sort >= 0)
		sb_addf(b, "%s %s NULLS %s, ", rel->q_cols[bv->sort], dir, asc ? "LAST" : "FIRST");
	if (rel->by_ctid) {
		sb_addf(b, "ctid %s", dir);
	} else if (rel->n_key) {
		for (size_t i = 0; i < rel->n_key; i++)
			sb_addf(b, "%s%s %s", i ? ", " : "", rel->q_cols[rel->key[i]], dir);
	} else if (bv->sort < 0) {
		b->len -= strlen(" ORDER BY ");
		b->s[b->len] = '\0';
	} else {
		b->len -= 2; /* the ", " */
		b->s[b->len] = '\0';
	}
}

static void add_select(struct strbuf *b, const struct browse_rel *rel, const struct browse_view *bv)
{
	sb_adds(b, "SELECT ");
	for (size_t i = 0; i < rel->n_cols; i++)
		sb_addf(b, "%s%s", i ? ", " : "", rel->q_cols[i]);
	if (rel->by_ctid)
		sb_adds(b, ", ctid");
	sb_addf(b, " FROM %s", rel->q_rel);
	if (bv->where && *bv->where)
		/* the user's own expression, on its own lines so that a comment
		 * in it ends where it does */
		sb_addf(b, " WHERE (\n%s\n)", bv->where);
}

/* Blocks a window of ctid_rows reads. */
#define CTID_WINDOW 256

/* By ctid alone, ORDER BY ctid would read and sort the whole table for each
 * screen; instead the rows come from windows of CTID_WINDOW blocks (a TID
 * range scan each, sorted), from the block of the mark on (or down), as many
 * windows as it takes to fill the screen. fwd: ctid ascending. */
static void ctid_rows(struct strbuf *b, struct browse_stmt *s, const struct browse_rel *rel,
		      const struct browse_view *bv, bool fwd, const struct browse_mark *m)
{
	/* the table's size in blocks: where a forward read ends, or where a
	 * backward one starts without a mark (a parameter only where it is used) */
	int rel_p = fwd || !m ? stmt_param(s, rel->q_rel) : 0;
	int mark_p = m ? stmt_param(s, m->key[0]) : 0;
	char nblocks[96], start[64];
	snprintf(nblocks, sizeof nblocks, "(pg_relation_size($%d::regclass) / current_setting('block_size')::int)",
		 rel_p);
	if (m)
		snprintf(start, sizeof start, "($%d::tid::text::point)[0]::bigint", mark_p);
	sb_addf(b, "SELECT x.* FROM generate_series(%s, %s, %d) AS w(b), LATERAL (", m ? start : fwd ? "0" : nblocks,
		fwd ? nblocks : "0", fwd ? CTID_WINDOW : -CTID_WINDOW);
	add_select(b, rel, bv);
	sb_adds(b, bv->where && *bv->where ? " AND " : " WHERE ");
	if (fwd)
		sb_addf(b, "ctid >= format('(%%s,0)', w.b)::tid AND ctid < format('(%%s,0)', w.b + %d)::tid",
			CTID_WINDOW);
	else
		sb_addf(b, "ctid >= format('(%%s,0)', greatest(w.b - %d, 0))::tid AND ctid < format('(%%s,0)', w.b + 1)::tid",
			CTID_WINDOW - 1);
	if (m)
		sb_addf(b, " AND ctid %s $%d::tid", fwd ? ">" : "<", mark_p);
	sb_addf(b, " ORDER BY ctid %s) x LIMIT %d", fwd ? "ASC" : "DESC", bv->limit > 0 ? bv->limit : 50);
}

void browse_rows_stmt(const struct browse_rel *rel, const struct browse_view *bv, enum browse_page pg,
		      const struct browse_mark *m, struct browse_stmt *s)
{
	memset(s, 0, sizeof *s);
	bool asc = !bv->desc;
	bool back = pg == BP_PREV || pg == BP_LAST;
	if (rel->keyless)
		back = false, pg = BP_FIRST;
	struct strbuf b = {0};
	if (rel->by_ctid && bv->sort < 0) {
		bool fwd = back ? !asc : asc;
		ctid_rows(&b, s, rel, bv, fwd, (pg == BP_NEXT || pg == BP_PREV) && m && m->set ? m : NULL);
		s->sql = sb_steal(&b);
		s->reversed = back;
		return;
	}
	add_select(&b, rel, bv);
	if ((pg == BP_NEXT || pg == BP_PREV) && m && m->set) {
		sb_adds(&b, bv->where && *bv->where ? " AND " : " WHERE ");
		add_after(&b, s, rel, bv, m, back ? !asc : asc);
	}
	add_order(&b, rel, bv, back ? !asc : asc);
	sb_addf(&b, " LIMIT %d", bv->limit > 0 ? bv->limit : 50);
	s->sql = sb_steal(&b);
	s->reversed = back;
}

void browse_export_stmt(const struct browse_rel *rel, const struct browse_view *bv, struct browse_stmt *s)
{
	memset(s, 0, sizeof *s);
	struct strbuf b = {0};
	add_select(&b, rel, bv);
	add_order(&b, rel, bv, !bv->desc);
	s->sql = sb_steal(&b);
}

/* ---- a column's profile ---------------------------------------------------------- */

static bool unordered(const char *type);

void browse_profile_stats_stmt(struct browse_stmt *s, const struct browse_rel *rel, size_t col)
{
	bool no = unordered(rel->types[col]);
	memset(s, 0, sizeof *s);
	/* the type as the catalog spells it (format_type): no user text */
	s->sql = xasprintf(SQL_PROFILE_STATS, no ? "text" : rel->types[col], no ? "NULL::text[]" : "x.h",
			   no ? "NULL::text[]" : "x.m");
	stmt_param(s, rel->schema);
	stmt_param(s, rel->table);
	stmt_param(s, rel->cols[col]);
}

/* Types without an order for min and max. */
static bool unordered(const char *type)
{
	static const char *const no[] = {"json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (!strncmp(type, no[i], strlen(no[i])))
			return true;
	return false;
}

void browse_profile_sample_stmt(struct browse_stmt *s, const struct browse_rel *rel, size_t col)
{
	char from[600], source[160];
	long long est = rel->est_rows;
	if (est > 2LL * BROWSE_SAMPLE_ROWS) {
		double pct = 100.0 * 1.5 * BROWSE_SAMPLE_ROWS / (double)est;
		snprintf(from, sizeof from, "%s TABLESAMPLE SYSTEM (%.4f)", rel->q_rel, pct);
		snprintf(source, sizeof source, "a sample (TABLESAMPLE SYSTEM %.2g%%, at most %d rows)", pct,
			 BROWSE_SAMPLE_ROWS);
	} else {
		snprintf(from, sizeof from, "%s", rel->q_rel);
		snprintf(source, sizeof source, "%s %d rows (not analysed)", est < 0 ? "the first" : "at most",
			 BROWSE_SAMPLE_ROWS);
	}
	memset(s, 0, sizeof *s);
	s->sql = xasprintf(SQL_PROFILE_SAMPLE, rel->q_cols[col], from, BROWSE_SAMPLE_ROWS,
			   unordered(rel->types[col]) ? "NULL" : "v");
	stmt_param(s, source);
}

int browse_profile_parse(const struct pg_result *r, struct browse_profile *out)
{
	memset(out, 0, sizeof *out);
	out->null_share = out->distinct = -1;
	if (pg_rows(r) == 0)
		return ERR_NOTFOUND;
	out->source = pg_strdup_val(r, 0, 0);
	out->rows = atoll(pg_val(r, 0, 1));
	if (!pg_isnull(r, 0, 2))
		out->null_share = atof(pg_val(r, 0, 2));
	if (!pg_isnull(r, 0, 3))
		out->distinct = atof(pg_val(r, 0, 3));
	out->min = pg_strdup_val(r, 0, 4);
	out->max = pg_strdup_val(r, 0, 5);
	out->top = pg_strdup_val(r, 0, 6);
	return 0;
}

void browse_profile_free(struct browse_profile *p)
{
	if (!p)
		return;
	free(p->source);
	free(p->min);
	free(p->max);
	free(p->top);
	memset(p, 0, sizeof *p);
}

/* ---- synchronous forms ----------------------------------------------------------- */

static int begin(struct pg_conn *c, int timeout_s, struct err *err)
{
	if (pg_cmd(c, BROWSE_BEGIN, 0, NULL, err) < 0)
		return err_code(err);
	char ms[32];
	snprintf(ms, sizeof ms, "%d", timeout_s > 0 ? timeout_s * 1000 : 0);
	const char *p[1] = {ms};
	if (pg_cmd(c, BROWSE_TIMEOUT, 1, p, err) < 0) {
		pg_script(c, BROWSE_ROLLBACK, NULL);
		return err_code(err);
	}
	return 0;
}

struct pg_result *browse_exec(struct pg_conn *c, const struct browse_stmt *s, int timeout_s, struct err *err)
{
	if (begin(c, timeout_s, err) < 0)
		return NULL;
	struct pg_result *r = pg_exec(c, s->sql, s->n, (const char *const *)s->params, err);
	if (!r) {
		pg_script(c, BROWSE_ROLLBACK, NULL);
		return NULL;
	}
	if (pg_cmd(c, BROWSE_COMMIT, 0, NULL, err) < 0) {
		pg_clear(r);
		return NULL;
	}
	return r;
}

int browse_rel_load(struct pg_conn *c, const char *schema, const char *table, struct browse_rel *out,
		    struct err *err)
{
	memset(out, 0, sizeof *out);
	struct browse_stmt s;
	browse_rel_stmt(&s, schema, table);
	struct pg_result *r = browse_exec(c, &s, BROWSE_TIMEOUT_S, err);
	browse_stmt_free(&s);
	if (!r)
		return err_code(err);
	int rc = browse_rel_parse(r, c, schema, table, out, err);
	pg_clear(r);
	return rc;
}

void browse_csv_field(FILE *f, const char *s, bool null)
{
	if (null)
		return;
	if (!*s || strpbrk(s, ",\"\r\n")) {
		putc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				putc('"', f);
			putc(*s, f);
		}
		putc('"', f);
		return;
	}
	fputs(s, f);
}

struct export {
	FILE *out;
	size_t n_cols;
	long long rows;
};

static int export_row(const struct pg_result *r, void *arg)
{
	struct export *x = arg;
	for (size_t j = 0; j < x->n_cols; j++) {
		if (j)
			putc(',', x->out);
		browse_csv_field(x->out, pg_val(r, 0, (int)j), pg_isnull(r, 0, (int)j));
	}
	fputs("\r\n", x->out);
	x->rows++;
	return ferror(x->out) ? 1 : 0;
}

int browse_export_csv(struct pg_conn *c, const struct browse_rel *rel, const struct browse_view *bv, FILE *out,
		      long long *rows, struct err *err)
{
	*rows = 0;
	struct browse_stmt s;
	browse_export_stmt(rel, bv, &s);
	for (size_t j = 0; j < rel->n_cols; j++) {
		if (j)
			putc(',', out);
		browse_csv_field(out, rel->cols[j], false);
	}
	fputs("\r\n", out);
	/* an export reads the whole view: no statement timeout */
	if (begin(c, 0, err) < 0) {
		browse_stmt_free(&s);
		return err_code(err);
	}
	struct export x = {out, rel->n_cols, 0};
	struct pg_result *r = pg_stream(c, s.sql, export_row, &x, NULL, err);
	browse_stmt_free(&s);
	*rows = x.rows;
	if (!r) {
		pg_script(c, BROWSE_ROLLBACK, NULL);
		return err_code(err);
	}
	pg_clear(r);
	if (ferror(out)) {
		pg_script(c, BROWSE_ROLLBACK, NULL);
		return err_set(err, "writing the CSV: %s", strerror(errno));
	}
	return pg_cmd(c, BROWSE_COMMIT, 0, NULL, err);
}

int browse_export_file(struct pg_conn *c, const struct browse_rel *rel, const struct browse_view *bv,
		       const char *path, long long *rows, struct err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		err_set(err, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return ERR_FAIL;
	}
	int rc = browse_export_csv(c, rel, bv, f, rows, err);
	if (fclose(f) != 0 && rc == 0)
		rc = err_set(err, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_set(err, "%s: %s", path, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
