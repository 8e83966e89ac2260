/* Every check's SQL: the failing rows of each check kind, the count of the
 * rows it looks at, and the statements of a reconciliation. See checksql.h. */
#include "core/models/checksql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/models/check.h"
#include "core/projdef.h"

const char CHECKSQL_BEGIN[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const char CHECKSQL_TIMEOUT[] = "SELECT set_config('statement_timeout', $1, true)";
const char CHECKSQL_SESSION[] =
	"SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1";
const char CHECKSQL_COLUMNS[] =
	"SELECT attname::text FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
	" ORDER BY attnum";

/* What a check looks at. */
struct subject {
	char *relation;          /* quoted; NULL for a tests/ file without a ref */
	const char *conn;
	const char *database;
	const struct names *key; /* the model's unique_key, or NULL */
};

static void q_ident(struct strbuf *b, const char *alias, const char *col)
{
	if (alias)
		sb_addf(b, "%s.", alias);
	mt_quote_ident(b, col);
}

/* alias.a, alias.b */
static void q_list(struct strbuf *b, const char *alias, const char *const *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_adds(b, ", ");
		q_ident(b, alias, cols[i]);
	}
}

/* A jsonb object of the columns, named as they are: no name is written as
 * a literal. */
static void q_json_of(struct strbuf *b, const char *alias, const char *const *cols, size_t n)
{
	sb_adds(b, "(SELECT to_jsonb(x) FROM (SELECT ");
	q_list(b, alias, cols, n);
	sb_adds(b, ") AS x)");
}

/* " WHERE (where) AND cond" with either part absent. */
static void q_where(struct strbuf *b, const char *where, const char *cond)
{
	if (!where && !cond)
		return;
	sb_adds(b, " WHERE ");
	if (where)
		sb_addf(b, "(%s)", where);
	if (where && cond)
		sb_adds(b, " AND ");
	if (cond)
		sb_addf(b, "(%s)", cond);
}

void checksql_relation(struct strbuf *b, const char *table)
{
	const char *dot = strchr(table, '.');
	if (dot) {
		char *schema = xstrndup(table, (size_t)(dot - table));
		mt_quote_ident(b, schema);
		free(schema);
		sb_addc(b, '.');
		mt_quote_ident(b, dot + 1);
	} else {
		mt_quote_ident(b, table);
	}
}

/* An array literal of the values, for `= ANY ($n)`: the server reads it in
 * the column's own type. */
static char *array_literal(const struct names *v)
{
	struct strbuf b = {0};
	sb_addc(&b, '{');
	for (size_t i = 0; i < v->n; i++) {
		sb_adds(&b, i ? ",\"" : "\"");
		for (const char *p = v->v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_addc(&b, '\\');
			sb_addc(&b, *p);
		}
		sb_addc(&b, '"');
	}
	sb_addc(&b, '}');
	return sb_steal(&b);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int subject_of(const struct model_set *s, const struct project *p, const struct target *t,
		      const struct model_check *c, struct subject *out, struct err *err)
{
	memset(out, 0, sizeof *out);
	out->conn = t ? t->connection : "default";
	out->database = t ? t->database : NULL;
	if (c->model >= 0) {
		struct model_place pl;
		if (model_place(s, p, t, c->model, &pl, err) < 0)
			return -1;
		out->relation = pl.relation;
		pl.relation = NULL;
		model_place_free(&pl);
		if (s->v[c->model].cfg.unique_key.n)
			out->key = &s->v[c->model].cfg.unique_key;
	} else if (c->table >= 0) {
		const struct source_table *st = &s->tables[c->table];
		struct strbuf b = {0};
		mt_quote_ident(&b, st->schema);
		sb_addc(&b, '.');
		mt_quote_ident(&b, st->identifier);
		out->relation = sb_steal(&b);
		if (st->connection || st->database) {
			if (st->connection)
				out->conn = st->connection;
			out->database = st->database;
		}
	}
	return 0;
}

/* The row's key: the model's unique_key, else what the check is about
 * when that tells rows apart, else none. */
static void key_expr(struct strbuf *b, const struct subject *sj, const struct model_check *c)
{
	if (sj->key) {
		q_json_of(b, "t", (const char *const *)sj->key->v, sj->key->n);
	} else if (c->column && c->kind != CHECK_NOT_NULL) {
		const char *col = c->column;
		q_json_of(b, "t", &col, 1);
	} else if (c->kind == CHECK_UNIQUE_COMBINATION) {
		q_json_of(b, "t", (const char *const *)c->columns.v, c->columns.n);
	} else {
		sb_adds(b, "NULL::jsonb");
	}
}

/* SELECT key, row FROM relation t WHERE where AND cond */
static void rows_where(struct strbuf *b, const struct subject *sj, const struct model_check *c, const char *cond)
{
	sb_adds(b, "SELECT ");
	key_expr(b, sj, c);
	sb_addf(b, " AS k, to_jsonb(t) AS r FROM %s AS t", sj->relation);
	q_where(b, c->where, cond);
}

static void total_where(struct strbuf *b, const struct subject *sj, const struct model_check *c, const char *cond)
{
	sb_addf(b, "SELECT count(*) FROM %s AS t", sj->relation);
	q_where(b, c->where, cond);
}

/* The rows of a column or model check; params gets its values. */
static int rows_sql(const struct model_set *s, const struct project *p, const struct target *t, int ci,
		    const struct subject *sj, struct strbuf *sql, struct strbuf *total, json_t *params, struct err *err)
{
	const struct model_check *c = &s->checks[ci];
	struct strbuf cond = {0}, col = {0};
	int rc = 0;
	if (c->column)
		q_ident(&col, "t", c->column);
	switch (c->kind) {
	case CHECK_NOT_NULL:
		sb_addf(&cond, "%s IS NULL", col.s);
		rows_where(sql, sj, c, cond.s);
		total_where(total, sj, c, NULL);
		break;
	case CHECK_UNIQUE:
		/* every row of a repeated value fails, not one per value */
		sb_addf(&cond, "%s IN (SELECT ", col.s);
		q_ident(&cond, "u", c->column);
		sb_addf(&cond, " FROM %s AS u", sj->relation);
		q_where(&cond, c->where, NULL);
		sb_adds(&cond, " GROUP BY 1 HAVING count(*) > 1)");
		rows_where(sql, sj, c, cond.s);
		total_where(total, sj, c, NULL);
		break;
	case CHECK_ACCEPTED_VALUES: {
		char *arr = array_literal(&c->values);
		json_array_append_new(params, json_string(arr));
		free(arr);
		sb_addf(&cond, "NOT (%s = ANY ($%zu))", col.s, json_array_size(params));
		rows_where(sql, sj, c, cond.s);
		total_where(total, sj, c, NULL);
		break;
	}
	case CHECK_RELATIONSHIPS: {
		struct strbuf parent = {0};
		if (c->to_model >= 0) {
			struct model_place pl;
			if (model_place(s, p, t, c->to_model, &pl, err) < 0) {
				rc = -1;
				break;
			}
			sb_adds(&parent, pl.relation);
			model_place_free(&pl);
		} else if (c->to_table >= 0) {
			mt_quote_ident(&parent, s->tables[c->to_table].schema);
			sb_addc(&parent, '.');
			mt_quote_ident(&parent, s->tables[c->to_table].identifier);
		}
		sb_addf(&cond, "%s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %s AS p WHERE ", col.s, parent.s);
		q_ident(&cond, "p", c->field);
		sb_addf(&cond, " = %s)", col.s);
		rows_where(sql, sj, c, cond.s);
		sb_reset(&parent);
		sb_addf(&parent, "%s IS NOT NULL", col.s);
		total_where(total, sj, c, parent.s);
		sb_free(&parent);
		break;
	}
	case CHECK_ROW_COUNT:
		sb_adds(sql, "SELECT NULL::jsonb AS k, to_jsonb(x) AS r FROM (SELECT count(*) AS row_count");
		sb_addf(sql, " FROM %s AS t", sj->relation);
		q_where(sql, c->where, NULL);
		sb_adds(sql, ") AS x WHERE ");
		if (c->have_min) {
			json_array_append_new(params, json_sprintf("%lld", c->min));
			sb_addf(sql, "x.row_count < $%zu::bigint", json_array_size(params));
		}
		if (c->have_max) {
			json_array_append_new(params, json_sprintf("%lld", c->max));
			sb_addf(sql, "%sx.row_count > $%zu::bigint", c->have_min ? " OR " : "", json_array_size(params));
		}
		break;
	case CHECK_EXPRESSION:
		sb_addf(&cond, "(%s) IS NOT TRUE", c->expression);
		rows_where(sql, sj, c, cond.s);
		total_where(total, sj, c, NULL);
		break;
	case CHECK_UNIQUE_COMBINATION:
		sb_adds(&cond, "(");
		q_list(&cond, "t", (const char *const *)c->columns.v, c->columns.n);
		sb_adds(&cond, ") IN (SELECT ");
		q_list(&cond, "u", (const char *const *)c->columns.v, c->columns.n);
		sb_addf(&cond, " FROM %s AS u", sj->relation);
		q_where(&cond, c->where, NULL);
		sb_adds(&cond, " GROUP BY ");
		for (size_t i = 0; i < c->columns.n; i++)
			sb_addf(&cond, "%s%zu", i ? ", " : "", i + 1);
		sb_adds(&cond, " HAVING count(*) > 1)");
		rows_where(sql, sj, c, cond.s);
		total_where(total, sj, c, NULL);
		break;
	case CHECK_FRESHNESS:
	case CHECK_SOURCE_FRESHNESS:
		/* one row: the newest value and its age (NULL on an empty relation) */
		sb_adds(sql, "SELECT NULL::jsonb AS k, to_jsonb(x) AS r FROM (SELECT max(");
		q_ident(sql, "t", c->at_column);
		sb_adds(sql, ") AS newest, extract(epoch FROM now() - max(");
		q_ident(sql, "t", c->at_column);
		sb_adds(sql, ")::timestamptz)::float8 AS age_seconds, count(*) AS row_count");
		sb_addf(sql, " FROM %s AS t", sj->relation);
		q_where(sql, c->where, NULL);
		sb_adds(sql, ") AS x");
		break;
	case CHECK_CUSTOM: {
		struct strbuf user = {0};
		if (models_render_check(s, p, t, ci, &user, err) < 0) {
			sb_free(&user);
			rc = -1;
			break;
		}
		/* a trailing ';' would end the subquery */
		while (user.len && strchr(" \t\r\n;", user.s[user.len - 1]))
			user.s[--user.len] = '\0';
		sb_addf(sql, "SELECT NULL::jsonb AS k, to_jsonb(u) AS r FROM (%s\n) AS u", user.s ? user.s : "SELECT 1");
		if (c->where)
			sb_addf(sql, " WHERE (%s)", c->where);
		sb_free(&user);
		break;
	}
	case CHECK_RECONCILE:
		break;
	}
	sb_free(&cond);
	sb_free(&col);
	return rc;
}

static const char *check_judge_name(enum check_kind k)
{
	switch (k) {
	case CHECK_FRESHNESS:
	case CHECK_SOURCE_FRESHNESS: return "freshness";
	case CHECK_RECONCILE: return "reconcile";
	default: return "rows";
	}
}

int check_spec_build(const struct model_set *s, const struct project *p, const struct target *t, int ci,
		     json_t *spec, struct err *err)
{
	const struct model_check *c = &s->checks[ci];
	if (!t && p)
		t = project_target(p, NULL);
	struct subject sj;
	if (subject_of(s, p, t, c, &sj, err) < 0)
		return -1;
	if (!sj.relation && c->kind != CHECK_CUSTOM) {
		free(sj.relation);
		return err_set(err, "check '%s' names no model or source table", c->name);
	}
	json_object_set_new(spec, "check", json_string(c->name));
	json_object_set_new(spec, "type", json_string(check_kind_name(c->kind)));
	json_object_set_new(spec, "model", str_or_null(c->model >= 0 ? s->v[c->model].name : NULL));
	json_object_set_new(spec, "source", c->table >= 0 ? json_sprintf("%s.%s", s->tables[c->table].source,
									  s->tables[c->table].name)
							  : json_null());
	json_object_set_new(spec, "column", str_or_null(c->column));
	if (c->kind == CHECK_UNIQUE_COMBINATION) {
		struct strbuf cols = {0};
		for (size_t i = 0; i < c->columns.n; i++)
			sb_addf(&cols, "%s%s", i ? "," : "", c->columns.v[i]);
		json_object_set_new(spec, "column", json_string(cols.s ? cols.s : ""));
		sb_free(&cols);
	}
	json_object_set_new(spec, "relation", str_or_null(sj.relation));
	json_object_set_new(spec, "target", str_or_null(t ? t->name : NULL));
	json_object_set_new(spec, "conn", json_string(sj.conn ? sj.conn : "default"));
	json_object_set_new(spec, "database", str_or_null(sj.database));
	if (c->model >= 0) {
		struct model_place pl = {0};
		struct err e = {0};
		if (model_place(s, p, t, c->model, &pl, &e) == 0)
			models_reads_add(spec, sj.conn ? sj.conn : "default", sj.database, pl.schema, s->v[c->model].name);
		model_place_free(&pl);
	} else if (c->table >= 0) {
		models_reads_add(spec, sj.conn ? sj.conn : "default", sj.database, s->tables[c->table].schema,
				 s->tables[c->table].identifier);
	}
	json_object_set_new(spec, "severity", json_string(c->severity == SEV_WARN ? "warn" : "error"));
	char thr[64];
	check_threshold_text(&c->error_if, thr, sizeof thr);
	json_object_set_new(spec, "error_if", json_string(thr));
	check_threshold_text(&c->warn_if, thr, sizeof thr);
	json_object_set_new(spec, "warn_if", json_string(thr));
	json_object_set_new(spec, "limit", json_integer(c->limit));
	json_object_set_new(spec, "judge", json_string(check_judge_name(c->kind)));
	if (c->kind == CHECK_FRESHNESS || c->kind == CHECK_SOURCE_FRESHNESS) {
		json_object_set_new(spec, "warn_after", json_real(c->warn_after));
		json_object_set_new(spec, "error_after", json_real(c->error_after));
	}
	if (c->where)
		json_object_set_new(spec, "where", json_string(c->where));
	int rc = 0;
	if (c->kind == CHECK_RECONCILE) {
		const struct check_reconcile *r = c->rc;
		json_t *o = json_object();
		struct strbuf rel = {0};
		checksql_relation(&rel, r->table);
		json_object_set_new(o, "connection", json_string(r->connection));
		json_object_set_new(o, "database", str_or_null(r->database));
		json_object_set_new(o, "table", json_string(r->table));
		json_object_set_new(o, "relation", json_string(rel.s));
		json_object_set_new(o, "key", names_json(&r->key));
		json_object_set_new(o, "columns", names_json(&r->columns));
		json_object_set_new(o, "ranges", json_integer(r->ranges));
		json_object_set_new(o, "leaf", json_integer(r->leaf));
		json_object_set_new(spec, "reconcile", o);
		json_object_set_new(spec, "column", json_null());
		sb_free(&rel);
	} else {
		struct strbuf sql = {0}, total = {0};
		json_t *params = json_array();
		rc = rows_sql(s, p, t, ci, &sj, &sql, &total, params, err);
		if (rc == 0) {
			json_object_set_new(spec, "sql", json_string(sql.s));
			json_object_set_new(spec, "params", params);
			if (total.len)
				json_object_set_new(spec, "total_sql", json_string(total.s));
		} else {
			json_decref(params);
		}
		sb_free(&sql);
		sb_free(&total);
	}
	free(sj.relation);
	return rc;
}

char *checksql_count(const char *sql)
{
	return xasprintf("SELECT count(*) FROM (%s\n) AS f", sql);
}

char *checksql_rows(const char *sql, int limit)
{
	return xasprintf("SELECT f.k::text, f.r::text FROM (%s\n) AS f ORDER BY f.k, f.r LIMIT %d", sql,
			 limit > 0 ? limit : 0);
}

/* ---- reconciliation -------------------------------------------------------------- */

/* (t.a, t.b) or t.a */
static void rc_key(struct strbuf *b, const struct rc_side *q)
{
	if (q->n_key > 1)
		sb_addc(b, '(');
	q_list(b, "t", q->key, q->n_key);
	if (q->n_key > 1)
		sb_addc(b, ')');
}

/* ($i, $i+1) or $i */
static void rc_params(struct strbuf *b, const struct rc_side *q, size_t first)
{
	if (q->n_key > 1)
		sb_addc(b, '(');
	for (size_t i = 0; i < q->n_key; i++)
		sb_addf(b, "%s$%zu", i ? ", " : "", first + i);
	if (q->n_key > 1)
		sb_addc(b, ')');
}

/* FROM relation t WHERE key not null AND in range AND where; returns the
 * next parameter number. */
static size_t rc_from(struct strbuf *b, const struct rc_side *q, bool lo, bool hi)
{
	size_t next = 1;
	sb_addf(b, " FROM %s AS t WHERE ", q->relation);
	for (size_t i = 0; i < q->n_key; i++) {
		sb_adds(b, i ? " AND " : "");
		q_ident(b, "t", q->key[i]);
		sb_adds(b, " IS NOT NULL");
	}
	if (lo) {
		sb_adds(b, " AND ");
		rc_key(b, q);
		sb_adds(b, " >= ");
		rc_params(b, q, next);
		next += q->n_key;
	}
	if (hi) {
		sb_adds(b, " AND ");
		rc_key(b, q);
		sb_adds(b, " < ");
		rc_params(b, q, next);
		next += q->n_key;
	}
	if (q->where)
		sb_addf(b, " AND (%s)", q->where);
	return next;
}

/* md5 of the key and the compared columns as one row's text */
static void rc_hash(struct strbuf *b, const struct rc_side *q)
{
	sb_adds(b, "md5(ROW(");
	q_list(b, "t", q->key, q->n_key);
	if (q->n_cols)
		sb_adds(b, ", ");
	q_list(b, "t", q->cols, q->n_cols);
	sb_adds(b, ")::text)");
}

void checksql_rc_count(struct strbuf *b, const struct rc_side *q, bool lo, bool hi)
{
	sb_adds(b, "SELECT count(*)");
	rc_from(b, q, lo, hi);
}

void checksql_rc_bounds(struct strbuf *b, const struct rc_side *q, bool lo, bool hi)
{
	sb_adds(b, "SELECT ");
	for (size_t i = 0; i < q->n_key; i++) {
		sb_adds(b, i ? ", " : "");
		q_ident(b, "x", q->key[i]);
		sb_adds(b, "::text");
	}
	sb_adds(b, " FROM (SELECT ");
	q_list(b, "t", q->key, q->n_key);
	sb_adds(b, ", row_number() OVER (ORDER BY ");
	q_list(b, "t", q->key, q->n_key);
	sb_adds(b, ") AS sluice_rn");
	size_t step = rc_from(b, q, lo, hi);
	sb_addf(b, ") AS x WHERE x.sluice_rn > 1 AND (x.sluice_rn - 1) %% $%zu::bigint = 0 ORDER BY x.sluice_rn", step);
}

void checksql_rc_parts(struct strbuf *b, const struct rc_side *q, bool lo, bool hi, size_t n_cuts)
{
	struct strbuf from = {0};
	size_t next = rc_from(&from, q, lo, hi);
	sb_adds(b, "SELECT x.part, count(*), md5(string_agg(x.h, '' ORDER BY x.h COLLATE \"C\")) FROM (SELECT ");
	if (n_cuts) {
		sb_adds(b, "CASE");
		for (size_t i = 0; i < n_cuts; i++) {
			sb_adds(b, " WHEN ");
			rc_key(b, q);
			sb_adds(b, " < ");
			rc_params(b, q, next + i * q->n_key);
			sb_addf(b, " THEN %zu", i);
		}
		sb_addf(b, " ELSE %zu END", n_cuts);
	} else {
		sb_adds(b, "0");
	}
	sb_adds(b, " AS part, ");
	rc_hash(b, q);
	sb_adds(b, " AS h");
	sb_add(b, from.s, from.len);
	sb_adds(b, ") AS x GROUP BY x.part ORDER BY x.part");
	sb_free(&from);
}

void checksql_rc_rows(struct strbuf *b, const struct rc_side *q, bool lo, bool hi, long limit)
{
	sb_adds(b, "SELECT ");
	for (size_t i = 0; i < q->n_key; i++) {
		q_ident(b, "t", q->key[i]);
		sb_adds(b, "::text, ");
	}
	rc_hash(b, q);
	sb_adds(b, ", ");
	const char **all = xcalloc(q->n_key + q->n_cols, sizeof *all);
	for (size_t i = 0; i < q->n_key; i++)
		all[i] = q->key[i];
	for (size_t i = 0; i < q->n_cols; i++)
		all[q->n_key + i] = q->cols[i];
	q_json_of(b, "t", all, q->n_key + q->n_cols);
	free(all);
	sb_adds(b, "::text");
	rc_from(b, q, lo, hi);
	sb_adds(b, " ORDER BY ");
	q_list(b, "t", q->key, q->n_key);
	sb_addf(b, " LIMIT %ld", limit);
}
