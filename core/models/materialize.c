/* The materializations: every statement a model build runs, in one place.
 * A build is one transaction: it takes an advisory lock on its relation,
 * looks at what is there, checks the SELECT's columns against the contract,
 * and only then writes. The same code writes a plan (`sluice compile`) when
 * it has no connection: statements go to a buffer instead of the server. */
#include "core/models/materialize.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "connectors/pg.h"
#include "core/ledger.h"
#include "core/writes.h"
#include "core/projdef.h"

/* the rows of a batch's bad keys named in an error */
#define BAD_KEYS_SHOWN 10

/* ---- the SQL --------------------------------------------------------------------- */

/* Keyed on the quoted relation: two builds of one relation (two runs, or a
 * run and a `sluice build`) take turns, so a snapshot never gets a row twice
 * and a table's side name is never built twice at once. */
static const char SQL_LOCK[] = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
static const char SQL_RELKIND[] =
	"SELECT c.relkind FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"WHERE n.nspname = $1 AND c.relname = $2";
static const char SQL_COLUMNS[] =
	"SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
	"WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
/* The views that read a relation directly (views on those views read the
 * views, which keep their OIDs). Their definitions are taken with only
 * pg_catalog on the search path, so every name in them comes qualified. */
static const char SQL_DEPENDENTS[] =
	"SELECT DISTINCT v.oid::regclass::text, pg_catalog.pg_get_viewdef(v.oid), "
	"pg_catalog.array_to_string(v.reloptions, ', ') "
	"FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
	"JOIN pg_catalog.pg_class v ON v.oid = r.ev_class "
	"WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass "
	"AND d.refobjid = $1::regclass AND v.oid <> d.refobjid AND v.relkind = 'v' ORDER BY 1";
static const char SQL_PATH_GET[] = "SELECT pg_catalog.current_setting('search_path')";
static const char SQL_PATH_SET[] = "SELECT pg_catalog.set_config('search_path', $1, true)";
static const char SQL_DATESTYLE[] = "SET LOCAL datestyle TO ISO, YMD";
static const char SQL_PROBE[] = "CREATE TEMP VIEW sluice_probe AS\n";
static const char SQL_PROBE_REL[] = "pg_temp.sluice_probe";
static const char SQL_PROBE_DROP[] = "DROP VIEW pg_temp.sluice_probe";
static const char SQL_BATCH[] = "CREATE TEMP TABLE sluice_batch ON COMMIT DROP AS\n";
static const char SQL_BATCH_REL[] = "pg_temp.sluice_batch";
static const char BATCH[] = "pg_temp.sluice_batch";
static const char SQL_SCHEMA_EXISTS[] = "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1";
static const char SQL_SCHEMA_SAVEPOINT[] = "SAVEPOINT sluice_schema";
static const char SQL_SCHEMA_ROLLBACK_TO[] = "ROLLBACK TO SAVEPOINT sluice_schema";
static const char SQL_SCHEMA_RELEASE[] = "RELEASE SAVEPOINT sluice_schema";
/* two builds creating one schema at once: the second's insert into
 * pg_namespace fails once the first commits */
static const char SQLSTATE_UNIQUE[] = "23505";
static const char SQL_SAVEPOINT[] = "SAVEPOINT sluice_view";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO SAVEPOINT sluice_view";
static const char SQL_RELEASE[] = "RELEASE SAVEPOINT sluice_view";
/* CREATE OR REPLACE VIEW refuses a new column list that drops, renames or
 * retypes a column: then the view is built beside and swapped in. */
static const char SQLSTATE_VIEW_COLUMNS[] = "42P16", SQLSTATE_VIEW_TYPES[] = "42804";

/* The columns a snapshot adds to its SELECT's. */
static const char COL_SCD_ID[] = "scd_id", COL_VALID_FROM[] = "valid_from", COL_VALID_TO[] = "valid_to",
		  COL_IS_DELETED[] = "is_deleted";

/* ---- types and contracts ------------------------------------------------------------ */

/* format_type()'s name for each alias a contract may write. */
static const struct {
	const char *alias, *name;
} TYPE_ALIASES[] = {
	{"int", "integer"}, {"int4", "integer"}, {"integer", "integer"}, {"serial", "integer"},
	{"int8", "bigint"}, {"bigint", "bigint"}, {"bigserial", "bigint"},
	{"int2", "smallint"}, {"smallint", "smallint"},
	{"float8", "double precision"}, {"float", "double precision"}, {"double", "double precision"},
	{"double precision", "double precision"}, {"float4", "real"}, {"real", "real"},
	{"decimal", "numeric"}, {"numeric", "numeric"},
	{"varchar", "character varying"}, {"character varying", "character varying"}, {"char varying", "character varying"},
	{"char", "character"}, {"character", "character"}, {"bpchar", "character"},
	{"bool", "boolean"}, {"boolean", "boolean"},
	{"timestamp", "timestamp without time zone"}, {"timestamp without time zone", "timestamp without time zone"},
	{"timestamptz", "timestamp with time zone"}, {"timestamp with time zone", "timestamp with time zone"},
	{"time", "time without time zone"}, {"time without time zone", "time without time zone"},
	{"timetz", "time with time zone"}, {"time with time zone", "time with time zone"},
};

/* Lower case, runs of blanks as one space, none next to ( ) , [ ]. */
static void squeeze(const char *in, struct strbuf *out)
{
	bool space = false;
	for (const char *s = in; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isspace(ch)) {
			space = out->len > 0;
			continue;
		}
		bool punct = strchr("(),[]", ch) != NULL;
		if (space && !punct && out->len && !strchr("(,[", out->s[out->len - 1]))
			sb_addc(out, ' ');
		space = false;
		sb_addc(out, (char)tolower(ch));
	}
}

void mat_type_norm(const char *type, struct strbuf *out)
{
	struct strbuf t = {0};
	squeeze(type ? type : "", &t);
	const char *s = t.s ? t.s : "";
	/* the name, its modifier "(...)", what follows it ("with time zone", "[]") */
	size_t name_len = strcspn(s, "([");
	while (name_len && s[name_len - 1] == ' ')
		name_len--;
	const char *mod = s + strcspn(s, "(");
	size_t mod_len = *mod ? strcspn(mod, ")") + (mod[strcspn(mod, ")")] ? 1 : 0) : 0;
	const char *rest = *mod ? mod + mod_len : s + name_len;
	while (*rest == ' ')
		rest++;
	/* "timestamp(3) with time zone": the name goes on after the modifier */
	struct strbuf name = {0};
	sb_add(&name, s, name_len);
	if (*mod && (!strncmp(rest, "with ", 5) || !strncmp(rest, "without ", 8))) {
		size_t l = strcspn(rest, "[");
		while (l && rest[l - 1] == ' ')
			l--;
		sb_addc(&name, ' ');
		sb_add(&name, rest, l);
		rest += l;
		while (*rest == ' ')
			rest++;
	}
	const char *canon = name.s ? name.s : "";
	for (size_t i = 0; i < sizeof TYPE_ALIASES / sizeof TYPE_ALIASES[0]; i++)
		if (!strcmp(canon, TYPE_ALIASES[i].alias)) {
			canon = TYPE_ALIASES[i].name;
			break;
		}
	/* format_type puts a time type's precision after its first word */
	const char *zone = NULL;
	size_t head = strlen(canon);
	if (!strncmp(canon, "timestamp ", 10) || !strncmp(canon, "time ", 5)) {
		head = strcspn(canon, " ");
		zone = canon + head;
	}
	sb_add(out, canon, head);
	if (mod_len)
		sb_add(out, mod, mod_len);
	if (zone)
		sb_adds(out, zone);
	sb_adds(out, rest);
	sb_free(&name);
	sb_free(&t);
}

/* type with every "(...)" taken out. */
static void strip_mods(const char *type, struct strbuf *out)
{
	int depth = 0;
	for (const char *s = type; *s; s++) {
		if (*s == '(')
			depth++;
		else if (*s == ')')
			depth--;
		else if (!depth)
			sb_addc(out, *s);
	}
}

bool mat_type_meets(const char *want, const char *got)
{
	struct strbuf w = {0}, g = {0};
	mat_type_norm(want, &w);
	mat_type_norm(got, &g);
	bool ok;
	if (strchr(w.s ? w.s : "", '(')) {
		ok = !strcmp(w.s, g.s ? g.s : "");
	} else {
		struct strbuf bare = {0};
		strip_mods(g.s ? g.s : "", &bare);
		ok = !strcmp(w.s ? w.s : "", bare.s ? bare.s : "");
		sb_free(&bare);
	}
	sb_free(&w);
	sb_free(&g);
	return ok;
}

static const struct mat_col *col_find(const struct mat_col *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

int mat_contract_diff(const struct mat_col *want, size_t n_want, const struct mat_col *got, size_t n_got,
		      struct strbuf *msg)
{
	size_t before = msg->len;
	for (size_t i = 0; i < n_want; i++) {
		const struct mat_col *g = col_find(got, n_got, want[i].name);
		if (!g)
			sb_addf(msg, "%scolumn '%s' is missing (expected %s)", msg->len > before ? "; " : "", want[i].name,
				want[i].type ? want[i].type : "it");
		else if (want[i].type && !mat_type_meets(want[i].type, g->type))
			sb_addf(msg, "%scolumn '%s': expected %s, got %s", msg->len > before ? "; " : "", want[i].name,
				want[i].type, g->type);
	}
	for (size_t i = 0; i < n_got; i++)
		if (!col_find(want, n_want, got[i].name))
			sb_addf(msg, "%scolumn '%s' (%s) is extra: not in the model's columns", msg->len > before ? "; " : "",
				got[i].name, got[i].type);
	return msg->len > before ? -1 : 0;
}

/* ---- the spec ------------------------------------------------------------------------ */

int mat_spec_build(const struct model_set *s, const struct project *p, const struct target *t, int i,
		   bool full_refresh, json_t *out, struct err *err)
{
	const struct model *m = &s->v[i];
	const struct model_config *c = &m->cfg;
	if (!t)
		t = project_target(p, NULL);
	if (!t)
		return err_set(err, "the project has no target");
	struct model_place pl;
	if (model_place(s, p, t, i, &pl, err) < 0)
		return err_code(err);
	struct strbuf full = {0}, inc = {0};
	int rc = model_render(s, p, t, i, false, &full, err);
	if (rc == 0 && c->materialized == MAT_INCREMENTAL)
		rc = model_render(s, p, t, i, true, &inc, err);
	if (rc < 0) {
		model_place_free(&pl);
		sb_free(&full);
		sb_free(&inc);
		return err_code(err);
	}
	json_object_set_new(out, "model", json_string(m->name));
	/* the path from the project's root, as its messages show it */
	const char *path = m->path;
	size_t rl = s->root ? strlen(s->root) : 0;
	if (rl && strcmp(s->root, ".") && !strncmp(path, s->root, rl) && path[rl] == '/')
		path += rl + 1;
	json_object_set_new(out, "path", json_string(path));
	json_object_set_new(out, "target", json_string(t->name));
	json_object_set_new(out, "conn", json_string(t->connection ? t->connection : "default"));
	if (t->database)
		json_object_set_new(out, "database", json_string(t->database));
	json_object_set_new(out, "schema", json_string(pl.schema));
	json_object_set_new(out, "materialized", json_string(model_mat_name(c->materialized)));
	json_object_set_new(out, "full_refresh", json_boolean(full_refresh));
	json_object_set_new(out, "sql", json_string(full.s ? full.s : ""));
	if (c->materialized == MAT_INCREMENTAL) {
		json_object_set_new(out, "sql_incremental", json_string(inc.s ? inc.s : ""));
		json_object_set_new(out, "incremental_strategy", json_string(inc_strategy_name(c->incremental_strategy)));
	}
	if (c->unique_key.n)
		json_object_set_new(out, "unique_key", names_json(&c->unique_key));
	if (c->materialized == MAT_SNAPSHOT) {
		json_t *o = json_object();
		json_object_set_new(o, "strategy", json_string(snap_strategy_name(c->strategy)));
		if (c->updated_at)
			json_object_set_new(o, "updated_at", json_string(c->updated_at));
		json_object_set_new(o, "check_cols", c->check_all ? json_string("all") : names_json(&c->check_cols));
		json_object_set_new(o, "hard_deletes", json_string(hard_deletes_name(c->hard_deletes)));
		json_object_set_new(o, "valid_to_current", c->valid_to_current ? json_string(c->valid_to_current) : json_null());
		json_object_set_new(out, "snapshot", o);
	}
	bool typed = false;
	for (size_t k = 0; k < m->n_columns; k++)
		typed |= m->columns[k].type != NULL;
	if (typed) {
		json_t *a = json_array();
		for (size_t k = 0; k < m->n_columns; k++)
			json_array_append_new(a, json_pack("{s:s, s:o}", "name", m->columns[k].name, "type",
							   m->columns[k].type ? json_string(m->columns[k].type) : json_null()));
		json_object_set_new(out, "columns", a);
	}
	models_reads_of(s, p, t, i, out);
	model_place_free(&pl);
	sb_free(&full);
	sb_free(&inc);
	return 0;
}

/* The arrays a job points into. */
struct job_arrays {
	const char **key, **check_cols;
	struct mat_col *contract;
};

static int enum_of(const char *s, const char *(*name)(int), int n, int *out)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(s, name(i))) {
			*out = i;
			return 0;
		}
	return -1;
}

static const char *mat_name_i(int i) { return model_mat_name((enum model_mat)i); }
static const char *inc_name_i(int i) { return inc_strategy_name((enum inc_strategy)i); }
static const char *snap_name_i(int i) { return snap_strategy_name((enum snap_strategy)i); }
static const char *hd_name_i(int i) { return hard_deletes_name((enum hard_deletes)i); }

static const char **strings_of(const json_t *a, size_t *n)
{
	*n = json_array_size(a);
	const char **v = xcalloc(*n + 1, sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	return v;
}

int mat_job_from_spec(const json_t *spec, struct mat_job *j, void **cols, struct err *err)
{
	memset(j, 0, sizeof *j);
	*cols = NULL;
	j->model = json_str(spec, "model");
	j->path = json_str(spec, "path");
	j->target = json_str(spec, "target");
	j->schema = json_str(spec, "schema");
	j->name = j->model;
	j->sql = json_str(spec, "sql");
	j->sql_incremental = json_str(spec, "sql_incremental");
	j->full_refresh = json_is_true(json_object_get(spec, "full_refresh"));
	int v = 0;
	if (!j->model || !j->schema || !j->sql || enum_of(json_str(spec, "materialized"), mat_name_i, 4, &v) < 0)
		return err_set(err, "model: the task spec is incomplete (model, schema, sql, materialized)");
	j->mat = (enum model_mat)v;
	if (j->mat == MAT_INCREMENTAL) {
		if (!j->sql_incremental || enum_of(json_str(spec, "incremental_strategy"), inc_name_i, 3, &v) < 0)
			return err_set(err, "model: the task spec of an incremental model is incomplete");
		j->strategy = (enum inc_strategy)v;
	}
	struct job_arrays *a = xcalloc(1, sizeof *a);
	*cols = a;
	a->key = strings_of(json_object_get(spec, "unique_key"), &j->n_key);
	j->key = a->key;
	const json_t *sn = json_object_get(spec, "snapshot");
	if (j->mat == MAT_SNAPSHOT) {
		if (enum_of(json_str(sn, "strategy"), snap_name_i, 2, &v) < 0)
			return err_set(err, "model: the task spec of a snapshot has no strategy");
		j->snap = (enum snap_strategy)v;
		if (enum_of(json_str(sn, "hard_deletes"), hd_name_i, 3, &v) == 0)
			j->hard_deletes = (enum hard_deletes)v;
		j->updated_at = json_str(sn, "updated_at");
		const json_t *cc = json_object_get(sn, "check_cols");
		j->check_all = json_is_string(cc);
		a->check_cols = strings_of(json_is_array(cc) ? cc : NULL, &j->n_check_cols);
		j->check_cols = a->check_cols;
		j->valid_to_current = json_str(sn, "valid_to_current");
		if (!j->n_key || (j->snap == SNAP_TIMESTAMP && !j->updated_at) ||
		    (j->snap == SNAP_CHECK && !j->check_all && !j->n_check_cols))
			return err_set(err, "model: the task spec of a snapshot is incomplete");
	}
	const json_t *cs = json_object_get(spec, "columns");
	j->n_contract = json_array_size(cs);
	a->contract = xcalloc(j->n_contract + 1, sizeof *a->contract);
	for (size_t i = 0; i < j->n_contract; i++) {
		a->contract[i].name = json_str(json_array_get(cs, i), "name");
		a->contract[i].type = json_str(json_array_get(cs, i), "type");
		if (!a->contract[i].name)
			return err_set(err, "model: a contract column without a name in the task spec");
	}
	j->contract = a->contract;
	if ((j->mat == MAT_INCREMENTAL && j->strategy != INC_APPEND) && !j->n_key)
		return err_set(err, "model: incremental strategy %s needs a unique_key", inc_strategy_name(j->strategy));
	return 0;
}

void mat_job_arrays_free(void *cols)
{
	struct job_arrays *a = cols;
	if (!a)
		return;
	free(a->key);
	free(a->check_cols);
	free(a->contract);
	free(a);
}

/* ---- running statements --------------------------------------------------------------- */

/* Columns read from the catalog (owned strings). */
struct cols {
	struct mat_col *v;
	size_t n;
};

static void cols_free(struct cols *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->v[i].name);
		free((char *)c->v[i].type);
	}
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static void cols_add(struct cols *c, const char *name, const char *type)
{
	c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
	c->v[c->n++] = (struct mat_col){xstrdup(name), xstrdup(type)};
}

/* One build: its statements go to the server (c) or to a plan. */
struct mx {
	struct pg_conn *c;          /* NULL: writing a plan */
	struct strbuf *plan;
	const struct mat_job *j;
	struct err *err;
	char sqlstate[6];           /* of the last statement that failed */
	bool exists;                /* a plan: what to assume is there */
	char *schema;               /* quoted */
	char *rel, *new_rel, *old_rel; /* "schema"."name", and the side names */
	char *new_name, *old_name;  /* unquoted */
};

static void ident(const struct mx *x, struct strbuf *b, const char *name)
{
	if (!x->c) {
		mt_quote_ident(b, name);
		return;
	}
	char *q = pg_ident(x->c, name);
	sb_adds(b, q);
	free(q);
}

static char *qualified(const struct mx *x, const char *name)
{
	struct strbuf b = {0};
	sb_adds(&b, x->schema);
	sb_addc(&b, '.');
	ident(x, &b, name);
	return sb_steal(&b);
}

/* name + suffix within PostgreSQL's 63 bytes: a long name is cut (at a
 * character's start) and given a hash of itself, so two long names that
 * share a beginning do not share a side name. */
static char *side_name(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (n + s <= PG_NAME_MAX)
		return xasprintf("%s%s", name, suffix);
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	size_t keep = PG_NAME_MAX - s - 9;
	while (keep && ((unsigned char)name[keep] & 0xC0) == 0x80)
		keep--;
	return xasprintf("%.*s_%08x%s", (int)keep, name, (unsigned)h, suffix);
}

static void mx_init(struct mx *x, struct pg_conn *c, struct strbuf *plan, const struct mat_job *j, struct err *err)
{
	memset(x, 0, sizeof *x);
	x->c = c;
	x->plan = plan;
	x->j = j;
	x->err = err;
	struct strbuf b = {0};
	ident(x, &b, j->schema);
	x->schema = sb_steal(&b);
	x->rel = qualified(x, j->name);
	x->new_name = side_name(j->name, "__sluice_new");
	x->old_name = side_name(j->name, "__sluice_old");
	x->new_rel = qualified(x, x->new_name);
	x->old_rel = qualified(x, x->old_name);
}

static void mx_free(struct mx *x)
{
	free(x->schema);
	free(x->rel);
	free(x->new_rel);
	free(x->old_rel);
	free(x->new_name);
	free(x->old_name);
}

/* A comment in a plan (nothing on a server). */
static void note(struct mx *x, const char *text)
{
	if (!x->c)
		sb_addf(x->plan, "-- %s\n", text);
}

/* sql with each $N as the literal it stands for, for a plan. */
static void plan_add(struct strbuf *b, const char *sql, int n, const char *const *params)
{
	for (const char *s = sql; *s; s++) {
		if (*s == '$' && isdigit((unsigned char)s[1])) {
			const char *e = s + 1;
			int k = 0;
			while (isdigit((unsigned char)*e))
				k = k * 10 + (*e++ - '0');
			if (k >= 1 && k <= n) {
				sb_addc(b, '\'');
				for (const char *p = params[k - 1] ? params[k - 1] : ""; *p; p++) {
					if (*p == '\'')
						sb_addc(b, '\'');
					sb_addc(b, *p);
				}
				sb_addc(b, '\'');
				s = e - 1;
				continue;
			}
		}
		sb_addc(b, *s);
	}
	sb_adds(b, ";\n");
}

/* The 1-based line and column of character pos (as the server counts:
 * characters, not bytes) in text. */
static void char_loc(const char *text, long pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *s = text; *s && pos > 1; s++) {
		if (((unsigned char)*s & 0xC0) == 0x80)
			continue;
		pos--;
		if (*s == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Runs one statement (a plan: writes it down). *out, if not NULL, gets the
 * result (NULL in a plan). what, if not NULL, goes in front of an error.
 * user: the part of sql that is the model's SELECT, to say where in it the
 * server points. */
static int run_sql(struct mx *x, const char *what, const char *sql, int n, const char *const *params,
		   const char *user, struct pg_result **out)
{
	if (out)
		*out = NULL;
	if (!x->c) {
		plan_add(x->plan, sql, n, params);
		return 0;
	}
	struct pg_result *refused = NULL;
	struct pg_result *r = pg_try(x->c, sql, n, params, &refused, x->err);
	if (r) {
		if (out)
			*out = r;
		else
			pg_clear(r);
		x->sqlstate[0] = '\0';
		return 0;
	}
	const char *state = refused ? pg_error_field(refused, PG_FIELD_SQLSTATE) : NULL;
	snprintf(x->sqlstate, sizeof x->sqlstate, "%s", state ? state : "");
	const char *pos = refused ? pg_error_field(refused, PG_FIELD_POSITION) : NULL;
	const char *at = user ? strstr(sql, user) : NULL;
	if (pos && at) {
		/* the statement's characters before the SELECT (ours are ASCII) */
		long p = atol(pos) - (long)(at - sql);
		if (p >= 1) {
			int line, col;
			char_loc(user, p, &line, &col);
			err_prefix(x->err, "line %d, column %d of the compiled SQL (sluice compile %s --select)", line, col,
				   x->j->model);
		}
	}
	pg_clear(refused);
	if (what)
		err_prefix(x->err, "%s", what);
	return err_code(x->err);
}

static int run(struct mx *x, const char *what, const char *sql)
{
	return run_sql(x, what, sql, 0, NULL, NULL, NULL);
}

/* A read of the catalog: on a server only (a plan says what it decides). */
static int ask(struct mx *x, const char *what, const char *sql, int n, const char *const *params,
	       struct pg_result **out)
{
	*out = NULL;
	if (!x->c)
		return 0;
	return run_sql(x, what, sql, n, params, NULL, out);
}

/* Runs b's text and frees it. */
static int run_buf(struct mx *x, const char *what, struct strbuf *b, const char *user, int64_t *rows)
{
	struct pg_result *r = NULL;
	int rc = run_sql(x, what, b->s ? b->s : "", 0, NULL, user, rows ? &r : NULL);
	if (rows)
		*rows = r ? pg_cmd_rows(r) : 0;
	pg_clear(r);
	sb_free(b);
	return rc;
}

/* Writes tmpl once per column, joined by sep, each '%' in it the column's
 * quoted name. A column without a name (a plan that cannot know the SELECT's
 * columns) is written as COLUMN and an ellipsis. */
static void each(const struct mx *x, struct strbuf *b, const struct mat_col *v, size_t n, const char *tmpl,
		 const char *sep)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_adds(b, sep);
		for (const char *t = tmpl; *t; t++) {
			if (*t != '%')
				sb_addc(b, *t);
			else if (v[i].name)
				ident(x, b, v[i].name);
			else
				sb_adds(b, "COLUMN");
		}
		if (!v[i].name) {
			sb_adds(b, sep);
			sb_adds(b, "...");
		}
	}
}

/* ---- what is there ---------------------------------------------------------------------- */

/* The relkind of the model's relation: 'r', 'v', 'p', 'm', 'f', or 0 when
 * there is none (a plan: what x->exists says). */
static int relkind(struct mx *x, char *kind)
{
	*kind = x->exists ? (x->j->mat == MAT_VIEW ? 'v' : 'r') : 0;
	const char *p[] = {x->j->schema, x->j->name};
	struct pg_result *r;
	if (ask(x, "looking for the model's relation", SQL_RELKIND, 2, p, &r) < 0)
		return -1;
	if (r)
		*kind = pg_rows(r) ? pg_val(r, 0, 0)[0] : 0;
	pg_clear(r);
	return 0;
}

/* The columns of a relation (rel: its name as SQL writes it). A plan
 * knows only the contract's, or none: one nameless column. */
static int columns(struct mx *x, const char *rel, struct cols *out)
{
	memset(out, 0, sizeof *out);
	if (!x->c) {
		for (size_t i = 0; i < x->j->n_contract; i++)
			cols_add(out, x->j->contract[i].name, x->j->contract[i].type ? x->j->contract[i].type : "");
		if (!out->n) {
			out->v = xcalloc(1, sizeof *out->v);
			out->n = 1;
		}
		return 0;
	}
	struct pg_result *r;
	if (ask(x, "reading the columns", SQL_COLUMNS, 1, &rel, &r) < 0)
		return -1;
	for (int i = 0; i < pg_rows(r); i++)
		cols_add(out, pg_val(r, i, 0), pg_val(r, i, 1));
	pg_clear(r);
	return 0;
}

/* The SELECT's columns against the contract, before anything is replaced. */
static int contract(struct mx *x, const struct cols *got)
{
	const struct mat_job *j = x->j;
	if (!j->n_contract)
		return 0;
	if (!x->c) {
		note(x, "the SELECT's columns are checked against the model's contract here");
		return 0;
	}
	struct strbuf m = {0};
	if (mat_contract_diff(j->contract, j->n_contract, got->v, got->n, &m) == 0)
		return 0;
	err_set(x->err, "model '%s' breaks its contract (%s): %s; nothing was changed", j->model, j->path ? j->path : "",
		m.s);
	sb_free(&m);
	return -1;
}

/* The SELECT's columns without building anything: a temporary view. */
static int probe(struct mx *x, const char *sel, struct cols *out)
{
	memset(out, 0, sizeof *out);
	struct strbuf b = {0};
	sb_adds(&b, SQL_PROBE);
	sb_adds(&b, sel);
	sb_addc(&b, '\n');
	if (run_buf(x, "the model's SELECT", &b, sel, NULL) < 0 || columns(x, SQL_PROBE_REL, out) < 0)
		return -1;
	return run(x, NULL, SQL_PROBE_DROP);
}

/* The contract checked on a probe of sel, when there is one. */
static int probe_contract(struct mx *x, const char *sel)
{
	if (!x->j->n_contract)
		return 0;
	struct cols got;
	int rc = probe(x, sel, &got);
	if (rc == 0)
		rc = contract(x, &got);
	cols_free(&got);
	return rc;
}

/* ---- swapping a new relation in ---------------------------------------------------- */

struct dep {
	char *name, *def, *options;
};

struct deps {
	struct dep *v;
	size_t n;
};

static void deps_free(struct deps *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].def);
		free(d->v[i].options);
	}
	free(d->v);
}

/* The views that read the model's relation, with their definitions taken
 * before it is renamed (after it, they would name the old one). */
static int dependents(struct mx *x, struct deps *out)
{
	memset(out, 0, sizeof *out);
	if (!x->c)
		return 0;
	struct pg_result *path = NULL, *r = NULL;
	const char *const catalog[] = {"pg_catalog"};
	int rc = ask(x, "reading the search_path", SQL_PATH_GET, 0, NULL, &path);
	if (rc == 0)
		rc = run_sql(x, NULL, SQL_PATH_SET, 1, catalog, NULL, NULL);
	if (rc == 0)
		rc = ask(x, "finding the views that read it", SQL_DEPENDENTS, 1, (const char *const *)&x->rel, &r);
	for (int i = 0; rc == 0 && i < pg_rows(r); i++) {
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = (struct dep){xstrdup(pg_val(r, i, 0)), xstrdup(pg_val(r, i, 1)),
						pg_isnull(r, i, 2) ? NULL : xstrdup(pg_val(r, i, 2))};
	}
	pg_clear(r);
	if (rc == 0) {
		const char *was = pg_val(path, 0, 0);
		rc = run_sql(x, NULL, SQL_PATH_SET, 1, &was, NULL, NULL);
	}
	pg_clear(path);
	return rc;
}

static const char *drop_word(char kind)
{
	switch (kind) {
	case 'v': return "VIEW";
	case 'm': return "MATERIALIZED VIEW";
	case 'f': return "FOREIGN TABLE";
	default: return "TABLE";
	}
}

/* The relation built beside (new_rel) takes the model's name in one go:
 * the old one is renamed away, the new one renamed in, each view that read
 * the old one is made to read the new one, and the old one dropped.
 *
 * Why this and not TRUNCATE + INSERT into the table that is there: the new
 * table is built while readers go on reading the old one; their wait is the
 * swap alone (catalog updates: a millisecond or two), where TRUNCATE holds
 * its ACCESS EXCLUSIVE lock through the whole INSERT (measured on the
 * embedded PostgreSQL 15, 2M rows of (int, md5 text), a reader running
 * `select 1 from t limit 1` in a loop: its longest wait was 2 to 4 ms
 * across a swap, 850 to 970 ms across TRUNCATE + INSERT), and a shape
 * change would need the swap anyway. A rename alone
 * would leave the views bound to the old table's OID, so DROP would refuse
 * (or CASCADE would take them): CREATE OR REPLACE VIEW with each view's own
 * definition binds it to the new table and keeps its OID, owner, grants,
 * comments and the views that read it. The views are locked before the
 * table, in the order a reader of a view takes them, so a reader and the
 * swap never wait on each other in a circle. */
static int swap_in(struct mx *x, char kind, struct mat_stats *st)
{
	struct deps d;
	if (dependents(x, &d) < 0)
		return -1;
	struct strbuf b = {0};
	sb_adds(&b, "LOCK TABLE ");
	for (size_t i = 0; i < d.n; i++)
		sb_addf(&b, "%s, ", d.v[i].name);
	sb_addf(&b, "%s IN ACCESS EXCLUSIVE MODE", x->rel);
	int rc = run_buf(x, "locking it", &b, NULL, NULL);
	if (rc == 0) {
		sb_addf(&b, "ALTER TABLE %s RENAME TO ", x->rel);
		ident(x, &b, x->old_name);
		rc = run_buf(x, "renaming the old relation away", &b, NULL, NULL);
	}
	if (rc == 0) {
		sb_addf(&b, "ALTER TABLE %s RENAME TO ", x->new_rel);
		ident(x, &b, x->j->name);
		rc = run_buf(x, "renaming the new relation in", &b, NULL, NULL);
	}
	note(x, "each view that reads it: CREATE OR REPLACE VIEW with its own definition (pg_get_viewdef)");
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		sb_addf(&b, "CREATE OR REPLACE VIEW %s%s%s%s AS %s", d.v[i].name, d.v[i].options ? " WITH (" : "",
			d.v[i].options ? d.v[i].options : "", d.v[i].options ? ")" : "", d.v[i].def);
		char what[600];
		snprintf(what, sizeof what, "view %s reads %s and cannot follow the new one", d.v[i].name, x->rel);
		rc = run_buf(x, what, &b, NULL, NULL);
	}
	st->dependents = (int)d.n;
	deps_free(&d);
	if (rc == 0) {
		sb_addf(&b, "DROP %s %s", drop_word(kind), x->old_rel);
		rc = run_buf(x, "dropping the old relation", &b, NULL, NULL);
	}
	return rc;
}

/* ---- view and table ------------------------------------------------------------------------ */

static int create_view(struct mx *x, const char *how, const char *rel, const char *sel)
{
	struct strbuf b = {0};
	sb_addf(&b, "%s %s AS\n%s\n", how, rel, sel);
	return run_buf(x, "the model's SELECT", &b, sel, NULL);
}

static int build_view(struct mx *x, const char *sel, struct mat_stats *st)
{
	char kind;
	if (relkind(x, &kind) < 0 || probe_contract(x, sel) < 0)
		return -1;
	if (!kind) {
		st->action = "created";
		return create_view(x, "CREATE VIEW", x->rel, sel);
	}
	if (kind == 'v') {
		st->action = "replaced";
		if (run(x, NULL, SQL_SAVEPOINT) < 0)
			return -1;
		note(x, "if its columns changed so that CREATE OR REPLACE refuses them, the view is built beside and "
			"swapped in (as a table is)");
		if (create_view(x, "CREATE OR REPLACE VIEW", x->rel, sel) == 0)
			return run(x, NULL, SQL_RELEASE);
		if (strcmp(x->sqlstate, SQLSTATE_VIEW_COLUMNS) && strcmp(x->sqlstate, SQLSTATE_VIEW_TYPES))
			return -1;
		if (run(x, NULL, SQL_ROLLBACK_TO) < 0)
			return -1;
		err_clear(x->err);
		st->action = "rebuilt (its columns changed)";
	} else {
		st->action = kind == 'm' ? "replaced the materialized view" : "replaced the table";
	}
	if (create_view(x, "CREATE VIEW", x->new_rel, sel) < 0)
		return -1;
	return swap_in(x, kind, st);
}

static int create_table_as(struct mx *x, const char *rel, const char *sel, struct mat_stats *st)
{
	struct strbuf b = {0};
	sb_addf(&b, "CREATE TABLE %s AS\n%s\n", rel, sel);
	return run_buf(x, "the model's SELECT", &b, sel, &st->batch);
}

static int build_table(struct mx *x, const char *sel, struct mat_stats *st)
{
	char kind;
	if (relkind(x, &kind) < 0 || probe_contract(x, sel) < 0)
		return -1;
	if (!kind) {
		st->action = "created";
		return create_table_as(x, x->rel, sel, st);
	}
	st->action = "built beside and swapped in";
	if (create_table_as(x, x->new_rel, sel, st) < 0)
		return -1;
	st->inserted = st->batch;
	return swap_in(x, kind, st);
}

/* ---- the batch of an incremental or a snapshot ------------------------------------------------ */

static void key_cols(const struct mat_job *j, struct mat_col *out)
{
	for (size_t i = 0; i < j->n_key; i++)
		out[i] = (struct mat_col){j->key[i], NULL};
}

static bool is_key(const struct mat_job *j, const char *name)
{
	for (size_t i = 0; i < j->n_key; i++)
		if (!strcmp(j->key[i], name))
			return true;
	return false;
}

/* The SELECT into a temporary table: its rows are what the build writes,
 * its catalog says what columns the SELECT gives. */
static int batch(struct mx *x, const char *sel, struct cols *got, struct mat_stats *st)
{
	memset(got, 0, sizeof *got);
	struct strbuf b = {0};
	sb_adds(&b, SQL_BATCH);
	sb_adds(&b, sel);
	sb_addc(&b, '\n');
	if (run_buf(x, "the model's SELECT", &b, sel, &st->batch) < 0 || columns(x, SQL_BATCH_REL, got) < 0)
		return -1;
	if (contract(x, got) < 0)
		return -1;
	for (size_t i = 0; x->c && i < x->j->n_key; i++)
		if (!col_find(got->v, got->n, x->j->key[i]))
			return err_set(x->err, "unique_key column '%s' is not a column of the model's SELECT", x->j->key[i]);
	return 0;
}

/* Before a merge, delete+insert or snapshot writes anything: a NULL or a
 * repeated key in the batch is an error that names those keys. A merge or a
 * snapshot matches one target row to one batch row, so a repeated key has
 * no answer; delete+insert deletes the rows of the batch's keys and inserts
 * every batch row, so a key may repeat (a day's rows under its date). Its
 * NULL keys are still refused: NULL matches nothing, so such rows would never
 * be deleted again and each rerun of the batch would add them once more. */
static int key_check(struct mx *x, bool repeats_ok)
{
	const struct mat_job *j = x->j;
	struct mat_col *k = xcalloc(j->n_key, sizeof *k);
	key_cols(j, k);
	struct strbuf b = {0};
	sb_adds(&b, "SELECT ");
	each(x, &b, k, j->n_key, "d.%::text", ", ");
	sb_adds(&b, ", d.sluice_n, count(*) OVER (), sum(d.sluice_n) OVER () FROM (SELECT ");
	each(x, &b, k, j->n_key, "%", ", ");
	sb_addf(&b, ", count(*) AS sluice_n FROM %s GROUP BY ", BATCH);
	each(x, &b, k, j->n_key, "%", ", ");
	sb_adds(&b, repeats_ok ? " HAVING " : " HAVING count(*) > 1 OR ");
	each(x, &b, k, j->n_key, "% IS NULL", " OR ");
	sb_addf(&b, ") d ORDER BY d.sluice_n DESC, 1 LIMIT %d", BAD_KEYS_SHOWN);
	free(k);
	const char *what = repeats_ok ? "NULL" : "NULL or repeated";
	note(x, repeats_ok ? "NULL keys in the batch fail the build here, before anything is written"
			   : "NULL or repeated keys in the batch fail the build here, before anything is written");
	struct pg_result *r = NULL;
	int rc = run_sql(x, "checking the batch's keys", b.s, 0, NULL, NULL, x->c ? &r : NULL);
	sb_free(&b);
	if (rc < 0 || !pg_rows(r)) {
		pg_clear(r);
		return rc;
	}
	int nk = (int)j->n_key;
	struct strbuf m = {0};
	for (int i = 0; i < pg_rows(r); i++) {
		sb_adds(&m, i ? "; " : "");
		for (int c = 0; c < nk; c++)
			sb_addf(&m, "%s%s=%s", c ? ", " : "", j->key[c], pg_isnull(r, i, c) ? "NULL" : pg_val(r, i, c));
		long n = atol(pg_val(r, i, nk));
		sb_addf(&m, ": %ld row%s", n, n == 1 ? "" : "s");
	}
	long groups = atol(pg_val(r, 0, nk + 1));
	if (groups > pg_rows(r))
		sb_addf(&m, "; and %ld more", groups - pg_rows(r));
	struct strbuf names = {0};
	for (int c = 0; c < nk; c++)
		sb_addf(&names, "%s%s", c ? ", " : "", j->key[c]);
	err_set(x->err, "unique_key (%s): %ld key%s of the new rows %s %s (%s rows), nothing was written: %s", names.s,
		groups, groups == 1 ? "" : "s", groups == 1 ? "is" : "are", what, pg_val(r, 0, nk + 2), m.s);
	sb_free(&names);
	sb_free(&m);
	pg_clear(r);
	return -1;
}

/* Every column of the batch must be one of the table's. */
static int batch_fits(struct mx *x, const struct cols *got, const struct cols *have)
{
	for (size_t i = 0; x->c && i < got->n; i++)
		if (!col_find(have->v, have->n, got->v[i].name))
			return err_set(x->err,
				       "column '%s' of the model's SELECT is not in %s (a full refresh rebuilds it with the "
				       "new columns)",
				       got->v[i].name, x->rel);
	return 0;
}

/* ---- incremental -------------------------------------------------------------------------------- */

static int merge(struct mx *x, const struct cols *got, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	struct mat_col *k = xcalloc(j->n_key, sizeof *k), *rest = xcalloc(got->n + 1, sizeof *rest);
	key_cols(j, k);
	size_t n_rest = 0;
	for (size_t i = 0; i < got->n; i++)
		if (!got->v[i].name || !is_key(j, got->v[i].name))
			rest[n_rest++] = got->v[i];
	/* MERGE's command tag is one count: the rows it inserts are the
	 * batch's rows without a match, counted first */
	struct strbuf b = {0};
	int64_t matched = 0, merged = 0;
	int rc = 0;
	if (x->c) {
		sb_addf(&b, "SELECT count(*) FROM %s AS b WHERE EXISTS (SELECT 1 FROM %s AS t WHERE ", BATCH, x->rel);
		each(x, &b, k, j->n_key, "t.% = b.%", " AND ");
		sb_adds(&b, ")");
		struct pg_result *r = NULL;
		rc = run_sql(x, "counting the rows that match", b.s, 0, NULL, NULL, &r);
		sb_free(&b);
		matched = r ? atoll(pg_val(r, 0, 0)) : 0;
		pg_clear(r);
	}
	if (rc == 0) {
		sb_addf(&b, "MERGE INTO %s AS t USING %s AS b ON ", x->rel, BATCH);
		each(x, &b, k, j->n_key, "t.% = b.%", " AND ");
		if (n_rest) {
			sb_adds(&b, "\nWHEN MATCHED THEN UPDATE SET ");
			each(x, &b, rest, n_rest, "% = b.%", ", ");
		} else {
			sb_adds(&b, "\nWHEN MATCHED THEN DO NOTHING");
		}
		sb_adds(&b, "\nWHEN NOT MATCHED THEN INSERT (");
		each(x, &b, got->v, got->n, "%", ", ");
		sb_adds(&b, ") VALUES (");
		each(x, &b, got->v, got->n, "b.%", ", ");
		sb_adds(&b, ")");
		rc = run_buf(x, "merging", &b, NULL, &merged);
	}
	st->inserted = st->batch - matched;
	st->updated = merged - st->inserted;
	free(k);
	free(rest);
	return rc;
}

static int insert_batch(struct mx *x, const struct cols *got, struct mat_stats *st)
{
	struct strbuf b = {0};
	sb_addf(&b, "INSERT INTO %s (", x->rel);
	each(x, &b, got->v, got->n, "%", ", ");
	sb_adds(&b, ") SELECT ");
	each(x, &b, got->v, got->n, "%", ", ");
	sb_addf(&b, " FROM %s", BATCH);
	return run_buf(x, "inserting the new rows", &b, NULL, &st->inserted);
}

static int delete_insert(struct mx *x, const struct cols *got, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	struct mat_col *k = xcalloc(j->n_key, sizeof *k);
	key_cols(j, k);
	struct strbuf b = {0};
	sb_addf(&b, "DELETE FROM %s AS t USING %s AS b WHERE ", x->rel, BATCH);
	each(x, &b, k, j->n_key, "t.% = b.%", " AND ");
	free(k);
	if (run_buf(x, "deleting the rows the batch replaces", &b, NULL, &st->deleted) < 0)
		return -1;
	return insert_batch(x, got, st);
}

static int build_incremental(struct mx *x, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	char kind;
	if (relkind(x, &kind) < 0)
		return -1;
	if ((kind != 'r' && kind != 'p') || j->full_refresh) {
		note(x, "is_incremental() is false: built as a table");
		int rc = build_table(x, j->sql, st);
		st->action = kind ? "rebuilt in full" : "created";
		return rc;
	}
	st->incremental = true;
	note(x, "is_incremental() is true: the new rows into a temporary table first");
	struct cols got, have = {0};
	int rc = batch(x, j->sql_incremental, &got, st);
	if (rc == 0)
		rc = columns(x, x->rel, &have);
	if (rc == 0)
		rc = batch_fits(x, &got, &have);
	if (rc == 0 && j->strategy != INC_APPEND)
		rc = key_check(x, j->strategy == INC_DELETE_INSERT);
	if (rc == 0) {
		switch (j->strategy) {
		case INC_MERGE:
			st->action = "merged";
			rc = merge(x, &got, st);
			break;
		case INC_DELETE_INSERT:
			st->action = "deleted and inserted";
			rc = delete_insert(x, &got, st);
			break;
		case INC_APPEND:
			st->action = "appended";
			rc = insert_batch(x, &got, st);
			break;
		}
	}
	cols_free(&got);
	cols_free(&have);
	return rc;
}

/* ---- snapshot ------------------------------------------------------------------------------------- */

/* The pieces of a snapshot's statements, as SQL text. */
struct snap_sql {
	char *vf_type;   /* valid_from's type */
	char *now;       /* this run's time as that type */
	char *vtc;       /* valid_to of a current row */
	char *vf_b;      /* a batch row's valid_from (alias b) */
};

static void snap_sql_free(struct snap_sql *q)
{
	free(q->vf_type);
	free(q->now);
	free(q->vtc);
	free(q->vf_b);
}

/* t.valid_to says the row is current */
static void current(const struct mx *x, struct strbuf *b, const struct snap_sql *q)
{
	sb_adds(b, "t.");
	ident(x, b, COL_VALID_TO);
	sb_addf(b, " IS NOT DISTINCT FROM %s", q->vtc);
}

/* md5 of the key columns and valid_from, each as text, joined by '|' (as
 * seed 000 builds its items' ids). */
static void scd_id(const struct mx *x, struct strbuf *b, const char *alias, const char *vf)
{
	const struct mat_job *j = x->j;
	sb_adds(b, "md5(");
	for (size_t i = 0; i < j->n_key; i++) {
		sb_addf(b, "%s.", alias);
		ident(x, b, j->key[i]);
		sb_adds(b, "::text || '|' || ");
	}
	sb_addf(b, "(%s)::text)", vf);
}

static void key_match(const struct mx *x, struct strbuf *b)
{
	struct mat_col *k = xcalloc(x->j->n_key, sizeof *k);
	key_cols(x->j, k);
	each(x, b, k, x->j->n_key, "t.% = b.%", " AND ");
	free(k);
}

static int snap_first(struct mx *x, const struct snap_sql *q, struct mat_stats *st)
{
	struct strbuf b = {0};
	sb_adds(&b, "CREATE TABLE ");
	sb_adds(&b, x->rel);
	sb_adds(&b, " AS SELECT b.*, ");
	scd_id(x, &b, "b", q->vf_b);
	sb_adds(&b, " AS ");
	ident(x, &b, COL_SCD_ID);
	sb_addf(&b, ", %s AS ", q->vf_b);
	ident(x, &b, COL_VALID_FROM);
	sb_addf(&b, ", %s AS ", q->vtc);
	ident(x, &b, COL_VALID_TO);
	if (x->j->hard_deletes == HD_NEW_RECORD) {
		sb_adds(&b, ", false AS ");
		ident(x, &b, COL_IS_DELETED);
	}
	sb_addf(&b, " FROM %s AS b", BATCH);
	st->action = "created";
	return run_buf(x, "creating the snapshot", &b, NULL, &st->inserted);
}

/* The table must be a snapshot; the batch's new columns are added to it. */
static int snap_columns(struct mx *x, const struct cols *got, struct cols *have)
{
	if (columns(x, x->rel, have) < 0)
		return -1;
	if (!x->c)
		return 0;
	const char *meta[] = {COL_SCD_ID, COL_VALID_FROM, COL_VALID_TO};
	for (size_t i = 0; i < 3; i++)
		if (!col_find(have->v, have->n, meta[i]))
			return err_set(x->err, "%s has no column %s: it is not a snapshot table", x->rel, meta[i]);
	struct strbuf b = {0};
	for (size_t i = 0; i < got->n; i++) {
		if (col_find(have->v, have->n, got->v[i].name))
			continue;
		sb_addf(&b, "ALTER TABLE %s ADD COLUMN ", x->rel);
		ident(x, &b, got->v[i].name);
		sb_addf(&b, " %s", got->v[i].type);
		if (run_buf(x, "adding a new column to the snapshot", &b, NULL, NULL) < 0)
			return -1;
		cols_add(have, got->v[i].name, got->v[i].type);
	}
	if (x->j->hard_deletes == HD_NEW_RECORD && !col_find(have->v, have->n, COL_IS_DELETED)) {
		sb_addf(&b, "ALTER TABLE %s ADD COLUMN ", x->rel);
		ident(x, &b, COL_IS_DELETED);
		sb_adds(&b, " boolean NOT NULL DEFAULT false");
		if (run_buf(x, "adding is_deleted to the snapshot", &b, NULL, NULL) < 0)
			return -1;
	}
	return 0;
}

/* Closes the current rows whose key comes back changed. */
static int snap_close_changed(struct mx *x, const struct snap_sql *q, const struct cols *got, int64_t *n)
{
	const struct mat_job *j = x->j;
	struct strbuf b = {0};
	sb_addf(&b, "UPDATE %s AS t SET ", x->rel);
	ident(x, &b, COL_VALID_TO);
	sb_addf(&b, " = %s FROM %s AS b WHERE ", q->vf_b, BATCH);
	current(x, &b, q);
	sb_adds(&b, " AND ");
	key_match(x, &b);
	sb_adds(&b, " AND (");
	if (j->snap == SNAP_TIMESTAMP) {
		sb_adds(&b, "b.");
		ident(x, &b, j->updated_at);
		sb_adds(&b, " > t.");
		ident(x, &b, COL_VALID_FROM);
	} else if (j->check_all) {
		struct mat_col *c = xcalloc(got->n + 1, sizeof *c);
		size_t nc = 0;
		for (size_t i = 0; i < got->n; i++)
			if (!got->v[i].name || !is_key(j, got->v[i].name))
				c[nc++] = got->v[i];
		if (nc)
			each(x, &b, c, nc, "b.% IS DISTINCT FROM t.%", " OR ");
		else
			sb_adds(&b, "false");
		free(c);
	} else {
		struct mat_col *c = xcalloc(j->n_check_cols, sizeof *c);
		for (size_t i = 0; i < j->n_check_cols; i++)
			c[i] = (struct mat_col){j->check_cols[i], NULL};
		each(x, &b, c, j->n_check_cols, "b.% IS DISTINCT FROM t.%", " OR ");
		free(c);
	}
	if (j->hard_deletes == HD_NEW_RECORD) {
		/* a key that comes back after its deletion was recorded */
		sb_adds(&b, " OR t.");
		ident(x, &b, COL_IS_DELETED);
	}
	sb_adds(&b, ")");
	return run_buf(x, "closing the rows that changed", &b, NULL, n);
}

/* A row for every key of the batch without a current row: new keys, and
 * the ones just closed. */
static int snap_insert(struct mx *x, const struct snap_sql *q, const struct cols *got, int64_t *n)
{
	struct strbuf b = {0};
	sb_addf(&b, "INSERT INTO %s (", x->rel);
	each(x, &b, got->v, got->n, "%", ", ");
	sb_adds(&b, ", ");
	ident(x, &b, COL_SCD_ID);
	sb_adds(&b, ", ");
	ident(x, &b, COL_VALID_FROM);
	sb_adds(&b, ", ");
	ident(x, &b, COL_VALID_TO);
	if (x->j->hard_deletes == HD_NEW_RECORD) {
		sb_adds(&b, ", ");
		ident(x, &b, COL_IS_DELETED);
	}
	sb_adds(&b, ") SELECT ");
	each(x, &b, got->v, got->n, "b.%", ", ");
	sb_adds(&b, ", ");
	scd_id(x, &b, "b", q->vf_b);
	sb_addf(&b, ", %s, %s%s FROM %s AS b WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE ", q->vf_b, q->vtc,
		x->j->hard_deletes == HD_NEW_RECORD ? ", false" : "", BATCH, x->rel);
	current(x, &b, q);
	sb_adds(&b, " AND ");
	key_match(x, &b);
	sb_adds(&b, ")");
	return run_buf(x, "inserting the new versions", &b, NULL, n);
}

/* The current rows whose key the batch no longer has. */
static int snap_deletes(struct mx *x, const struct snap_sql *q, const struct cols *have, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	if (j->hard_deletes == HD_IGNORE)
		return 0;
	struct strbuf b = {0};
	bool marker = j->hard_deletes == HD_NEW_RECORD;
	if (marker)
		sb_adds(&b, "WITH gone AS (");
	sb_addf(&b, "UPDATE %s AS t SET ", x->rel);
	ident(x, &b, COL_VALID_TO);
	sb_addf(&b, " = %s WHERE ", q->now);
	current(x, &b, q);
	if (marker) {
		sb_adds(&b, " AND NOT t.");
		ident(x, &b, COL_IS_DELETED);
	}
	sb_addf(&b, " AND NOT EXISTS (SELECT 1 FROM %s AS b WHERE ", BATCH);
	key_match(x, &b);
	sb_adds(&b, ")");
	if (marker) {
		/* the deleted row, once more, as the current one marked deleted */
		struct mat_col *c = xcalloc(have->n + 1, sizeof *c);
		size_t nc = 0;
		for (size_t i = 0; i < have->n; i++) {
			const char *name = have->v[i].name;
			if (!name || (strcmp(name, COL_SCD_ID) && strcmp(name, COL_VALID_FROM) && strcmp(name, COL_VALID_TO) &&
				      strcmp(name, COL_IS_DELETED)))
				c[nc++] = have->v[i];
		}
		sb_adds(&b, " RETURNING t.*)\nINSERT INTO ");
		sb_adds(&b, x->rel);
		sb_adds(&b, " (");
		each(x, &b, c, nc, "%", ", ");
		sb_adds(&b, ", ");
		ident(x, &b, COL_SCD_ID);
		sb_adds(&b, ", ");
		ident(x, &b, COL_VALID_FROM);
		sb_adds(&b, ", ");
		ident(x, &b, COL_VALID_TO);
		sb_adds(&b, ", ");
		ident(x, &b, COL_IS_DELETED);
		sb_adds(&b, ") SELECT ");
		each(x, &b, c, nc, "g.%", ", ");
		sb_adds(&b, ", ");
		scd_id(x, &b, "g", q->now);
		sb_addf(&b, ", %s, %s, true FROM gone AS g", q->now, q->vtc);
		free(c);
	}
	int64_t n = 0;
	int rc = run_buf(x, "recording the deleted rows", &b, NULL, &n);
	st->deleted = n;
	if (marker)
		st->inserted += n;
	st->updated += n;
	return rc;
}

/* A batch row without updated_at cannot get a valid_from. */
static int snap_null_updated_at(struct mx *x)
{
	if (!x->c || x->j->snap != SNAP_TIMESTAMP)
		return 0;
	struct strbuf b = {0};
	sb_addf(&b, "SELECT count(*) FROM %s WHERE ", BATCH);
	ident(x, &b, x->j->updated_at);
	sb_adds(&b, " IS NULL");
	struct pg_result *r = NULL;
	int rc = run_sql(x, "checking updated_at", b.s, 0, NULL, NULL, &r);
	sb_free(&b);
	long n = r ? atol(pg_val(r, 0, 0)) : 0;
	pg_clear(r);
	if (rc == 0 && n > 0)
		rc = err_set(x->err, "updated_at column '%s' is NULL in %ld row%s of the batch, nothing was written",
			     x->j->updated_at, n, n == 1 ? "" : "s");
	return rc;
}

static int snap_prepare(struct mx *x, const struct cols *got, struct snap_sql *q)
{
	const struct mat_job *j = x->j;
	memset(q, 0, sizeof *q);
	const char *reserved[] = {COL_SCD_ID, COL_VALID_FROM, COL_VALID_TO, COL_IS_DELETED};
	for (size_t i = 0; x->c && i < 4; i++)
		if (col_find(got->v, got->n, reserved[i]))
			return err_set(x->err, "the snapshot's SELECT has a column '%s', which the snapshot adds itself",
				       reserved[i]);
	if (j->snap == SNAP_TIMESTAMP) {
		const struct mat_col *u = x->c ? col_find(got->v, got->n, j->updated_at) : NULL;
		if (x->c && !u)
			return err_set(x->err, "updated_at column '%s' is not a column of the model's SELECT", j->updated_at);
		q->vf_type = xstrdup(u ? u->type : "timestamp without time zone");
		struct strbuf b = {0};
		sb_adds(&b, "b.");
		ident(x, &b, j->updated_at);
		q->vf_b = sb_steal(&b);
	} else {
		for (size_t i = 0; x->c && i < j->n_check_cols; i++)
			if (!col_find(got->v, got->n, j->check_cols[i]))
				return err_set(x->err, "check_cols column '%s' is not a column of the model's SELECT",
					       j->check_cols[i]);
		q->vf_type = xstrdup("timestamp with time zone");
	}
	q->now = xasprintf("CAST(now() AS %s)", q->vf_type);
	if (!q->vf_b)
		q->vf_b = xstrdup(q->now);
	q->vtc = xasprintf("CAST(%s AS %s)", j->valid_to_current ? j->valid_to_current : "NULL", q->vf_type);
	return 0;
}

static int build_snapshot(struct mx *x, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	char kind;
	/* scd_id hashes valid_from as text: one way of writing it */
	if (run(x, NULL, SQL_DATESTYLE) < 0 || relkind(x, &kind) < 0)
		return -1;
	if (j->full_refresh)
		note(x, "full_refresh does not apply to a snapshot: its history is kept");
	struct cols got, have = {0};
	struct snap_sql q = {0};
	int rc = batch(x, j->sql, &got, st);
	if (rc == 0)
		rc = snap_prepare(x, &got, &q);
	if (rc == 0)
		rc = key_check(x, false);
	if (rc == 0)
		rc = snap_null_updated_at(x);
	if (rc == 0 && !kind) {
		rc = snap_first(x, &q, st);
	} else if (rc == 0) {
		st->incremental = true;
		st->action = "snapshot taken";
		int64_t closed = 0, added = 0;
		rc = snap_columns(x, &got, &have);
		if (rc == 0)
			rc = snap_close_changed(x, &q, &got, &closed);
		if (rc == 0)
			rc = snap_insert(x, &q, &got, &added);
		st->updated = closed;
		st->inserted = added;
		if (rc == 0)
			rc = snap_deletes(x, &q, &have, st);
	}
	snap_sql_free(&q);
	cols_free(&got);
	cols_free(&have);
	return rc;
}

/* ---- a build ---------------------------------------------------------------------------------------- */

/* The user's SELECT as the statements embed it: without a trailing ';'. */
static char *select_text(const char *sql)
{
	size_t n = strlen(sql ? sql : "");
	while (n && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
		n--;
	return xstrndup(sql ? sql : "", n);
}

/* The schema, created when missing. Looked up first: CREATE SCHEMA IF NOT
 * EXISTS wants the CREATE privilege on the database even when the schema
 * is there. */
static int ensure_schema(struct mx *x)
{
	struct pg_result *r;
	if (ask(x, "looking for its schema", SQL_SCHEMA_EXISTS, 1, &x->j->schema, &r) < 0)
		return -1;
	bool there = r && pg_rows(r) > 0;
	pg_clear(r);
	if (there)
		return 0;
	struct strbuf b = {0};
	if (x->c && run(x, NULL, SQL_SCHEMA_SAVEPOINT) < 0)
		return -1;
	sb_addf(&b, "CREATE SCHEMA IF NOT EXISTS %s", x->schema);
	if (run_buf(x, "creating its schema", &b, NULL, NULL) == 0)
		return x->c ? run(x, NULL, SQL_SCHEMA_RELEASE) : 0;
	if (strcmp(x->sqlstate, SQLSTATE_UNIQUE) || run(x, NULL, SQL_SCHEMA_ROLLBACK_TO) < 0)
		return -1;
	err_clear(x->err);
	return run(x, NULL, SQL_SCHEMA_RELEASE);
}

static int dispatch(struct mx *x, struct mat_stats *st)
{
	const struct mat_job *j = x->j;
	char *key = xasprintf("sluice.model:%s", x->rel);
	const char *p[] = {key};
	int rc = run_sql(x, "locking the model's relation", SQL_LOCK, 1, p, NULL, NULL);
	free(key);
	if (rc == 0)
		rc = ensure_schema(x);
	if (rc < 0)
		return rc;
	/* the job's SQL, trimmed, in place of its own for the build */
	struct mat_job t = *j;
	char *full = select_text(j->sql), *inc = select_text(j->sql_incremental);
	t.sql = full;
	t.sql_incremental = inc;
	x->j = &t;
	switch (j->mat) {
	case MAT_VIEW:
		rc = build_view(x, full, st);
		break;
	case MAT_TABLE:
		rc = build_table(x, full, st);
		if (rc == 0 && !st->inserted)
			st->inserted = st->batch;
		break;
	case MAT_INCREMENTAL:
		rc = build_incremental(x, st);
		if (rc == 0 && !st->incremental && !st->inserted)
			st->inserted = st->batch;
		break;
	case MAT_SNAPSHOT:
		rc = build_snapshot(x, st);
		break;
	}
	x->j = j;
	free(full);
	free(inc);
	return rc;
}

bool mat_job_idempotent(const struct mat_job *j)
{
	return j->mat == MAT_VIEW || j->mat == MAT_TABLE || (j->mat == MAT_INCREMENTAL && j->strategy != INC_APPEND);
}

int mat_build(struct pg_conn *c, const struct mat_job *j, struct ledger *lg, struct mat_stats *st,
	      struct err *err)
{
	memset(st, 0, sizeof *st);
	st->batch = -1;
	double t0 = now_wall();
	struct mx x;
	mx_init(&x, c, NULL, j, err);
	int rc = run(&x, NULL, "BEGIN");
	if (rc == 0)
		rc = dispatch(&x, st);
	if (rc == 0 && j->writer)
		rc = writes_note(c, j->writer, j->schema, j->name,
				 st->batch < 0 && j->mat == MAT_VIEW ? -1 : st->inserted + st->updated + st->deleted, err);
	if (rc == 0 && lg) {
		char what[300];
		snprintf(what, sizeof what, "model %s", j->model);
		rc = ledger_mark(lg, c, what, st->inserted + st->updated + st->deleted, err);
	}
	if (rc == 0)
		rc = run(&x, "committing", "COMMIT");
	else {
		struct err ignored = {0};
		pg_cmd(c, "ROLLBACK", 0, NULL, &ignored);
	}
	st->seconds = now_wall() - t0;
	mx_free(&x);
	return rc;
}

void mat_plan(const struct mat_job *j, bool exists, struct strbuf *out)
{
	struct err e = {0};
	struct mat_stats st;
	memset(&st, 0, sizeof st);
	struct mx x;
	mx_init(&x, NULL, out, j, &e);
	x.exists = exists;
	sb_addf(out, "-- model %s: %s", j->model, model_mat_name(j->mat));
	if (j->mat == MAT_INCREMENTAL)
		sb_addf(out, " (%s)", inc_strategy_name(j->strategy));
	if (j->mat == MAT_SNAPSHOT)
		sb_addf(out, " (%s, hard deletes %s)", snap_strategy_name(j->snap), hard_deletes_name(j->hard_deletes));
	sb_addf(out, " into %s, target %s, as on a run where it %s\n", x.rel, j->target ? j->target : "default",
		exists ? "exists" : "does not exist yet");
	plan_add(out, "BEGIN", 0, NULL);
	dispatch(&x, &st);
	plan_add(out, "COMMIT", 0, NULL);
	mx_free(&x);
}
