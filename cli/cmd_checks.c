/* `sluice checks`: the results of the check tasks, latest per check or
 * those of one run, with their failing rows (core/checkstore.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/checkstore.h"
#include "core/query.h"

#define DEFAULT_FAILURES 10

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] checks [RUN] [CHECK] [--failures N] [--json]\n"
		     "\n"
		     "Lists check results: without RUN the latest result of every check, with\n"
		     "RUN (a run id, or 'latest') the results of that run; CHECK keeps one\n"
		     "check. Each result shows its status (pass, warn, fail, error), its\n"
		     "failing rows out of the rows checked, its thresholds, and its first\n"
		     "failing rows (key, column, row).\n"
		     "\n"
		     "  --failures N  failing rows shown per result (default %d; 0: none)\n"
		     "  --json        {\"run_id\", \"check\", \"results\": [{\"id\", \"check\", \"type\", \"model\",\n"
		     "                \"run_id\", \"task\", \"try\", \"status\", \"severity\", \"failing\", \"total\",\n"
		     "                \"threshold\", \"duration_s\", \"created_at\", \"sql\", \"params\", \"detail\",\n"
		     "                \"error\", \"failures_kept\", \"recent\", \"failures\": [{\"row_no\", \"key\",\n"
		     "                \"column\", \"values\"}]}]}\n"
		     "\n"
		     "Exit status: 0 every result shown passed or warned, 1 one failed or could\n"
		     "not run (or there is no such run or check), 2 usage, 3 project error,\n"
		     "4 the state database is unreachable.\n",
		DEFAULT_FAILURES);
}

static bool is_run(const char *s)
{
	if (!strcmp(s, "latest") || !strcmp(s, "last"))
		return true;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return *s != '\0';
}

static json_t *parsed(const char *text)
{
	if (!text)
		return json_null();
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	return j ? j : json_string(text);
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *recent_json(const char *strip)
{
	json_t *a = json_array();
	for (const char *p = strip ? strip : ""; *p; p++)
		json_array_append_new(a, json_string(*p == 'p' ? "pass" : *p == 'w' ? "warn" : *p == 'f' ? "fail" : "error"));
	return a;
}

static json_t *result_json(const struct check_row *r, const struct failure_row *f, size_t nf)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "check", json_string(r->check));
	json_object_set_new(o, "type", json_string(r->type));
	json_object_set_new(o, "model", str_json(r->model));
	json_object_set_new(o, "run_id", r->run_id ? json_integer(r->run_id) : json_null());
	json_object_set_new(o, "task", str_json(r->task));
	json_object_set_new(o, "try", json_integer(r->try_number));
	json_object_set_new(o, "status", json_string(r->status));
	json_object_set_new(o, "severity", json_string(r->severity));
	json_object_set_new(o, "failing", r->failing >= 0 ? json_integer(r->failing) : json_null());
	json_object_set_new(o, "total", r->total >= 0 ? json_integer(r->total) : json_null());
	json_object_set_new(o, "threshold", str_json(r->threshold));
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	json_object_set_new(o, "created_at", json_string(r->created_at));
	json_object_set_new(o, "sql", str_json(r->sql));
	json_object_set_new(o, "params", parsed(r->params));
	json_object_set_new(o, "detail", parsed(r->detail));
	json_object_set_new(o, "error", str_json(r->error));
	json_object_set_new(o, "failures_kept", json_integer(r->n_failures));
	json_object_set_new(o, "recent", recent_json(r->strip));
	json_t *a = json_array();
	for (size_t i = 0; i < nf; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "row_no", json_integer(f[i].row_no));
		json_object_set_new(x, "key", parsed(f[i].key));
		json_object_set_new(x, "column", str_json(f[i].column));
		json_object_set_new(x, "values", parsed(f[i].row));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "failures", a);
	return o;
}

/* Widths of the CHECK and TASK columns: the longest name shown. */
struct widths {
	int check, task;
};

static void result_text(const struct check_row *r, const struct failure_row *f, size_t nf, const struct widths *w)
{
	char failing[32] = "-", total[32] = "-", run[32] = "-";
	if (r->failing >= 0)
		snprintf(failing, sizeof failing, "%lld", r->failing);
	if (r->total >= 0)
		snprintf(total, sizeof total, "%lld", r->total);
	if (r->run_id)
		snprintf(run, sizeof run, "%ld", r->run_id);
	printf("%-*s  %-6s %8s %8s %6s  %-*s  %s\n", w->check, r->check, r->status, failing, total, run, w->task,
	       r->task ? r->task : "-", r->threshold ? r->threshold : "");
	if (r->error)
		printf("    error: %s\n", r->error);
	for (size_t i = 0; i < nf; i++)
		printf("    %d. key %s%s%s: %s\n", f[i].row_no, f[i].key ? f[i].key : "-", f[i].column ? "  column " : "",
		       f[i].column ? f[i].column : "", f[i].row ? f[i].row : "");
	if (nf && (long long)nf < r->failing)
		printf("    (%zu shown, %d kept, %lld failing)\n", nf, r->n_failures, r->failing);
}

int cmd_checks(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	int n_failures = DEFAULT_FAILURES;
	const char *pos[2] = {NULL, NULL};
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--failures")) {
			long v;
			if (!cli_number("checks", a, i + 1 < argc ? argv[++i] : NULL, "a count of rows", 0, 1000000, &v))
				return EXIT_USAGE;
			n_failures = (int)v;
		} else if (a[0] == '-' && a[1]) {
			cli_error("checks", "unknown option '%s'", a);
			usage(stderr);
			return EXIT_USAGE;
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			cli_error("checks", "unexpected argument '%s'", a);
			return EXIT_USAGE;
		}
	}
	/* one word: a run when it reads as one, else a check */
	const char *run = NULL, *check = NULL;
	if (npos == 2) {
		run = pos[0];
		check = pos[1];
	} else if (npos == 1) {
		*(is_run(pos[0]) ? &run : &check) = pos[0];
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE);
	if (rc)
		return rc;
	struct err e = {0};
	long run_id = 0;
	struct check_row *rows = NULL;
	size_t n = 0;
	if (run && store_resolve_run(&c.store, run, NULL, &run_id, &e) < 0) {
		cli_error("checks", "%s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	if (store_check_latest(c.store.pg, c.proj->name, run_id, check, &rows, &n, &e) < 0) {
		cli_error("checks", "state database: %s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	json_t *j = json ? json_object() : NULL;
	json_t *results = json ? json_array() : NULL;
	struct widths w = {(int)strlen("CHECK"), (int)strlen("TASK")};
	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(rows[i].check) > w.check)
			w.check = (int)strlen(rows[i].check);
		if (rows[i].task && (int)strlen(rows[i].task) > w.task)
			w.task = (int)strlen(rows[i].task);
	}
	if (!json && n)
		printf("%-*s  %-6s %8s %8s %6s  %-*s  %s\n", w.check, "CHECK", "STATUS", "FAILING", "TOTAL", "RUN", w.task,
		       "TASK", "THRESHOLD");
	for (size_t i = 0; i < n; i++) {
		struct failure_row *f = NULL;
		size_t nf = 0;
		if (n_failures > 0 && rows[i].n_failures > 0 &&
		    store_check_failures(c.store.pg, rows[i].id, 1, n_failures, &f, &nf, &e) < 0) {
			cli_error("checks", "state database: %s", e.msg);
			rc = cli_exit_code(err_code(&e));
			json_decref(j);
			json_decref(results);
			goto out;
		}
		if (json)
			json_array_append_new(results, result_json(&rows[i], f, nf));
		else
			result_text(&rows[i], f, nf, &w);
		failure_rows_free(f, nf);
		if (!strcmp(rows[i].status, "fail") || !strcmp(rows[i].status, "error"))
			rc = EXIT_RUN_FAILED;
	}
	if (json) {
		json_object_set_new(j, "run_id", run_id ? json_integer(run_id) : json_null());
		json_object_set_new(j, "check", str_json(check));
		json_object_set_new(j, "results", results);
		json_out(j);
	}
	if (n == 0) {
		if (check) {
			cli_error("checks", "no results for check '%s'%s", check, run_id ? " in that run" : "");
			rc = EXIT_RUN_FAILED;
		} else if (!json && !g->quiet) {
			printf("no check results%s\n", run_id ? " in that run" : " yet");
		}
	}
out:
	check_rows_free(rows, n);
	ctx_close(&c);
	return rc;
}
