/* Checks as declared: a column's or a model's `tests:` in models/ YAML
 * (dbt's spelling: a name, or a one-key mapping of name to arguments), a
 * source table's freshness, and tests/ SQL files. Each becomes a struct
 * model_check with its thresholds parsed and what it names resolved. */
#include "core/models/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/yamlread.h"

static const char *const column_tests[] = {"not_null", "unique", "accepted_values", "relationships"};
static const char *const model_tests[] = {"row_count", "expression", "unique_combination", "freshness",
						 "reconcile"};
/* What every check takes, beside its own arguments. */
static const char *const common_keys[] = {"severity", "error_if", "warn_if", "where", "limit", "name", "tags", "config"};
static const char *const config_keys[] = {"severity", "error_if", "warn_if", "where", "limit", "tags"};
/* Each kind's own arguments (enum check_kind order). */
#define MAX_OWN_KEYS 8
static const char *const own_keys[][MAX_OWN_KEYS] = {
	[CHECK_NOT_NULL] = {NULL},
	[CHECK_UNIQUE] = {NULL},
	[CHECK_ACCEPTED_VALUES] = {"values", "quote", NULL},
	[CHECK_RELATIONSHIPS] = {"to", "field", NULL},
	[CHECK_ROW_COUNT] = {"min", "max", NULL},
	[CHECK_EXPRESSION] = {"expression", NULL},
	[CHECK_UNIQUE_COMBINATION] = {"columns", NULL},
	[CHECK_FRESHNESS] = {"column", "warn_after", "error_after", NULL},
	[CHECK_SOURCE_FRESHNESS] = {NULL},
	[CHECK_CUSTOM] = {NULL},
	[CHECK_RECONCILE] = {"connection", "database", "table", "key", "columns", "ranges", "leaf", NULL},
};

const char *check_kind_name(enum check_kind k)
{
	static const char *const v[] = {
		"not_null", "unique", "accepted_values", "relationships", "row_count", "expression",
		"unique_combination", "freshness", "source_freshness", "custom", "reconcile",
	};
	return v[k];
}

const char *check_status_name(enum check_status s)
{
	static const char *const v[] = {"pass", "warn", "fail", "error"};
	return v[s];
}

/* ---- thresholds -------------------------------------------------------------- */

int check_threshold_parse(const char *s, struct check_threshold *out, size_t *bad)
{
	const char *p = s;
	while (*p == ' ')
		p++;
	struct check_threshold t = {0};
	if (p[0] == '>' && p[1] == '=')
		t.op = THR_GE, p += 2;
	else if (p[0] == '<' && p[1] == '=')
		t.op = THR_LE, p += 2;
	else if (p[0] == '!' && p[1] == '=')
		t.op = THR_NE, p += 2;
	else if (p[0] == '=' && p[1] == '=')
		t.op = THR_EQ, p += 2;
	else if (p[0] == '<' && p[1] == '>')
		t.op = THR_NE, p += 2;
	else if (*p == '>')
		t.op = THR_GT, p++;
	else if (*p == '<')
		t.op = THR_LT, p++;
	else if (*p == '=')
		t.op = THR_EQ, p++;
	else {
		*bad = (size_t)(p - s);
		return -1;
	}
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p)) {
		*bad = (size_t)(p - s);
		return -1;
	}
	char *end;
	t.value = strtod(p, &end);
	p = end;
	while (*p == ' ')
		p++;
	if (*p == '%') {
		t.percent = true;
		p++;
	}
	while (*p == ' ')
		p++;
	if (*p || !isfinite(t.value) || (t.percent && t.value > 100)) {
		*bad = (size_t)(p - s);
		return -1;
	}
	*out = t;
	return 0;
}

void check_threshold_text(const struct check_threshold *t, char *buf, size_t cap)
{
	static const char *const ops[] = {">", ">=", "<", "<=", "=", "!="};
	snprintf(buf, cap, "%s%g%s", ops[t->op], t->value, t->percent ? "%" : "");
}

static bool hit(const struct check_threshold *t, long long failing, long long total)
{
	double x = t->percent ? (total > 0 ? (double)failing * 100.0 / (double)total : 0) : (double)failing;
	switch (t->op) {
	case THR_GT: return x > t->value;
	case THR_GE: return x >= t->value;
	case THR_LT: return x < t->value;
	case THR_LE: return x <= t->value;
	case THR_EQ: return x == t->value;
	case THR_NE: return x != t->value;
	}
	return false;
}

enum check_status check_judge(const struct model_check *c, long long failing, long long total)
{
	if (c->severity == SEV_ERROR && hit(&c->error_if, failing, total))
		return CHECK_FAIL;
	if (hit(&c->warn_if, failing, total))
		return CHECK_WARN;
	return CHECK_PASS;
}

/* ---- building checks ---------------------------------------------------------------- */

void check_free(struct model_check *c)
{
	free(c->name);
	free(c->column);
	free(c->where);
	names_free(&c->tags);
	free(c->parents);
	names_free(&c->values);
	free(c->field);
	free(c->expression);
	names_free(&c->columns);
	free(c->at_column);
	if (c->rc) {
		free(c->rc->connection);
		free(c->rc->database);
		free(c->rc->table);
		names_free(&c->rc->key);
		names_free(&c->rc->columns);
		free(c->rc);
	}
	free(c->path);
	free(c->sql);
	mtmpl_free(c->tmpl);
}

/* A new check at the end of set->checks; its index (pointers move). */
static int new_check(struct mload *L, enum check_kind kind, int model, int table, const char *column, struct loc at)
{
	struct model_set *s = L->s;
	if ((s->n_checks & (s->n_checks - 1)) == 0)
		s->checks = xrealloc(s->checks, (s->n_checks ? s->n_checks * 2 : 4) * sizeof *s->checks);
	struct model_check *c = &s->checks[s->n_checks];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->model = model;
	c->table = table;
	c->to_model = c->to_table = -1;
	c->column = xstrdup(column);
	c->error_if = (struct check_threshold){THR_NE, 0, false};
	c->warn_if = c->error_if;
	c->limit = CHECK_DEFAULT_LIMIT;
	c->quote = true;
	c->loc = at;
	return (int)s->n_checks++;
}

/* Names it: given, or model[.column].kind with .2, .3 ... for repeats. */
static void name_check(struct mload *L, int i, const char *given, struct loc given_at)
{
	struct model_check *c = &L->s->checks[i];
	if (given) {
		c->name = xstrdup(given);
		int first;
		if (!yr_name_valid(given))
			diags_add(L->d, given_at, "invalid check name '%s' (use letters, digits, '_', '.' and '-')", given);
		else if (strmap_put(&L->check_idx, c->name, i, &first) < 0)
			diags_add(L->d, given_at, "check name '%s' is used twice (first at %s:%d:%d)", given,
				  L->s->checks[first].loc.file, L->s->checks[first].loc.line, L->s->checks[first].loc.col);
		return;
	}
	struct strbuf b = {0};
	if (c->model >= 0)
		sb_adds(&b, L->s->v[c->model].name);
	else if (c->table >= 0)
		sb_addf(&b, "source.%s.%s", L->s->tables[c->table].source, L->s->tables[c->table].name);
	if (c->column)
		sb_addf(&b, ".%s", c->column);
	sb_addf(&b, ".%s", c->kind == CHECK_SOURCE_FRESHNESS ? "freshness" : check_kind_name(c->kind));
	size_t base = b.len;
	for (int n = 2; strmap_get(&L->check_idx, b.s) >= 0; n++) {
		b.len = base;
		sb_addf(&b, ".%d", n);
	}
	c->name = sb_steal(&b);
	strmap_put(&L->check_idx, c->name, i, NULL);
}

static void read_threshold(struct mload *L, const struct cfg_src *src, const json_t *obj, const char *key,
			   struct check_threshold *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return;
	size_t bad = 0;
	if (!json_is_string(v) || check_threshold_parse(json_string_value(v), out, &bad) < 0) {
		struct loc at = cfg_at(src, obj, key, false);
		if (src->pos && json_is_string(v)) {
			at = ypos_value_offset(src->pos, obj, key, 0, bad);
			at.file = src->file;
		}
		diags_add(L->d, at, "'%s' must be a condition on the failing rows like \">0\", \">=10\" or \">5%%\"", key);
	}
}

/* severity, error_if, warn_if, where, limit, tags from obj (the arguments
 * or their `config:`). */
static void read_common(struct mload *L, const struct cfg_src *src, const json_t *obj, int i)
{
	struct model_check *c = &L->s->checks[i];
	json_t *sev = json_object_get(obj, "severity");
	if (sev && !json_is_null(sev)) {
		const char *sv = json_string_value(sev);
		if (sv && !strcasecmp(sv, "error"))
			c->severity = SEV_ERROR;
		else if (sv && !strcasecmp(sv, "warn"))
			c->severity = SEV_WARN;
		else
			diags_add(L->d, cfg_at(src, obj, "severity", false), "'severity' must be error or warn");
	}
	read_threshold(L, src, obj, "error_if", &c->error_if);
	read_threshold(L, src, obj, "warn_if", &c->warn_if);
	json_t *w = json_object_get(obj, "where");
	if (json_is_string(w)) {
		free(c->where);
		c->where = xstrdup(json_string_value(w));
	} else if (w && !json_is_null(w)) {
		diags_add(L->d, cfg_at(src, obj, "where", false), "'where' must be an SQL condition (a string)");
	}
	json_t *lim = json_object_get(obj, "limit");
	if (json_is_integer(lim) && json_integer_value(lim) >= 0 && json_integer_value(lim) <= 1000000)
		c->limit = (int)json_integer_value(lim);
	else if (lim && !json_is_null(lim))
		diags_add(L->d, cfg_at(src, obj, "limit", false), "'limit' must be a count of failing rows to keep (0 to 1000000)");
	cfg_names(L, src, obj, "tags", &c->tags);
}

static bool key_known(const char *k, enum check_kind kind, const char *const *extra, size_t n_extra)
{
	if (yr_in_list(k, common_keys, N_OF(common_keys)) || yr_in_list(k, extra, n_extra))
		return true;
	for (size_t j = 0; j < MAX_OWN_KEYS && own_keys[kind][j]; j++)
		if (!strcmp(own_keys[kind][j], k))
			return true;
	return false;
}

static void check_args_keys(struct mload *L, const struct cfg_src *src, const json_t *args, enum check_kind kind)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)args, k, v) {
		if (key_known(k, kind, NULL, 0))
			continue;
		const char *cand[N_OF(common_keys) + MAX_OWN_KEYS];
		size_t n = 0;
		for (size_t j = 0; j < N_OF(common_keys); j++)
			cand[n++] = common_keys[j];
		for (size_t j = 0; j < MAX_OWN_KEYS && own_keys[kind][j]; j++)
			cand[n++] = own_keys[kind][j];
		const char *near = nearest_word(k, cand, n);
		if (near)
			diags_add(L->d, cfg_at(src, args, k, true), "unknown key '%s' in %s; did you mean '%s'?", k,
				  check_kind_name(kind), near);
		else
			diags_add(L->d, cfg_at(src, args, k, true), "unknown key '%s' in %s", k, check_kind_name(kind));
	}
	json_t *cj = json_object_get(args, "config");
	if (json_is_object(cj)) {
		json_object_foreach(cj, k, v)
			if (!yr_in_list(k, config_keys, N_OF(config_keys)))
				diags_add(L->d, cfg_at(src, cj, k, true), "unknown key '%s' in a check's config", k);
	} else if (cj && !json_is_null(cj)) {
		diags_add(L->d, cfg_at(src, args, "config", false), "'config' must be a mapping");
	}
}

static int get_str(struct mload *L, const struct cfg_src *src, const json_t *obj, const char *key, char **out,
		   const char *what)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !*json_string_value(v)) {
		diags_add(L->d, cfg_at(src, obj, key, false), "'%s' must be %s", key, what);
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 1;
}

/* relationships' to: ref('m'), source('s', 't') or a bare model name. */
static void read_to(struct mload *L, const struct cfg_src *src, const json_t *args, int i)
{
	json_t *v = json_object_get(args, "to");
	struct loc at = cfg_at(src, args, "to", false);
	if (!json_is_string(v)) {
		diags_add(L->d, at, "'to' must be ref('model') or source('source', 'table')");
		return;
	}
	const char *s = json_string_value(v);
	struct pending_to to = {.check = i, .loc = at};
	if (!strchr(s, '(')) {
		to.model = xstrdup(s);
	} else {
		char *text = xasprintf("{{ %s }}", s);
		struct mtmpl *t;
		if (mtmpl_parse(text, strlen(text), MT_TEST, NULL, NULL, &t) == 0 && mtmpl_n_refs(t) + mtmpl_n_sources(t) == 1) {
			if (mtmpl_n_refs(t))
				to.model = xstrdup(mtmpl_ref(t, 0)->name);
			else
				to.source = xstrdup(mtmpl_source(t, 0)->name), to.table = xstrdup(mtmpl_source(t, 0)->table);
		}
		mtmpl_free(t);
		free(text);
		if (!to.model && !to.source) {
			diags_add(L->d, at, "'to' must be ref('model') or source('source', 'table'), got '%s'", s);
			return;
		}
	}
	L->tos = xrealloc(L->tos, (L->n_tos + 1) * sizeof *L->tos);
	L->tos[L->n_tos++] = to;
}

/* A count of at least min under key (absent: def). */
static int get_count(struct mload *L, const struct cfg_src *src, const json_t *obj, const char *key, int min, int def)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return def;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > 1000000) {
		diags_add(L->d, cfg_at(src, obj, key, false), "'%s' must be a whole number from %d to 1000000", key, min);
		return def;
	}
	return (int)json_integer_value(v);
}

/* reconcile: connection, table and key are required; the table is
 * table or schema.table. */
static void read_reconcile(struct mload *L, const struct cfg_src *src, const json_t *args, int i, struct loc at)
{
	struct check_reconcile *rc = xcalloc(1, sizeof *rc);
	L->s->checks[i].rc = rc;
	rc->ranges = RECONCILE_DEFAULT_RANGES;
	rc->leaf = RECONCILE_DEFAULT_LEAF;
	if (!args) {
		diags_add(L->d, at, "reconcile needs 'connection', 'table' and 'key'");
		return;
	}
	if (get_str(L, src, args, "connection", &rc->connection, "a connection name") == 0)
		diags_add(L->d, at, "reconcile needs 'connection': the connection the other table is on");
	get_str(L, src, args, "database", &rc->database, "a database name");
	if (get_str(L, src, args, "table", &rc->table, "a table or schema.table") == 0)
		diags_add(L->d, at, "reconcile needs 'table': the table on the other connection");
	else if (rc->table) {
		const char *dot = strchr(rc->table, '.');
		if (dot && (dot == rc->table || !dot[1] || strchr(dot + 1, '.')))
			diags_add(L->d, cfg_at(src, args, "table", false), "'table' must be a table or schema.table, got '%s'",
				  rc->table);
	}
	if (cfg_names(L, src, args, "key", &rc->key) == 0)
		diags_add(L->d, at, "reconcile needs 'key': the column(s) that identify a row on both sides");
	cfg_names(L, src, args, "columns", &rc->columns);
	rc->ranges = get_count(L, src, args, "ranges", 2, RECONCILE_DEFAULT_RANGES);
	rc->leaf = get_count(L, src, args, "leaf", 1, RECONCILE_DEFAULT_LEAF);
}

/* The arguments of one check of kind (args may be NULL: none given). */
static void read_args(struct mload *L, const struct cfg_src *src, const json_t *args, int i, struct loc at)
{
	struct model_check *c = &L->s->checks[i];
	const char *kname = check_kind_name(c->kind);
	switch (c->kind) {
	case CHECK_ACCEPTED_VALUES: {
		json_t *vals = args ? json_object_get(args, "values") : NULL;
		if (!json_is_array(vals) || !json_array_size(vals)) {
			diags_add(L->d, vals ? cfg_at(src, args, "values", false) : at,
				  "accepted_values needs 'values': a list of the values allowed");
			break;
		}
		for (size_t j = 0; j < json_array_size(vals); j++) {
			json_t *x = json_array_get(vals, j);
			if (json_is_string(x)) {
				names_add(&c->values, json_string_value(x));
			} else if (json_is_number(x) || json_is_boolean(x)) {
				char *t = json_dumps(x, JSON_ENCODE_ANY);
				names_add(&c->values, t);
				free(t);
			} else {
				diags_add(L->d, cfg_at_item(src, args, "values", j), "accepted values must be strings or numbers, got %s",
					  yr_type_name(x));
			}
		}
		json_t *q = json_object_get(args, "quote");
		if (json_is_boolean(q))
			c->quote = json_is_true(q);
		else if (q && !json_is_null(q))
			diags_add(L->d, cfg_at(src, args, "quote", false), "'quote' must be true or false");
		break;
	}
	case CHECK_RELATIONSHIPS:
		if (!args || !json_object_get(args, "to") || !json_object_get(args, "field")) {
			diags_add(L->d, at, "relationships needs 'to' (ref('model')) and 'field' (its column)");
			break;
		}
		read_to(L, src, args, i);
		get_str(L, src, args, "field", &L->s->checks[i].field, "a column name");
		break;
	case CHECK_ROW_COUNT:
		for (int k = 0; k < 2; k++) {
			const char *key = k ? "max" : "min";
			json_t *x = args ? json_object_get(args, key) : NULL;
			if (!x || json_is_null(x))
				continue;
			if (!json_is_integer(x) || json_integer_value(x) < 0) {
				diags_add(L->d, cfg_at(src, args, key, false), "'%s' must be a count of rows", key);
				continue;
			}
			*(k ? &c->max : &c->min) = json_integer_value(x);
			*(k ? &c->have_max : &c->have_min) = true;
		}
		if (!c->have_min && !c->have_max && !(args && (json_object_get(args, "min") || json_object_get(args, "max"))))
			diags_add(L->d, at, "row_count needs 'min', 'max' or both");
		else if (c->have_min && c->have_max && c->min > c->max)
			diags_add(L->d, cfg_at(src, args, "max", false), "row_count: 'max' (%lld) is below 'min' (%lld)", c->max,
				  c->min);
		break;
	case CHECK_EXPRESSION:
		if (get_str(L, src, args, "expression", &c->expression, "an SQL condition every row must meet") == 0)
			diags_add(L->d, at, "expression needs 'expression': an SQL condition every row must meet");
		break;
	case CHECK_UNIQUE_COMBINATION:
		if (!args || cfg_names(L, src, args, "columns", &L->s->checks[i].columns) == 0)
			diags_add(L->d, at, "unique_combination needs 'columns': the columns that are unique together");
		break;
	case CHECK_FRESHNESS:
		if (get_str(L, src, args, "column", &c->at_column, "a timestamp column") == 0)
			diags_add(L->d, at, "freshness needs 'column': the timestamp column whose newest value is checked");
		if (args) {
			cfg_duration(L, src, args, "warn_after", &L->s->checks[i].warn_after);
			cfg_duration(L, src, args, "error_after", &L->s->checks[i].error_after);
		}
		c = &L->s->checks[i];
		if (!c->warn_after && !c->error_after)
			diags_add(L->d, at, "freshness needs 'warn_after', 'error_after' or both");
		break;
	case CHECK_RECONCILE:
		read_reconcile(L, src, args, i, at);
		break;
	default:
		break;
	}
	(void)kname;
}

static int kind_of(const char *name, const char *const *list, size_t n, int base)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return base + (int)i;
	return -1;
}

/* One item of a `tests:` list: "name", {name: args} or {name: null}. */
static void read_test(struct mload *L, const struct cfg_src *src, const json_t *list, size_t j, int model, int table,
		      const char *column)
{
	json_t *item = json_array_get(list, j);
	struct loc at = ypos_item(src->pos, list, j);
	at.file = src->file;
	const char *name = NULL;
	json_t *args = NULL;
	if (json_is_string(item)) {
		name = json_string_value(item);
	} else if (json_is_object(item) && json_object_size(item) == 1) {
		void *it = json_object_iter(item);
		name = json_object_iter_key(it);
		args = json_object_iter_value(it);
		at = cfg_at(src, item, name, true);
		if (json_is_null(args))
			args = NULL;
		else if (!json_is_object(args) && !(json_is_string(args) && !strcmp(name, "expression"))) {
			diags_add(L->d, cfg_at(src, item, name, false), "the arguments of %s must be a mapping", name);
			return;
		}
	} else {
		diags_add(L->d, at, "a test is a name (not_null) or a mapping of one name to its arguments");
		return;
	}
	const char *const *mine = column ? column_tests : model_tests;
	const char *const *other = column ? model_tests : column_tests;
	size_t n_mine = column ? N_OF(column_tests) : N_OF(model_tests);
	size_t n_other = column ? N_OF(model_tests) : N_OF(column_tests);
	int kind = column ? kind_of(name, column_tests, N_OF(column_tests), CHECK_NOT_NULL)
			  : kind_of(name, model_tests, N_OF(model_tests), CHECK_ROW_COUNT);
	/* the model tests after freshness are not contiguous in enum check_kind */
	if (!column && kind > CHECK_FRESHNESS)
		kind = CHECK_RECONCILE;
	if (kind < 0) {
		if (kind_of(name, other, n_other, 0) >= 0)
			diags_add(L->d, at, "%s is a %s test: put it under %s", name, column ? "model" : "column",
				  column ? "the model's tests" : "a column's tests");
		else {
			const char *near = nearest_word(name, mine, n_mine);
			if (near) {
				diags_add(L->d, at, "unknown test '%s'; did you mean '%s'?", name, near);
			} else {
				struct strbuf all = {0};
				for (size_t m = 0; m < n_mine; m++)
					sb_addf(&all, "%s%s", m ? ", " : "", mine[m]);
				diags_add(L->d, at, "unknown test '%s' (a %s test is one of %s)", name, column ? "column" : "model",
					  all.s);
				sb_free(&all);
			}
		}
		return;
	}
	int i = new_check(L, (enum check_kind)kind, model, table, column, at);
	/* expression: "amount >= 0" is the short form */
	if (json_is_string(args)) {
		L->s->checks[i].expression = xstrdup(json_string_value(args));
		name_check(L, i, NULL, at);
		return;
	}
	if (args) {
		check_args_keys(L, src, args, (enum check_kind)kind);
		read_common(L, src, args, i);
		json_t *cj = json_object_get(args, "config");
		if (json_is_object(cj))
			read_common(L, src, cj, i);
	}
	read_args(L, src, args, i, at);
	json_t *given = args ? json_object_get(args, "name") : NULL;
	if (given && !json_is_string(given)) {
		diags_add(L->d, cfg_at(src, args, "name", false), "a check's 'name' must be a string");
		given = NULL;
	}
	name_check(L, i, given ? json_string_value(given) : NULL, given ? cfg_at(src, args, "name", false) : at);
}

static void read_tests(struct mload *L, const struct cfg_src *src, const json_t *obj, int model, int table,
		       const char *column)
{
	const char *key = json_object_get(obj, "tests") ? "tests" : "data_tests";
	json_t *list = json_object_get(obj, key);
	if (!list || json_is_null(list))
		return;
	if (!json_is_array(list)) {
		diags_add(L->d, cfg_at(src, obj, key, false), "'%s' must be a list of tests", key);
		return;
	}
	for (size_t j = 0; j < json_array_size(list); j++)
		read_test(L, src, list, j, model, table, column);
}

void checks_column(struct mload *L, const struct cfg_src *c, const json_t *col, int model, int table,
		   const char *column)
{
	read_tests(L, c, col, model, table, column);
}

void checks_model(struct mload *L, const struct cfg_src *c, const json_t *entry, const char *key, int model)
{
	(void)key;
	read_tests(L, c, entry, model, -1, NULL);
}

void checks_table(struct mload *L, const struct cfg_src *c, const json_t *entry, int table)
{
	read_tests(L, c, entry, -1, table, NULL);
}

void checks_source(struct mload *L, int table)
{
	const struct source_table *t = &L->s->tables[table];
	if (!t->warn_after && !t->error_after)
		return;
	int i = new_check(L, CHECK_SOURCE_FRESHNESS, -1, table, NULL, t->loc);
	struct model_check *c = &L->s->checks[i];
	c->at_column = xstrdup(t->loaded_at_field);
	c->warn_after = t->warn_after;
	c->error_after = t->error_after;
	name_check(L, i, NULL, t->loc);
}

/* ---- tests/ files ----------------------------------------------------------------- */

void checks_custom(struct mload *L, const char *path)
{
	struct loc at = {path, 1, 1};
	char *text;
	struct mtmpl *t = mload_sql(L, path, MT_TEST, &text);
	if (!t) {
		free(text);
		return;
	}
	mload_vars(L, path, text, t);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *name = xstrndup(base, strlen(base) - 4);
	int i = new_check(L, CHECK_CUSTOM, -1, -1, NULL, at);
	struct model_check *c = &L->s->checks[i];
	c->path = xstrdup(path);
	c->sql = text;
	c->tmpl = t;
	const json_t *cj = mtmpl_config(t);
	if (cj) {
		struct cfg_src src = {path, NULL, t, text};
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)cj, k, v)
			if (!yr_in_list(k, config_keys, N_OF(config_keys)))
				diags_add(L->d, cfg_at(&src, cj, k, true), "unknown key '%s' in a test's config()", k);
		read_common(L, &src, cj, i);
	}
	name_check(L, i, name, at);
	free(name);
}

/* ---- resolving ---------------------------------------------------------------------- */

static void add_parent(struct model_check *c, int m)
{
	if (m < 0)
		return;
	for (size_t i = 0; i < c->n_parents; i++)
		if (c->parents[i] == m)
			return;
	c->parents = xrealloc(c->parents, (c->n_parents + 1) * sizeof *c->parents);
	c->parents[c->n_parents++] = m;
}

static void unknown_model(struct mload *L, struct loc at, const char *what, const char *name)
{
	const char *near = models_nearest(L->s, name);
	if (near)
		diags_add(L->d, at, "%s unknown model '%s'; did you mean '%s'?", what, name, near);
	else
		diags_add(L->d, at, "%s unknown model '%s'", what, name);
}

static int find_table(struct mload *L, const char *source, const char *table)
{
	sb_reset(&L->keybuf);
	sb_addf(&L->keybuf, "%s.%s", source, table);
	return strmap_get(&L->table_idx, L->keybuf.s);
}

void checks_resolve(struct mload *L)
{
	struct model_set *s = L->s;
	for (size_t k = 0; k < L->n_tos; k++) {
		struct pending_to *to = &L->tos[k];
		struct model_check *c = &s->checks[to->check];
		if (to->model) {
			c->to_model = models_find(s, to->model);
			if (c->to_model < 0)
				unknown_model(L, to->loc, "relationships to", to->model);
		} else {
			c->to_table = find_table(L, to->source, to->table);
			if (c->to_table < 0)
				diags_add(L->d, to->loc, "relationships to unknown source table '%s.%s'", to->source, to->table);
		}
	}
	for (size_t i = 0; i < s->n_checks; i++) {
		struct model_check *c = &s->checks[i];
		add_parent(c, c->model);
		add_parent(c, c->to_model);
		if (c->kind != CHECK_CUSTOM)
			continue;
		for (size_t j = 0; j < mtmpl_n_refs(c->tmpl); j++) {
			const struct mt_ref *r = mtmpl_ref(c->tmpl, j);
			int m = models_find(s, r->name);
			struct loc at = {c->path, 0, 0};
			mtmpl_loc(c->sql, r->off, &at.line, &at.col);
			if (m < 0)
				unknown_model(L, at, "ref to", r->name);
			else if (c->model < 0)
				c->model = m;
			add_parent(c, m);
		}
		for (size_t j = 0; j < mtmpl_n_sources(c->tmpl); j++) {
			const struct mt_ref *r = mtmpl_source(c->tmpl, j);
			if (find_table(L, r->name, r->table) >= 0)
				continue;
			struct loc at = {c->path, 0, 0};
			mtmpl_loc(c->sql, r->off, &at.line, &at.col);
			diags_add(L->d, at, "unknown source table '%s.%s'", r->name, r->table);
		}
	}
}
