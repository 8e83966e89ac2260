/* Where a target puts each model: its schema rule rendered for the model,
 * and a model's SQL rendered with every ref, source and this named as the
 * target places it. */
#include "core/models/internal.h"

#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"

#define DEFAULT_RULE "{{ model.schema }}"

/* The target used when the project gives none (no project at all). */
static const struct target implicit = {.name = "default", .connection = "default"};

static const struct target *pick(const struct project *p, const struct target *t)
{
	if (t)
		return t;
	const struct target *d = p ? project_target(p, NULL) : NULL;
	return d ? d : &implicit;
}

/* "sluice.yml:L:C" of the target's rule, as messages show it. */
static void rule_where(const struct model_set *s, const struct target *t, char *buf, size_t cap)
{
	const char *root = s->root && strcmp(s->root, ".") ? s->root : NULL;
	if (t->schema_line)
		snprintf(buf, cap, "%s%ssluice.yml:%d:%d", root ? root : "", root ? "/" : "", t->schema_line, t->schema_col);
	else
		snprintf(buf, cap, "%s%ssluice.yml", root ? root : "", root ? "/" : "");
}

/* model_place without the rule's place in front of a message. */
static int place(const struct model_set *s, const struct target *t, int i, struct model_place *out, struct err *err)
{
	const struct model *m = &s->v[i];
	memset(out, 0, sizeof *out);
	const char *schema = m->cfg.schema ? m->cfg.schema : *m->folder ? m->folder : "public";
	const char *rule = t->schema ? t->schema : DEFAULT_RULE;
	struct mtmpl *tm;
	if (mtmpl_parse(rule, strlen(rule), MT_RULE, NULL, NULL, &tm) < 0) {
		mtmpl_free(tm);
		return err_set(err, "target '%s': the schema rule has errors (see 'sluice validate')", t->name);
	}
	struct mt_env env = {
		.target_name = t->name, .vars = s->vars, .model_name = m->name, .model_folder = m->folder,
		.model_dir = m->dir, .model_schema = schema,
	};
	struct strbuf b = {0};
	struct mt_error e = {0};
	int rc = mtmpl_render(tm, &env, &b, &e);
	mtmpl_free(tm);
	if (rc < 0) {
		sb_free(&b);
		/* the same for every model: said without naming one */
		return err_set(err, "target '%s': schema rule: %s", t->name, e.msg);
	}
	if (!b.len) {
		sb_free(&b);
		return err_set(err, "target '%s' gives model '%s' an empty schema", t->name, m->name);
	}
	if (b.len > PG_NAME_MAX) {
		err_set(err, "target '%s' gives model '%s' the schema '%s', %zu bytes; PostgreSQL keeps only %d", t->name,
			m->name, b.s, b.len, PG_NAME_MAX);
		sb_free(&b);
		return -1;
	}
	out->schema = sb_steal(&b);
	struct strbuf r = {0};
	mt_quote_ident(&r, out->schema);
	sb_addc(&r, '.');
	mt_quote_ident(&r, m->name);
	out->relation = sb_steal(&r);
	return 0;
}

int model_place(const struct model_set *s, const struct project *p, const struct target *t, int i,
		struct model_place *out, struct err *err)
{
	t = pick(p, t);
	if (place(s, t, i, out, err) == 0)
		return 0;
	char where[600];
	rule_where(s, t, where, sizeof where);
	return err_prefix(err, "%s", where);
}

void model_place_free(struct model_place *pl)
{
	free(pl->schema);
	free(pl->relation);
	pl->schema = pl->relation = NULL;
}

static bool same_db(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* A query reads one database: PostgreSQL has no cross-database names (a
 * dblink or postgres_fdw foreign table in the target's database stands for
 * a table elsewhere). So a source a model reads must be where the target
 * builds; one that says another place is an error, not SQL that reads
 * whatever the target's database has under that name. */
static int source_here(const struct source_table *st, const struct target *t, char *msg, size_t cap)
{
	if (!st->connection && !st->database)
		return 0;
	const char *conn = st->connection ? st->connection : t->connection;
	/* a connection without a database: that connection's own */
	const char *db = st->database ? st->database : st->connection ? NULL : t->database;
	if (!strcmp(conn, t->connection) && same_db(db, t->database))
		return 0;
	snprintf(msg, cap,
		 "source('%s', '%s') is on connection '%s'%s%s but target '%s' builds on connection '%s'%s%s: a query "
		 "cannot read another database, so the source's connection must be the target's database",
		 st->source, st->name, conn, db ? ", database " : "", db ? db : "", t->name, t->connection,
		 t->database ? ", database " : "", t->database ? t->database : "");
	return -1;
}

struct rel_arg {
	const struct model_set *s;
	const struct project *p;
	const struct target *t;
	int self;
};

static int relation(void *arg, enum mt_rel what, const char *a, const char *b, struct strbuf *out, char *msg,
		    size_t cap)
{
	const struct rel_arg *x = arg;
	if (what == MT_REL_SOURCE) {
		for (size_t i = 0; i < x->s->n_tables; i++) {
			const struct source_table *t = &x->s->tables[i];
			if (strcmp(t->source, a) || strcmp(t->name, b))
				continue;
			if (source_here(t, x->t, msg, cap) < 0)
				return -1;
			mt_quote_ident(out, t->schema);
			sb_addc(out, '.');
			mt_quote_ident(out, t->identifier);
			return 0;
		}
		snprintf(msg, cap, "source('%s', '%s'): no such source table", a, b);
		return -1;
	}
	int m = what == MT_REL_THIS ? x->self : models_find(x->s, a);
	if (m < 0) {
		snprintf(msg, cap, "ref('%s'): no model '%s'", a, a);
		return -1;
	}
	struct model_place pl;
	struct err e = {0};
	if (model_place(x->s, x->p, x->t, m, &pl, &e) < 0) {
		snprintf(msg, cap, "%s", e.msg);
		return -1;
	}
	sb_adds(out, pl.relation);
	model_place_free(&pl);
	return 0;
}

/* Renders model i; on failure *e says where in its file. */
static int render(const struct model_set *s, const struct project *p, const struct target *t, int i, bool incremental,
		  struct strbuf *out, struct mt_error *e, struct err *err)
{
	t = pick(p, t);
	const struct model *m = &s->v[i];
	if (!m->tmpl)
		return err_set(err, "%s: the file could not be read", m->path);
	struct model_place self;
	if (model_place(s, p, t, i, &self, err) < 0)
		return -1;
	struct rel_arg arg = {s, p, t, i};
	struct mt_env env = {
		.is_incremental = incremental, .target_name = t->name, .target_schema = self.schema, .vars = s->vars,
		.model_name = m->name, .relation = relation, .arg = &arg,
	};
	int rc = mtmpl_render(m->tmpl, &env, out, e);
	model_place_free(&self);
	return rc;
}

int model_render(const struct model_set *s, const struct project *p, const struct target *t, int i,
		 bool incremental, struct strbuf *out, struct err *err)
{
	struct mt_error e = {0};
	err_clear(err);
	int rc = render(s, p, t, i, incremental, out, &e, err);
	if (rc < 0 && err && !err->msg[0]) {
		int line, col;
		mtmpl_loc(s->v[i].sql, e.off, &line, &col);
		err_set(err, "%s:%d:%d: %s", s->v[i].path, line, col, e.msg);
	}
	return rc;
}

int models_render_check(const struct model_set *s, const struct project *p, const struct target *t, int c,
			struct strbuf *out, struct err *err)
{
	const struct model_check *k = &s->checks[c];
	err_clear(err);
	if (!k->tmpl)
		return err_set(err, "%s: the file could not be read", k->path ? k->path : k->name);
	t = pick(p, t);
	struct rel_arg arg = {s, p, t, -1};
	struct mt_env env = {
		.target_name = t->name, .vars = s->vars, .model_name = k->name, .relation = relation, .arg = &arg,
	};
	struct mt_error e = {0};
	if (mtmpl_render(k->tmpl, &env, out, &e) == 0)
		return 0;
	int line, col;
	mtmpl_loc(k->sql, e.off, &line, &col);
	return err_set(err, "%s:%d:%d: %s", k->path, line, col, e.msg);
}

int models_check_targets(const struct model_set *s, const struct project *p, struct diags *d)
{
	size_t before = d->n;
	char file[600];
	rule_where(s, &implicit, file, sizeof file);
	size_t n_targets = p ? p->n_targets : 1;
	for (size_t k = 0; k < n_targets; k++) {
		const struct target *t = p ? &p->targets[k] : &implicit;
		struct loc at = {file, t->schema_line ? t->schema_line : t->line, t->schema_line ? t->schema_col : t->col};
		char last[sizeof ((struct err *)0)->msg] = "";
		for (size_t i = 0; i < s->n; i++) {
			struct model_place pl;
			struct err e = {0};
			if (place(s, t, (int)i, &pl, &e) == 0) {
				model_place_free(&pl);
				continue;
			}
			if (strcmp(e.msg, last))
				diags_add(d, at, "%s", e.msg);
			snprintf(last, sizeof last, "%s", e.msg);
		}
	}
	/* each model's SQL under the default target, for env_var() and var();
	 * under the others too when a source says where it is (source_here) */
	const struct target *t = pick(p, NULL);
	bool placed = false;
	for (size_t i = 0; i < s->n_tables; i++)
		placed = placed || s->tables[i].connection || s->tables[i].database;
	struct strbuf b = {0};
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].tmpl)
			continue;
		/* the default first, then the others */
		for (size_t k = 0; k <= (placed && p ? p->n_targets : 0); k++) {
			const struct target *tk = k ? &p->targets[k - 1] : t;
			if (k && tk == t)
				continue;
			struct mt_error e = {0};
			struct err err = {0};
			sb_reset(&b);
			if (render(s, p, tk, (int)i, s->v[i].cfg.materialized == MAT_INCREMENTAL, &b, &e, &err) == 0 ||
			    err.msg[0])
				continue;
			struct loc at = {s->v[i].path, 0, 0};
			mtmpl_loc(s->v[i].sql, e.off, &at.line, &at.col);
			diags_add(d, at, "%s", e.msg);
			break; /* one error per model: the others would say it again */
		}
	}
	sb_free(&b);
	return d->n > before ? -1 : 0;
}

void models_reads_add(json_t *spec, const char *conn, const char *database, const char *schema, const char *table)
{
	json_t *a = json_object_get(spec, "reads");
	if (!a) {
		a = json_array();
		json_object_set_new(spec, "reads", a);
	}
	/* each table once, in the order they are first read */
	size_t i;
	json_t *e;
	json_array_foreach(a, i, e) {
		const char *d = json_string_value(json_object_get(e, "database"));
		if (!strcmp(json_string_value(json_object_get(e, "conn")), conn) &&
		    !strcmp(json_string_value(json_object_get(e, "schema")), schema) &&
		    !strcmp(json_string_value(json_object_get(e, "table")), table) &&
		    (d ? database && !strcmp(d, database) : !database))
			return;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "conn", conn, "schema", schema, "table", table);
	if (database)
		json_object_set_new(o, "database", json_string(database));
	json_array_append_new(a, o);
}

void models_reads_of(const struct model_set *s, const struct project *p, const struct target *t, int i,
		     json_t *spec)
{
	const struct model *m = &s->v[i];
	t = pick(p, t);
	const char *conn = t && t->connection ? t->connection : "default";
	const char *db = t ? t->database : NULL;
	for (size_t k = 0; k < m->n_up; k++) {
		struct model_place pl = {0};
		struct err e = {0};
		if (model_place(s, p, t, m->up[k], &pl, &e) == 0)
			models_reads_add(spec, conn, db, pl.schema, s->v[m->up[k]].name);
		model_place_free(&pl);
	}
	for (size_t k = 0; k < m->n_srcs; k++) {
		if (m->srcs[k].index < 0)
			continue;
		const struct source_table *st = &s->tables[m->srcs[k].index];
		bool own = st->connection || st->database;
		models_reads_add(spec, st->connection ? st->connection : conn, own ? st->database : db, st->schema,
				 st->identifier);
	}
}
