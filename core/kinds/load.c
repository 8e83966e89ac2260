/* Kind load: a file into a table through core/load.h (contract, rejects,
 * append / replace / merge), its counts recorded on the task instance, its
 * commit in the target's ledger (core/ledger.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/pg.h"
#include "core/contract.h"
#include "core/kinds/kind.h"
#include "core/ledger.h"
#include "core/load.h"
#include "core/projdef.h"
#include "core/store.h"

struct load_spec {
	char *conn;
	char *connection;     /* conn's long form (kind_parse_place) */
	char *database;       /* NULL: the connection's own */
	char *source;         /* template text: the file to load (relative to the root) */
	char *into;           /* table or schema.table */
	char *contract;       /* as written; after the check, the contract file's path */
	char *mode;           /* append (default), replace or merge */
	struct strv key;      /* merge key columns */
	char *format;         /* csv, jsonl or json; NULL = from the file name */
	char *delimiter;      /* CSV delimiter, one character; NULL = ',' */
	int header;           /* CSV header line: 1, 0, or -1 = default (yes) */
	struct strv columns;  /* the file's column names (a headerless CSV) */
	char *encoding;       /* utf8 or latin1; NULL = utf8 */
	char *max_rejects;    /* "N" or "N%"; NULL = no limit */
	int parallel;         /* COPY streams; 0 = the default */
	bool create;          /* create the table when it is missing */
};

static const char *const load_modes[] = {"append", "replace", "merge", NULL};
static const char *const formats[] = {"csv", "jsonl", "json", NULL};
static const char *const encodings[] = {"utf8", "latin1", NULL};

#define F(x) .field = offsetof(struct load_spec, x)
static const struct kind_key load_keys[] = {
	{.name = "conn", .type = KEY_CONN, F(conn)},
	{.name = "connection", .type = KEY_STRING, F(connection)},
	{.name = "database", .type = KEY_STRING, F(database)},
	{.name = "source", .type = KEY_TEMPLATE, F(source), .required = true},
	{.name = "into", .type = KEY_STRING, F(into), .required = true},
	{.name = "contract", .type = KEY_STRING, F(contract)},
	{.name = "mode", .type = KEY_ENUM, F(mode), .values = load_modes},
	{.name = "key", .type = KEY_NAMES, F(key)},
	{.name = "format", .type = KEY_ENUM, F(format), .values = formats},
	{.name = "delimiter", .type = KEY_STRING, F(delimiter)},
	{.name = "header", .type = KEY_TRIBOOL, F(header)},
	{.name = "columns", .type = KEY_NAMES, F(columns)},
	{.name = "encoding", .type = KEY_ENUM, F(encoding), .values = encodings},
	{.name = "max_rejects", .type = KEY_CUSTOM, F(max_rejects), .what = "a count or a percentage"},
	{.name = "parallel", .type = KEY_INT, F(parallel), .min = 1},
	{.name = "create", .type = KEY_BOOL, F(create)},
};
#undef F

static void load_parse(const struct kind_parse *p, void *spec)
{
	struct load_spec *s = spec;
	const struct yread *r = p->r;
	kind_parse_place(p, &s->conn, &s->connection, s->database);
	if (s->into) {
		const char *dot = strchr(s->into, '.');
		if (!s->into[0] || (dot && (dot == s->into || !dot[1] || strchr(dot + 1, '.'))))
			diags_add(r->d, yr_at_value(r, p->task, "into"), "'into' must be a table or schema.table, got '%s'",
				  s->into);
	}
	if (s->key.n && (!s->mode || strcmp(s->mode, "merge")))
		diags_add(r->d, yr_at_key(r, p->task, "key"), "'key' applies to mode merge only");
	if (s->mode && !strcmp(s->mode, "merge") && !s->key.n && !s->contract)
		diags_add(r->d, yr_at_value(r, p->task, "mode"), "mode merge needs a 'key' (or a contract with a key)");
	if (s->delimiter && strlen(s->delimiter) != 1 && strcmp(s->delimiter, "\\t"))
		diags_add(r->d, yr_at_value(r, p->task, "delimiter"), "'delimiter' must be one character, got '%s'",
			  s->delimiter);
	json_t *mr = json_object_get(p->task, "max_rejects");
	if (json_is_integer(mr) && json_integer_value(mr) >= 0) {
		s->max_rejects = xasprintf("%lld", (long long)json_integer_value(mr));
	} else if (mr && !json_is_null(mr)) {
		long long n;
		double pct;
		if (!json_is_string(mr) || load_max_rejects_parse(json_string_value(mr), &n, &pct) < 0)
			diags_add(r->d, yr_at_value(r, p->task, "max_rejects"),
				  "'max_rejects' must be a count or a percentage like \"0.5%%\"");
		else
			s->max_rejects = xstrdup(json_string_value(mr));
	}
}

/* The contract: contracts/NAME.yml (or a path from the root), which must
 * exist and be a valid contract. */
static void load_check(const struct kind_check *c, void *spec)
{
	struct load_spec *s = spec;
	if (!s->contract)
		return;
	const char *n = s->contract;
	char *path = strchr(n, '/') || strstr(n, ".yml") || strstr(n, ".yaml") ? path_join(c->p->root, n)
									   : xasprintf("%s/contracts/%s.yml", c->p->root, n);
	if (!path_exists(path)) {
		diags_add(c->r->d, yr_at_value(c->r, c->task, "contract"), "no contract '%s' (%s not found)", n, path);
		free(path);
		return;
	}
	struct contract *ct = NULL;
	contract_load(path, &ct, c->r->d);
	contract_free(ct);
	free(s->contract);
	s->contract = path;
}

static json_t *strv_json(const struct strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static int load_build(const void *spec, const struct kind_build *b, json_t *out, struct err *err)
{
	const struct load_spec *s = spec;
	char *source;
	kind_build_place(out, s->conn, s->database);
	if (kind_render(b, s->source, "source", &source, err) < 0)
		return err_code(err);
	/* relative to the project root, where the task runs */
	json_object_set_new(out, "source", json_string(source));
	free(source);
	json_object_set_new(out, "into", json_string(s->into ? s->into : ""));
	if (s->contract)
		json_object_set_new(out, "contract", json_string(s->contract));
	json_object_set_new(out, "mode", json_string(s->mode ? s->mode : "append"));
	json_object_set_new(out, "key", strv_json(&s->key));
	json_object_set_new(out, "columns", strv_json(&s->columns));
	if (s->format)
		json_object_set_new(out, "format", json_string(s->format));
	if (s->delimiter)
		json_object_set_new(out, "delimiter", json_string(!strcmp(s->delimiter, "\\t") ? "\t" : s->delimiter));
	if (s->header >= 0)
		json_object_set_new(out, "header", json_boolean(s->header));
	if (s->encoding)
		json_object_set_new(out, "encoding", json_string(s->encoding));
	if (s->max_rejects)
		json_object_set_new(out, "max_rejects", json_string(s->max_rejects));
	if (s->parallel > 0)
		json_object_set_new(out, "parallel", json_integer(s->parallel));
	if (s->create)
		json_object_set_new(out, "create", json_true());
	return 0;
}

/* The try's counts on its task instance (-1: unknown). */
static void record_rows(const struct task_env *env, long long rows_in, long long rows_out)
{
	if (!env->state_conninfo)
		return;
	struct store s = {0};
	struct err se = {0};
	s.pg = pg_connect(env->state_conninfo, "state database", &se);
	if (s.pg)
		store_ti_rows(&s, env->run_id, env->task, env->try_number, rows_in, rows_out, &se);
	pg_close(s.pg);
}

/* The built spec's options into load_opts, the load, its counts on the task
 * instance. Progress and the summary go to stdout (the task log). */
static int load_task_run(const json_t *spec, const struct task_env *env)
{
	struct load_opts o = {0};
	rec_opts_init(&o.rec);
	o.source = json_string_value(json_object_get(spec, "source"));
	o.into = json_string_value(json_object_get(spec, "into"));
	o.contract = json_string_value(json_object_get(spec, "contract"));
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	if (!o.source || !o.into || (mode && load_mode_parse(mode, &o.mode) < 0)) {
		fprintf(stderr, "load: the task spec is incomplete\n");
		return 2;
	}
	json_t *key = json_object_get(spec, "key"), *cols = json_object_get(spec, "columns");
	const char **kv = xcalloc(json_array_size(key) + 1, sizeof *kv);
	const char **cv = xcalloc(json_array_size(cols) + 1, sizeof *cv);
	for (size_t i = 0; i < json_array_size(key); i++)
		kv[o.n_key++] = json_string_value(json_array_get(key, i));
	for (size_t i = 0; i < json_array_size(cols); i++)
		cv[o.rec.n_columns++] = json_string_value(json_array_get(cols, i));
	o.key = kv;
	o.rec.columns = cv;
	const char *fmt = json_string_value(json_object_get(spec, "format"));
	if (fmt) {
		o.rec.format_set = true;
		o.rec.format = !strcmp(fmt, "jsonl") ? REC_JSONL : !strcmp(fmt, "json") ? REC_JSON_ARRAY : REC_CSV;
	}
	const char *delim = json_string_value(json_object_get(spec, "delimiter"));
	if (delim && *delim)
		o.rec.delimiter = delim[0];
	if (json_is_boolean(json_object_get(spec, "header")))
		o.rec.header = json_is_true(json_object_get(spec, "header"));
	const char *enc = json_string_value(json_object_get(spec, "encoding"));
	if (enc && !strcasecmp(enc, "latin1"))
		o.rec.encoding = REC_LATIN1;
	o.max_rejects = -1;
	o.max_rejects_pct = -1;
	const char *mr = json_string_value(json_object_get(spec, "max_rejects"));
	if (mr)
		load_max_rejects_parse(mr, &o.max_rejects, &o.max_rejects_pct);
	if (json_is_integer(json_object_get(spec, "parallel"))) {
		o.parallel = (int)json_integer_value(json_object_get(spec, "parallel"));
		o.parallel_set = true;
	}
	o.create = json_is_true(json_object_get(spec, "create"));
	o.conninfo = env->conninfo ? env->conninfo : "";
	o.database = json_string_value(json_object_get(spec, "database"));
	o.state_conninfo = env->state_conninfo;
	o.project = env->project;
	o.pipeline = env->pipeline;
	o.run_id = env->run_id;
	o.task = env->task;
	o.try_number = env->try_number;
	o.log = stdout;
	struct ledger lg;
	ledger_init(&lg, env);
	o.ledger = lg.off ? NULL : &lg;

	printf("load: %s into %s%s%s (%s%s%s)\n", o.source, o.into, o.database ? " in database " : "",
	       o.database ? o.database : "", load_mode_name(o.mode), o.contract ? ", contract " : "",
	       o.contract ? o.contract : "");
	fflush(stdout);
	struct load_stats st;
	struct err e = {0};
	if (o.database) {
		/* made first if it is missing, as for sql and model tasks */
		struct pg_conn *c = kind_connect(spec, env, &e);
		if (!c) {
			fprintf(stderr, "load failed: %s\n", e.msg);
			free(kv);
			free(cv);
			return err_code(&e) == ERR_UNREACHABLE ? 4 : 1;
		}
		pg_close(c);
	}
	int rc = load_run(&o, &st, &e);
	if (lg.prior_try && (rc == 0 || rc == ERR_EXISTS)) {
		/* the rows are there once, from the try that committed them */
		ledger_say(&lg, stdout, rc == ERR_EXISTS);
		record_rows(env, -1, lg.prior_rows);
		free(kv);
		free(cv);
		return 0;
	}
	printf("load %ld: %lld rows read, %lld loaded, %lld rejected%s in %.2f s (%.0f rows/s, %d stream%s)\n",
	       st.load_id, (long long)st.rows_in, (long long)st.rows_loaded, (long long)st.rejected,
	       st.superseded ? " (superseded included)" : "", st.seconds,
	       st.seconds > 0 ? (double)st.rows_in / st.seconds : 0.0, st.streams, st.streams == 1 ? "" : "s");
	if (st.rejected)
		printf("rejects: sluice rejects %ld %s\n", env->run_id, env->task);
	fflush(stdout);
	record_rows(env, st.rows_in, rc ? 0 : st.rows_loaded);
	free(kv);
	free(cv);
	if (rc) {
		fprintf(stderr, "load failed: %s\n", e.msg);
		return rc == ERR_UNREACHABLE ? 4 : rc == ERR_PROJECT ? 3 : 1;
	}
	return 0;
}

const struct kind_ops kind_load = {
	.name = "load",
	.summary = "a file into a table, checked by a contract, rejects kept",
	.spec_size = sizeof(struct load_spec),
	.keys = load_keys,
	.n_keys = sizeof load_keys / sizeof load_keys[0],
	.parse = load_parse,
	.check = load_check,
	.build = load_build,
	.conn = kind_spec_conn_key,
	.run = load_task_run,
};
