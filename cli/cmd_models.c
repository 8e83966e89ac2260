/* `sluice compile MODEL` and `sluice models [SELECT]`: read the project's
 * models and say what they are and what they would run, without touching
 * any server. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/json_out.h"
#include "core/models/check.h"
#include "core/models/materialize.h"
#include "core/models/model.h"
#include "core/project.h"

/* A loaded project and its models. */
struct mopen {
	char *root;
	struct project *p;
	const struct model_set *s;
	struct model_set *own;      /* when the project read none */
	const struct target *t;
};

static void mopen_close(struct mopen *m)
{
	models_free(m->own);
	project_free(m->p);
	free(m->root);
}

/* Loads the project and its models; on errors prints them all and returns
 * the exit code (EXIT_PROJECT, or EXIT_USAGE for an unknown target). */
static int mopen(struct cli *g, const char *cmd, const char *target, struct mopen *m)
{
	memset(m, 0, sizeof *m);
	const char *dir = g->project_dir ? g->project_dir : ".";
	char *root = project_find_root(dir);
	if (!root) {
		cli_error(cmd, "no sluice.yml in %s or any parent directory", dir);
		return EXIT_PROJECT;
	}
	m->root = cli_shown_root(root);
	free(root);
	struct diags d = {0};
	project_load(m->root, &m->p, &d);
	if (m->p) {
		/* read with the project (borrowed); without models/, an empty set */
		for (size_t i = 0; !m->p->model_diags_shown && i < m->p->model_diags.n; i++) {
			const struct diag *e = &m->p->model_diags.v[i];
			struct loc at = {e->file, e->line, e->col};
			diags_add(&d, at, "%s", e->msg);
		}
		m->s = m->p->models;
		if (!m->s)
			models_load(m->p, m->root, &m->own, &d);
		if (!m->s)
			m->s = m->own;
	}
	if (d.n) {
		diags_sort(&d);
		diags_print(&d, stderr);
		fprintf(stderr, "%zu error%s (see 'sluice validate')\n", d.n, d.n == 1 ? "" : "s");
		diags_free(&d);
		return EXIT_PROJECT;
	}
	m->t = project_target(m->p, target);
	if (!m->t) {
		struct strbuf b = {0};
		for (size_t i = 0; i < m->p->n_targets; i++)
			sb_addf(&b, "%s%s", i ? ", " : "", m->p->targets[i].name);
		cli_error(cmd, "unknown target '%s' (the project has: %s)", target, b.s);
		sb_free(&b);
		return EXIT_USAGE;
	}
	return 0;
}

/* --target T or --target=T at argv[*i]; 1 if it was one, -1 if its value is missing. */
static int target_opt(int argc, char **argv, int *i, const char **out)
{
	if (!strncmp(argv[*i], "--target=", 9)) {
		*out = argv[*i] + 9;
		return 1;
	}
	if (strcmp(argv[*i], "--target") && strcmp(argv[*i], "-t"))
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

/* ---- compile ------------------------------------------------------------------ */

static void compile_usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] compile MODEL [--target T] [--full-refresh] [--select] [--json]\n"
		     "\n"
		     "Prints what a build of models/**/MODEL.sql under target T runs: the\n"
		     "transaction of its materialization, with the model's SELECT in it as the\n"
		     "run executes it: ref(), source() and this as quoted \"schema\".\"name\"\n"
		     "from the target's schema rule, var(), env_var() and target.* filled in.\n"
		     "It is shown as on every run after the first (the relation exists, and\n"
		     "an incremental model's is_incremental() is true) unless --full-refresh\n"
		     "is given. What only the server knows (the SELECT's columns when the\n"
		     "model declares none, the views that read a table) is said in comments.\n"
		     "\n"
		     "  --target T      a target from sluice.yml (default: its `target:`)\n"
		     "  --full-refresh  is_incremental() is false; a table is rebuilt\n"
		     "  --select        the SELECT alone\n"
		     "  --json          {model, target, relation, materialized, incremental, sql, run}\n"
		     "  --help          this text\n"
		     "\n"
		     "Exit status: 0 ok, 2 usage or unknown model or target, 3 the project has errors.\n");
}

/* The statements a build of model i runs, as on a run after its first. */
static int compile_plan(const struct mopen *m, int i, bool full, struct strbuf *out, struct err *err)
{
	json_t *spec = json_object();
	struct mat_job j;
	void *arrays = NULL;
	int rc = mat_spec_build(m->s, m->p, m->t, i, full, spec, err);
	if (rc == 0)
		rc = mat_job_from_spec(spec, &j, &arrays, err);
	if (rc == 0)
		mat_plan(&j, true, out);
	mat_job_arrays_free(arrays);
	json_decref(spec);
	return rc;
}

int cmd_compile(struct cli *g, int argc, char **argv)
{
	const char *name = NULL, *target = NULL;
	bool full = false, json = g->json, select_only = false;
	for (int i = 1; i < argc; i++) {
		int t = target_opt(argc, argv, &i, &target);
		if (t < 0) {
			cli_error("compile", "--target needs a target name");
			return EXIT_USAGE;
		}
		if (t > 0)
			continue;
		if (!strcmp(argv[i], "--full-refresh")) {
			full = true;
		} else if (!strcmp(argv[i], "--select")) {
			select_only = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			compile_usage(stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-' || name) {
			cli_error("compile", "unexpected argument '%s'", argv[i]);
			compile_usage(stderr);
			return EXIT_USAGE;
		} else {
			name = argv[i];
		}
	}
	if (!name) {
		cli_error("compile", "which model? (sluice compile MODEL)");
		compile_usage(stderr);
		return EXIT_USAGE;
	}
	struct mopen m;
	int rc = mopen(g, "compile", target, &m);
	if (rc) {
		mopen_close(&m);
		return rc;
	}
	int i = models_find(m.s, name);
	if (i < 0) {
		const char *near = models_nearest(m.s, name);
		if (near)
			cli_error("compile", "no model '%s'; did you mean '%s'?", name, near);
		else
			cli_error("compile", "no model '%s' (no models/**/%s.sql)", name, name);
		mopen_close(&m);
		return EXIT_USAGE;
	}
	const struct model *mo = &m.s->v[i];
	bool incremental = mo->cfg.materialized == MAT_INCREMENTAL && !full;
	struct strbuf sql = {0};
	struct model_place pl = {0};
	struct err e = {0};
	struct strbuf run = {0};
	if (model_place(m.s, m.p, m.t, i, &pl, &e) < 0 || model_render(m.s, m.p, m.t, i, incremental, &sql, &e) < 0 ||
	    compile_plan(&m, i, full, &run, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		rc = EXIT_PROJECT;
	} else if (json) {
		json_out(json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "model", mo->name, "target", m.t->name,
				   "relation", pl.relation, "materialized", model_mat_name(mo->cfg.materialized),
				   "incremental", incremental, "sql", sql.s, "run", run.s));
	} else {
		const struct strbuf *out = select_only ? &sql : &run;
		fputs(out->s, stdout);
		if (out->len && out->s[out->len - 1] != '\n')
			fputc('\n', stdout);
	}
	model_place_free(&pl);
	sb_free(&sql);
	sb_free(&run);
	mopen_close(&m);
	return rc;
}

/* ---- models --------------------------------------------------------------------- */

static void models_usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] models [SELECT ...] [--exclude SELECT ...] [--target T] [--json]\n"
		     "\n"
		     "Lists the models SELECT picks (all without one), each after the models it\n"
		     "reads, with its materialization, the schema the target puts it in, what it\n"
		     "reads (models and source tables) and what reads it.\n"
		     "\n"
		     "SELECT is dbt's syntax: NAME, +NAME (and what it reads), NAME+ (and what\n"
		     "reads it), 2+NAME / NAME+1 (that many steps), @NAME, tag:T, path:models/DIR,\n"
		     "source:S[.TABLE], config.materialized:M; * and ? match; words are a union,\n"
		     "A,B an intersection.\n"
		     "\n"
		     "  -s, --select SELECT   the same as a SELECT word\n"
		     "  --exclude SELECT      leave these out\n"
		     "  --target T            the target whose schemas are shown\n"
		     "  --json                {target, models: [{name, path, materialized, schema,\n"
		     "                        relation, tags, upstream, sources, downstream, checks}]}\n"
		     "  --help                this text\n"
		     "\n"
		     "Exit status: 0 ok, 2 usage or a selector that picks nothing it names,\n"
		     "3 the project has errors.\n");
}

static json_t *model_names_json(const struct model_set *s, const int *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(s->v[v[i]].name));
	return a;
}

static json_t *sources_json(const struct model *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->n_srcs; i++) {
		char *x = xasprintf("%s.%s", m->srcs[i].source, m->srcs[i].table);
		bool seen = false;
		for (size_t j = 0; j < json_array_size(a) && !seen; j++)
			seen = !strcmp(json_string_value(json_array_get(a, j)), x);
		if (!seen)
			json_array_append_new(a, json_string(x));
		free(x);
	}
	return a;
}

/* What UPSTREAM shows: models read, then source tables. */
static char *upstream_text(const struct model_set *s, const struct model *m)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < m->n_up; i++)
		sb_addf(&b, "%s%s", b.len ? "," : "", s->v[m->up[i]].name);
	json_t *src = sources_json(m);
	for (size_t i = 0; i < json_array_size(src); i++)
		sb_addf(&b, "%s%s", b.len ? "," : "", json_string_value(json_array_get(src, i)));
	json_decref(src);
	if (!b.len)
		sb_adds(&b, "-");
	return sb_steal(&b);
}

static char *downstream_text(const struct model_set *s, const struct model *m)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	for (size_t i = 0; i < m->n_down; i++)
		sb_addf(&b, "%s%s", b.len ? "," : "", s->v[m->down[i]].name);
	if (!b.len)
		sb_adds(&b, "-");
	return sb_steal(&b);
}

struct row {
	int model;
	char *schema, *relation, *up, *down;
};

static void print_table(const struct model_set *s, struct row *rows, size_t n)
{
	size_t w[4] = {4, 12, 6, 8};
	for (size_t i = 0; i < n; i++) {
		const struct model *m = &s->v[rows[i].model];
		size_t l[4] = {strlen(m->name), strlen(model_mat_name(m->cfg.materialized)), strlen(rows[i].schema),
			       strlen(rows[i].up)};
		for (int k = 0; k < 4; k++)
			if (l[k] > w[k])
				w[k] = l[k];
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "NAME", (int)w[1], "MATERIALIZED", (int)w[2], "SCHEMA",
	       (int)w[3], "UPSTREAM", "DOWNSTREAM");
	for (size_t i = 0; i < n; i++) {
		const struct model *m = &s->v[rows[i].model];
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], m->name, (int)w[1], model_mat_name(m->cfg.materialized),
		       (int)w[2], rows[i].schema, (int)w[3], rows[i].up, rows[i].down);
	}
}

static json_t *rows_json(const struct model_set *s, const struct target *t, struct row *rows, size_t n)
{
	/* each model's checks, found in one pass over them */
	json_t **checks = xcalloc(s->n + 1, sizeof *checks);
	for (size_t i = 0; i < s->n_checks; i++) {
		int m = s->checks[i].model;
		if (m < 0)
			continue;
		if (!checks[m])
			checks[m] = json_array();
		json_array_append_new(checks[m], json_string(s->checks[i].name));
	}
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		int k = rows[i].model;
		const struct model *m = &s->v[k];
		json_t *tags = json_array();
		for (size_t j = 0; j < m->cfg.tags.n; j++)
			json_array_append_new(tags, json_string(m->cfg.tags.v[j]));
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "name", m->name, "path", m->path, "materialized",
				      model_mat_name(m->cfg.materialized), "schema", rows[i].schema, "relation",
				      rows[i].relation, "tags", tags);
		if (m->cfg.materialized == MAT_INCREMENTAL)
			json_object_set_new(o, "incremental_strategy", json_string(inc_strategy_name(m->cfg.incremental_strategy)));
		if (m->cfg.unique_key.n) {
			json_t *uk = json_array();
			for (size_t j = 0; j < m->cfg.unique_key.n; j++)
				json_array_append_new(uk, json_string(m->cfg.unique_key.v[j]));
			json_object_set_new(o, "unique_key", uk);
		}
		json_object_set_new(o, "upstream", model_names_json(s, m->up, m->n_up));
		json_object_set_new(o, "sources", sources_json(m));
		json_object_set_new(o, "downstream", model_names_json(s, m->down, m->n_down));
		json_object_set_new(o, "checks", checks[k] ? checks[k] : json_array());
		checks[k] = NULL;
		json_array_append_new(a, o);
	}
	for (size_t i = 0; i < s->n; i++)
		json_decref(checks[i]);
	free(checks);
	return json_pack("{s:s, s:o}", "target", t->name, "models", a);
}

int cmd_models(struct cli *g, int argc, char **argv)
{
	const char *target = NULL;
	bool json = g->json, exclude = false;
	const char **sel = xcalloc((size_t)argc + 1, sizeof *sel), **ex = xcalloc((size_t)argc + 1, sizeof *ex);
	size_t n_sel = 0, n_ex = 0;
	int rc = EXIT_OK;
	for (int i = 1; i < argc && rc == EXIT_OK; i++) {
		int t = target_opt(argc, argv, &i, &target);
		if (t < 0) {
			cli_error("models", "--target needs a target name");
			rc = EXIT_USAGE;
		} else if (t > 0) {
			continue;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			models_usage(stdout);
			free(sel);
			free(ex);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--exclude")) {
			exclude = true;
		} else if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--select")) {
			exclude = false;
		} else if (argv[i][0] == '-') {
			cli_error("models", "unknown option '%s'", argv[i]);
			models_usage(stderr);
			rc = EXIT_USAGE;
		} else if (exclude) {
			ex[n_ex++] = argv[i];
		} else {
			sel[n_sel++] = argv[i];
		}
	}
	struct mopen m = {0};
	if (rc == EXIT_OK)
		rc = mopen(g, "models", target, &m);
	bool *picked = NULL;
	struct err e = {0};
	if (rc == EXIT_OK) {
		picked = xcalloc(m.s->n + 1, sizeof *picked);
		if (models_select(m.s, sel, n_sel, ex, n_ex, picked, &e) < 0) {
			cli_error("models", "%s", e.msg);
			rc = EXIT_USAGE;
		}
	}
	struct row *rows = NULL;
	size_t n = 0;
	if (rc == EXIT_OK) {
		rows = xcalloc(m.s->n + 1, sizeof *rows);
		for (size_t k = 0; k < m.s->n && rc == EXIT_OK; k++) {
			int i = m.s->order ? m.s->order[k] : (int)k;
			if (!picked[i])
				continue;
			struct model_place pl;
			if (model_place(m.s, m.p, m.t, i, &pl, &e) < 0) {
				fprintf(stderr, "%s\n", e.msg);
				rc = EXIT_PROJECT;
				break;
			}
			rows[n] = (struct row){i, pl.schema, pl.relation, upstream_text(m.s, &m.s->v[i]),
					       downstream_text(m.s, &m.s->v[i])};
			n++;
		}
	}
	if (rc == EXIT_OK) {
		if (json)
			json_out(rows_json(m.s, m.t, rows, n));
		else if (n)
			print_table(m.s, rows, n);
		else if (!g->quiet)
			fprintf(stderr, "no models\n");
	}
	for (size_t i = 0; i < n; i++) {
		free(rows[i].schema);
		free(rows[i].relation);
		free(rows[i].up);
		free(rows[i].down);
	}
	free(rows);
	free(picked);
	free(sel);
	free(ex);
	mopen_close(&m);
	return rc;
}
