/* What every kind shares: finding a kind, reading its keys from YAML by its
 * key table, freeing its spec, the console's one-line description, and the
 * connection a task that runs on a database connects to. */
#include "core/kinds/kind.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/pg.h"
#include "core/template.h"

const struct kind_ops *kind_find(const char *name)
{
	for (size_t i = 0; name && i < kind_count; i++)
		if (!strcmp(kind_registry[i]->name, name))
			return kind_registry[i];
	return NULL;
}

const struct kind_key *kind_key(const struct kind_ops *k, const char *name)
{
	for (size_t i = 0; k && i < k->n_keys; i++)
		if (!strcmp(k->keys[i].name, name))
			return &k->keys[i];
	return NULL;
}

const struct kind_ops *kind_key_owner(const char *key)
{
	for (size_t i = 0; i < kind_count; i++)
		if (kind_key(kind_registry[i], key))
			return kind_registry[i];
	return NULL;
}

const char *kind_key_type_name(const struct kind_key *key)
{
	switch (key->type) {
	case KEY_STRING: return "string";
	case KEY_TEMPLATE: return "template";
	case KEY_CONN: return "connection";
	case KEY_ENUM: return "enum";
	case KEY_NAMES: return "names";
	case KEY_ENV: return "environment";
	case KEY_BOOL:
	case KEY_TRIBOOL: return "boolean";
	case KEY_INT: return "integer";
	case KEY_CUSTOM: return key->what ? key->what : "custom";
	}
	return "?";
}

/* ---- reading keys ------------------------------------------------------------ */

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* A list of names: a YAML list of strings, or one comma-separated string. */
static int read_name_list(const struct yread *r, const json_t *obj, const char *key, struct strv *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	struct strbuf all = {0};
	if (json_is_string(v)) {
		sb_adds(&all, json_string_value(v));
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			const char *s = json_string_value(json_array_get(v, i));
			if (!s) {
				diags_add(r->d, ypos_item(r->pos, v, i), "'%s' must be a list of column names", key);
				sb_free(&all);
				return -1;
			}
			sb_addf(&all, "%s%s", i ? "," : "", s);
		}
	} else {
		yr_wrong_type(r, obj, key, "a list of column names");
		return -1;
	}
	strv_clear(out);
	if (!all.s)
		return 0; /* [] or "": names nothing, as if the key were absent */
	size_t cap = 0;
	for (char *p = all.s, *save = NULL, *tok; (tok = strtok_r(p, ",", &save)); p = NULL) {
		while (*tok == ' ')
			tok++;
		size_t len = strlen(tok);
		while (len && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (!len)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		out->v[out->n++] = xstrdup(tok);
	}
	sb_free(&all);
	if (!out->n) {
		diags_add(r->d, yr_at_value(r, obj, key), "'%s' names no column", key);
		return -1;
	}
	return 1;
}

static bool env_name_valid(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* NAME: value pairs into "NAME=value"; scalars are written as strings. */
static void read_env(const struct yread *r, const json_t *obj, const char *key, struct strv *out)
{
	json_t *env = json_object_get(obj, key);
	if (!env || json_is_null(env))
		return;
	if (!json_is_object(env)) {
		yr_wrong_type(r, obj, key, "a mapping");
		return;
	}
	out->v = xcalloc(json_object_size(env), sizeof *out->v);
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v) {
		if (!env_name_valid(k)) {
			diags_add(r->d, yr_at_key(r, env, k), "invalid environment variable name '%s'", k);
			continue;
		}
		char *val;
		if (json_is_string(v))
			val = xstrdup(json_string_value(v));
		else if (json_is_integer(v))
			val = xasprintf("%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			val = xasprintf("%g", json_real_value(v));
		else if (json_is_boolean(v))
			val = xstrdup(json_is_true(v) ? "true" : "false");
		else if (json_is_null(v))
			val = xstrdup("");
		else {
			diags_add(r->d, yr_at_value(r, env, k), "environment variable '%s' must be a string, got %s", k,
				  yr_type_name(v));
			continue;
		}
		out->v[out->n++] = xasprintf("%s=%s", k, val);
		free(val);
	}
}

/* "a, b or c" */
static void values_text(const char *const *values, struct strbuf *b)
{
	size_t n = 0;
	while (values[n])
		n++;
	for (size_t i = 0; i < n; i++)
		sb_addf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", values[i]);
}

static bool in_values(const char *s, const char *const *values)
{
	for (; *values; values++)
		if (!strcmp(s, *values))
			return true;
	return false;
}

static void read_key(const struct kind_parse *p, const struct kind_key *key, void *field)
{
	const struct yread *r = p->r;
	const json_t *task = p->task;
	switch (key->type) {
	case KEY_STRING:
	case KEY_TEMPLATE:
		yr_string(r, task, key->name, field);
		break;
	case KEY_CONN: {
		char **s = field;
		if (yr_string(r, task, key->name, s) > 0 && !yr_name_valid(*s))
			diags_add(r->d, yr_at_value(r, task, key->name), "invalid connection name '%s'", *s);
		break;
	}
	case KEY_ENUM: {
		char **s = field;
		if (yr_string(r, task, key->name, s) > 0 && !in_values(*s, key->values)) {
			struct strbuf b = {0};
			values_text(key->values, &b);
			diags_add(r->d, yr_at_value(r, task, key->name), "'%s' must be %s, got '%s'", key->name, b.s, *s);
			sb_free(&b);
		}
		break;
	}
	case KEY_NAMES:
		read_name_list(r, task, key->name, field);
		break;
	case KEY_ENV:
		read_env(r, task, key->name, field);
		break;
	case KEY_BOOL:
		yr_bool(r, task, key->name, field);
		break;
	case KEY_TRIBOOL: {
		bool b;
		if (yr_bool(r, task, key->name, &b) > 0)
			*(int *)field = b;
		break;
	}
	case KEY_INT:
		yr_int(r, task, key->name, key->min, field);
		break;
	case KEY_CUSTOM:
		break;
	}
}

static void *field_at(const void *spec, const struct kind_key *key)
{
	return (char *)spec + key->field;
}

void *kind_spec_parse(const struct kind_ops *k, const struct kind_parse *p)
{
	void *spec = xcalloc(1, k->spec_size ? k->spec_size : 1);
	for (size_t i = 0; i < k->n_keys; i++) {
		const struct kind_key *key = &k->keys[i];
		if (key->type == KEY_CONN)
			*(char **)field_at(spec, key) = xstrdup(p->conn);
		else if (key->type == KEY_TRIBOOL)
			*(int *)field_at(spec, key) = -1;
	}
	for (size_t i = 0; i < k->n_keys; i++) {
		const struct kind_key *key = &k->keys[i];
		read_key(p, key, field_at(spec, key));
		if (key->required && !json_object_get(p->task, key->name))
			diags_add(p->r->d, p->here, "task '%s': missing required key '%s'", p->name, key->name);
	}
	if (k->parse)
		k->parse(p, spec);
	return spec;
}

void kind_gens_free(struct kind_gens *g)
{
	for (size_t i = 0; g && i < g->n; i++) {
		free(g->v[i].name);
		json_decref(g->v[i].task);
		free(g->v[i].deps);
	}
	if (g) {
		free(g->v);
		g->v = NULL;
		g->n = 0;
	}
}

void kind_spec_free(const struct kind_ops *k, void *spec)
{
	if (!k || !spec)
		return;
	if (k->done)
		k->done(spec);
	for (size_t i = 0; i < k->n_keys; i++) {
		const struct kind_key *key = &k->keys[i];
		switch (key->type) {
		case KEY_STRING:
		case KEY_TEMPLATE:
		case KEY_CONN:
		case KEY_ENUM:
		case KEY_CUSTOM:
			free(*(char **)field_at(spec, key));
			break;
		case KEY_NAMES:
		case KEY_ENV:
			strv_clear(field_at(spec, key));
			break;
		case KEY_BOOL:
		case KEY_TRIBOOL:
		case KEY_INT:
			break;
		}
	}
	free(spec);
}

/* ---- built specs ------------------------------------------------------------- */

const struct kind_ops *kind_of_spec(const json_t *spec)
{
	return kind_find(json_string_value(json_object_get(spec, "kind")));
}

const char *kind_spec_conn(const json_t *spec)
{
	const struct kind_ops *k = kind_of_spec(spec);
	return k && k->conn ? k->conn(spec) : NULL;
}

int kind_spec_conn_type(const json_t *spec)
{
	const struct kind_ops *k = kind_of_spec(spec);
	return k ? k->conn_type : 0;
}

const char *kind_spec_conn_key(const json_t *spec)
{
	const char *conn = json_string_value(json_object_get(spec, "conn"));
	return conn ? conn : "default";
}

char *kind_spec_line(const char *spec_json)
{
	json_t *spec = spec_json ? json_loads(spec_json, 0, NULL) : NULL;
	const struct kind_ops *k = kind_of_spec(spec);
	struct strbuf b = {0};
	if (k && k->describe)
		k->describe(spec, &b);
	else if (spec_json)
		sb_adds(&b, spec_json);
	json_decref(spec);
	/* one line: newlines become a visible mark */
	struct strbuf o = {0};
	for (const char *p = b.s ? b.s : ""; *p; p++) {
		if (*p == '\n') {
			while (o.len && o.s[o.len - 1] == ' ')
				o.s[--o.len] = '\0';
			if (p[1])
				sb_adds(&o, " ; ");
		} else if (*p == '\t') {
			sb_addc(&o, ' ');
		} else {
			sb_addc(&o, *p);
		}
	}
	sb_free(&b);
	return sb_steal(&o);
}

int kind_render(const struct kind_build *b, const char *text, const char *what, char **out, struct err *err)
{
	struct tmpl_error te;
	*out = NULL;
	if (tmpl_render(text ? text : "", b->ctx, out, &te) < 0)
		return err_setc(err, ERR_PROJECT, "task '%s': %s at offset %zu: %s", b->task, what, te.offset, te.msg);
	return 0;
}

/* ---- the connection a task runs on --------------------------------------------- */


void kind_parse_place(const struct kind_parse *p, char **conn, char **connection, const char *database)
{
	const struct yread *r = p->r;
	if (*connection) {
		if (json_object_get(p->task, "conn"))
			diags_add(r->d, yr_at_key(r, p->task, "connection"),
				  "'connection' and 'conn' say the same; give one of them");
		else if (!yr_name_valid(*connection))
			diags_add(r->d, yr_at_value(r, p->task, "connection"), "invalid connection name '%s'", *connection);
		free(*conn);
		*conn = *connection;
		*connection = NULL;
	}
	if (database && (!*database || strlen(database) > PG_NAME_MAX))
		diags_add(r->d, yr_at_value(r, p->task, "database"),
			  "'database' must be a database name of 1 to %d bytes, got '%s'", PG_NAME_MAX, database);
}

void kind_build_place(json_t *out, const char *conn, const char *database)
{
	json_object_set_new(out, "conn", json_string(conn ? conn : "default"));
	if (database)
		json_object_set_new(out, "database", json_string(database));
}

/* The database is missing on the server of conn: made on sluice's own
 * server ("default"), as the embedded cluster makes its warehouse; said
 * elsewhere, where it is the owner's to make. 0, or <0 with err set. */
static int ensure_database(const json_t *spec, const char *conninfo, const char *conn, const char *db,
			   struct err *err)
{
	char what[300];
	snprintf(what, sizeof what, "connection '%s'", conn);
	struct err e = {0};
	struct pg_conn *base = pg_connect(conninfo, what, &e);
	if (!base)
		return err_code(err); /* the first error says it */
	bool missing = pg_db_exists(base, db, &e) == 0;
	int rc = 0;
	if (missing && strcmp(conn, "default")) {
		const char *target = json_string_value(json_object_get(spec, "target"));
		rc = err_setc(err, ERR_FAIL, "%s%s%sdatabase '%s' does not exist on connection '%s' (create it there)",
			      target ? "target '" : "", target ? target : "", target ? "': " : "", db, conn);
	} else if (missing) {
		if (pg_db_ensure(base, db, &e) < 0) {
			*err = e;
			rc = err_code(err);
		} else {
			printf("created database %s\n", db);
		}
	}
	pg_close(base);
	return rc;
}

struct pg_conn *kind_connect(const json_t *spec, const struct task_env *env, struct err *err)
{
	/* the worker's, for a kind that takes one (shares_conn): the same
	 * conninfo and database, opened once for many tasks */
	if (env->shared) {
		struct err ignored = {0};
		if (pg_session_reset(env->shared, &ignored) == 0)
			return env->shared;
	}
	const char *conn = kind_spec_conn_key(spec), *db = json_string_value(json_object_get(spec, "database"));
	const char *conninfo = env->conninfo ? env->conninfo : "";
	char what[300];
	snprintf(what, sizeof what, "connection '%s'%s%s", conn, db ? ", database " : "", db ? db : "");
	struct pg_conn *c = pg_connect_db(conninfo, db, what, err);
	if (c || !db)
		return c;
	if (ensure_database(spec, conninfo, conn, db, err) < 0)
		return NULL;
	err_clear(err);
	return pg_connect_db(conninfo, db, what, err);
}

void kind_disconnect(struct pg_conn *c, const struct task_env *env)
{
	if (c != env->shared)
		pg_close(c);
}

bool kind_spec_shares_conn(const json_t *spec)
{
	const struct kind_ops *k = kind_of_spec(spec);
	return k && k->shares_conn;
}

struct reads_count {
	kind_read_fn fn;
	void *arg;
	size_t n;
};

static void count_read(void *arg, const struct kind_read *r)
{
	struct reads_count *c = arg;
	c->n++;
	c->fn(c->arg, r);
}

size_t kind_spec_reads(const json_t *spec, kind_read_fn fn, void *arg)
{
	const struct kind_ops *k = kind_of_spec(spec);
	if (!k || !k->reads)
		return 0;
	struct reads_count c = {fn, arg, 0};
	k->reads(spec, count_read, &c);
	return c.n;
}

void kind_reads_key(const json_t *spec, kind_read_fn fn, void *arg)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(spec, "reads"), i, e) {
		struct kind_read r = {
			.conn = json_string_value(json_object_get(e, "conn")),
			.database = json_string_value(json_object_get(e, "database")),
			.schema = json_string_value(json_object_get(e, "schema")),
			.table = json_string_value(json_object_get(e, "table")),
		};
		if (!r.schema || !r.table)
			continue;
		if (!r.conn)
			r.conn = "default";
		fn(arg, &r);
	}
}
