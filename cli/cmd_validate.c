/* `sluice validate`: loads the project and reports every problem in it, each
 * with file:line:col, without touching any server. */
#include "cli/cli.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "cli/json_out.h"
#include "core/connections.h"
#include "core/kinds/kind.h"
#include "core/models/model.h"
#include "core/project.h"
#include "core/report.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] validate [--json] [--kinds]\n"
		     "\n"
		     "Checks sluice.yml, pipelines/*.yml, reports/*.yml, the connections file and\n"
		     "the models "
		     "(models/**/*.sql and *.yml, tests/**/*.sql): keys, types, task and model\n"
		     "graphs, schedules, templates, checks, targets, file modes and ${ENV}\n"
		     "references.\n"
		     "Prints every error as FILE:LINE:COL: error: MESSAGE.\n"
		     "\n"
		     "  --json   one JSON document on stdout: {\"ok\":..., \"errors\":[...]}\n"
		     "  --kinds  list the task kinds this sluice knows, one per line (with\n"
		     "           --json: each with its keys), and check no project\n"
		     "  --help   this text\n"
		     "\n"
		     "Exit status: 0 valid, 2 usage, 3 the project has errors.\n");
}

static json_t *errors_json(const struct diags *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(g->file));
		json_object_set_new(o, "line", json_integer(g->line));
		json_object_set_new(o, "col", json_integer(g->col));
		json_object_set_new(o, "message", json_string(g->msg));
		json_array_append_new(a, o);
	}
	return a;
}

/* The pipelines written in pipelines/ and their tasks (not `build`, which
 * every project with models has). */
static size_t count_pipelines(const struct project *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_pipelines; i++)
		n += !p->pipelines[i].implicit;
	return n;
}

static size_t count_tasks(const struct project *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_pipelines; i++)
		if (!p->pipelines[i].implicit)
			n += p->pipelines[i].n_tasks;
	return n;
}

/* The registered kinds: names, or with --json their keys too. */
static int print_kinds(bool json)
{
	if (!json) {
		for (size_t i = 0; i < kind_count; i++)
			printf("%s\n", kind_registry[i]->name);
		return EXIT_OK;
	}
	json_t *a = json_array();
	for (size_t i = 0; i < kind_count; i++) {
		const struct kind_ops *k = kind_registry[i];
		json_t *keys = json_array();
		for (size_t j = 0; j < k->n_keys; j++) {
			const struct kind_key *key = &k->keys[j];
			json_t *o = json_pack("{s:s, s:s, s:b}", "name", key->name, "type", kind_key_type_name(key),
					      "required", key->required);
			if (key->type == KEY_ENUM) {
				json_t *vals = json_array();
				for (const char *const *v = key->values; *v; v++)
					json_array_append_new(vals, json_string(*v));
				json_object_set_new(o, "values", vals);
			}
			json_array_append_new(keys, o);
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "name", k->name, "summary", k->summary ? k->summary : "",
						   "keys", keys));
	}
	json_out(json_pack("{s:o}", "kinds", a));
	return EXIT_OK;
}

int cmd_validate(struct cli *g, int argc, char **argv)
{
	bool json = g->json, kinds = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--kinds")) {
			kinds = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "sluice validate: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}

	if (kinds)
		return print_kinds(json);

	const char *dir = g->project_dir ? g->project_dir : ".";
	struct diags d = {0};
	struct project *p = NULL;
	struct model_set *ms = NULL;
	char *root = project_find_root(dir);
	if (!root) {
		char *abs = realpath(dir, NULL);
		struct loc at = {NULL, 0, 0};
		diags_add(&d, at, "no sluice.yml in %s or any parent directory", abs ? abs : dir);
		free(abs);
	} else {
		char *shown = cli_shown_root(root);
		project_load(shown, &p, &d);
		/* the models were read with the project; their errors are among
		 * its own only where a pipeline expands them */
		ms = p ? p->models : NULL;
		for (size_t i = 0; p && !p->model_diags_shown && i < p->model_diags.n; i++) {
			const struct diag *md = &p->model_diags.v[i];
			struct loc at = {md->file, md->line, md->col};
			diags_add(&d, at, "%s", md->msg);
		}
		/* the targets are rendered only over a graph that holds */
		if (ms && !p->model_diags.n)
			models_check_targets(ms, p, &d);
		free(shown);
		/* what every other command reads first is checked too */
		if (p && p->connections_file)
			connections_check(p->connections_file, &d);
		/* and every connection name the project gives is one of it */
		if (p)
			project_check_connections(p, &d);
	}
	diags_sort(&d);

	int rc = d.n ? EXIT_PROJECT : EXIT_OK;
	const char *where = p ? p->root : root ? root : dir;
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "ok", json_boolean(d.n == 0));
		if (p) {
			json_object_set_new(o, "project", json_string(p->name));
			json_object_set_new(o, "root", json_string(p->root));
			json_object_set_new(o, "pipelines", json_integer((json_int_t)count_pipelines(p)));
			json_object_set_new(o, "tasks", json_integer((json_int_t)count_tasks(p)));
			json_object_set_new(o, "models", json_integer(ms ? (json_int_t)ms->n : 0));
			json_object_set_new(o, "checks", json_integer(ms ? (json_int_t)ms->n_checks : 0));
			json_object_set_new(o, "reports", json_integer(p->reports ? (json_int_t)p->reports->n : 0));
		}
		json_object_set_new(o, "errors", errors_json(&d));
		json_out(o);
	} else if (d.n) {
		diags_print(&d, stderr);
		fprintf(stderr, "%zu error%s in project %s\n", d.n, d.n == 1 ? "" : "s", where);
	} else if (!g->quiet) {
		printf("ok: project %s, %zu pipeline%s, %zu task%s", p->name, count_pipelines(p),
		       count_pipelines(p) == 1 ? "" : "s", count_tasks(p), count_tasks(p) == 1 ? "" : "s");
		if (ms && (ms->n || ms->n_checks))
			printf(", %zu model%s, %zu check%s", ms->n, ms->n == 1 ? "" : "s", ms->n_checks,
			       ms->n_checks == 1 ? "" : "s");
		if (p->reports && p->reports->n)
			printf(", %zu report%s", p->reports->n, p->reports->n == 1 ? "" : "s");
		putchar('\n');
	}
	diags_free(&d);
	project_free(p);
	free(root);
	return rc;
}
