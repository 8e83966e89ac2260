/* `sluice report NAME` and `sluice reports`: a report's stored result (the
 * latest, or of one run) as a table, CSV, HTML or JSON; the reports of the
 * project with their latest result (core/reportstore.h, core/reportout.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "core/project.h"
#include "core/report.h"
#include "core/reportout.h"
#include "core/reportstore.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] report NAME [--run RUN] [--csv FILE] [--html FILE] [--json]\n"
		     "\n"
		     "Shows the result a run of a report task kept for report NAME (reports/NAME.yml):\n"
		     "the latest, or that of RUN (a run id, or 'latest'). Without an export it\n"
		     "prints the table.\n"
		     "\n"
		     "  --run RUN    the result of that run\n"
		     "  --csv FILE   write the table as CSV (RFC 4180: quoted fields, CRLF); - is stdout\n"
		     "  --html FILE  write one self-contained HTML file: the chart (inline SVG)\n"
		     "               and the table, nothing fetched from elsewhere; - is stdout\n"
		     "  --json       {\"report\", \"title\", \"run_id\", \"task\", \"try\", \"created_at\",\n"
		     "               \"duration_s\", \"columns\", \"rows\", \"n_rows\", \"total_rows\",\n"
		     "               \"truncated\", \"chart\", \"sql\"}\n"
		     "\n"
		     "Exit status: 0 shown, 1 no such report or no result of it (in that run),\n"
		     "or a file could not be written, 2 usage, 3 project error, 4 the state\n"
		     "database is unreachable.\n");
}

static void usage_list(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] reports [--json]\n"
		     "\n"
		     "Lists the reports of the project (reports/*.yml) with their latest result:\n"
		     "its rows, run and time, and how many results are kept.\n"
		     "\n"
		     "  --json  {\"reports\": [{\"name\", \"title\", \"file\", \"chart\", \"results\",\n"
		     "          \"latest\": {\"run_id\", \"created_at\", \"n_rows\", \"total_rows\",\n"
		     "          \"truncated\"} or null}]}\n"
		     "\n"
		     "Exit status: 0, 2 usage, 3 project error, 4 the state database is unreachable.\n");
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *result_json(const struct report_result *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "report", json_string(r->report));
	json_object_set_new(o, "title", str_json(r->title));
	json_object_set_new(o, "run_id", r->run_id ? json_integer(r->run_id) : json_null());
	json_object_set_new(o, "task", str_json(r->task));
	json_object_set_new(o, "try", json_integer(r->try_number));
	json_object_set_new(o, "created_at", json_string(r->created_at));
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	json_object_set(o, "columns", r->columns ? r->columns : json_array());
	json_object_set(o, "rows", r->rows ? r->rows : json_array());
	json_object_set_new(o, "n_rows", json_integer(r->n_rows));
	json_object_set_new(o, "total_rows", json_integer(r->total_rows));
	json_object_set_new(o, "truncated", json_boolean(r->truncated));
	json_object_set(o, "chart", r->chart ? r->chart : json_null());
	json_object_set_new(o, "sql", str_json(r->sql));
	return o;
}

/* Display width of UTF-8 text, a code point a column. */
static int width(const char *s)
{
	int w = 0;
	for (; s && *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(const char *s, int w, bool right)
{
	int n = w - width(s);
	if (right)
		printf("%*s%s", n > 0 ? n : 0, "", s);
	else
		printf("%s%*s", s, n > 0 ? n : 0, "");
}

static const char *cell(const json_t *row, size_t k)
{
	const char *s = json_string_value(json_array_get(row, k));
	return s ? s : "NULL";
}

static void print_table(const struct report_result *r)
{
	size_t nc = json_array_size(r->columns), nr = json_array_size(r->rows);
	int *w = xcalloc(nc + 1, sizeof *w);
	bool *num = xcalloc(nc + 1, sizeof *num);
	for (size_t k = 0; k < nc; k++) {
		w[k] = width(json_string_value(json_array_get(r->columns, k)));
		num[k] = nr > 0;
		for (size_t i = 0; i < nr; i++) {
			const char *s = cell(json_array_get(r->rows, i), k);
			int sw = width(s);
			w[k] = sw > w[k] ? sw : w[k];
			char *end;
			strtod(s, &end);
			num[k] = num[k] && (*s && !*end);
		}
		if (w[k] > 60)
			w[k] = 60;
	}
	printf("%s (run %ld, %s)\n", r->title ? r->title : r->report, r->run_id, r->created_at);
	for (size_t k = 0; k < nc; k++) {
		printf(k ? "  " : "");
		pad(json_string_value(json_array_get(r->columns, k)), w[k], num[k]);
	}
	printf("\n");
	for (size_t i = 0; i < nr; i++) {
		for (size_t k = 0; k < nc; k++) {
			printf(k ? "  " : "");
			pad(cell(json_array_get(r->rows, i), k), w[k], num[k]);
		}
		printf("\n");
	}
	printf("(%d row%s", r->n_rows, r->n_rows == 1 ? "" : "s");
	if (r->truncated)
		printf(" of %lld: the first kept", r->total_rows);
	printf(")\n");
	free(w);
	free(num);
}

static int write_out(const char *path, struct strbuf *b, struct err *e)
{
	if (!strcmp(path, "-")) {
		fwrite(b->s ? b->s : "", 1, b->len, stdout);
		return 0;
	}
	return file_write_atomic(path, b->s ? b->s : "", b->len, 0644, e);
}

static int unknown_report(const struct project *p, const char *name)
{
	const char *near = reports_nearest(p->reports, name);
	if (near)
		cli_error("report", "unknown report '%s'; did you mean '%s'?", name, near);
	else if (p->reports && p->reports->n)
		cli_error("report", "unknown report '%s' (see 'sluice reports')", name);
	else
		cli_error("report", "unknown report '%s' (the project has no reports/NAME.yml)", name);
	return EXIT_RUN_FAILED;
}

int cmd_report(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	const char *name = NULL, *run = NULL, *csv = NULL, *html = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **val = !strcmp(a, "--run") ? &run : !strcmp(a, "--csv") ? &csv : !strcmp(a, "--html") ? &html : NULL;
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (val) {
			if (i + 1 >= argc || !*argv[i + 1]) {
				cli_error("report", "%s needs a value", a);
				return EXIT_USAGE;
			}
			*val = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			cli_error("report", "unknown option '%s'", a);
			usage(stderr);
			return EXIT_USAGE;
		} else if (!name) {
			name = a;
		} else {
			cli_error("report", "unexpected argument '%s'", a);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		cli_error("report", "which report? (sluice reports lists them)");
		usage(stderr);
		return EXIT_USAGE;
	}
	int outs = (json ? 1 : 0) + (csv && !strcmp(csv, "-")) + (html && !strcmp(html, "-"));
	if (outs > 1) {
		cli_error("report", "only one of --json, --csv - and --html - can write to stdout");
		return EXIT_USAGE;
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	if (!reports_find(c.proj->reports, name)) {
		rc = unknown_report(c.proj, name);
		ctx_close(&c);
		return rc;
	}
	struct err e = {0};
	long run_id = 0;
	struct report_result r = {0};
	if (run && store_resolve_run(&c.store, run, NULL, &run_id, &e) < 0) {
		cli_error("report", "%s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	if (store_report_result(c.store.pg, c.proj->name, name, run_id, &r, &e) < 0) {
		if (err_code(&e) == ERR_NOTFOUND && run_id)
			cli_error("report", "no result of report '%s' in run %ld", name, run_id);
		else
			cli_error("report", "%s", e.msg);
		rc = err_code(&e) == ERR_NOTFOUND ? EXIT_RUN_FAILED : cli_exit_code(err_code(&e));
		goto out;
	}
	struct strbuf b = {0};
	if (csv) {
		report_csv(&b, r.columns, r.rows);
		if (write_out(csv, &b, &e) < 0) {
			cli_error("report", "%s", e.msg);
			rc = EXIT_RUN_FAILED;
		} else if (strcmp(csv, "-") && !g->quiet) {
			fprintf(stderr, "sluice report: wrote %s (%d rows)\n", csv, r.n_rows);
		}
		sb_reset(&b);
	}
	if (html && !rc) {
		report_html(&b, &r);
		if (write_out(html, &b, &e) < 0) {
			cli_error("report", "%s", e.msg);
			rc = EXIT_RUN_FAILED;
		} else if (strcmp(html, "-") && !g->quiet) {
			fprintf(stderr, "sluice report: wrote %s\n", html);
		}
	}
	sb_free(&b);
	if (json && !rc)
		json_out(result_json(&r));
	else if (!csv && !html && !rc)
		print_table(&r);
out:
	report_result_clear(&r);
	ctx_close(&c);
	return rc;
}

int cmd_reports(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_list(stdout);
			return EXIT_OK;
		} else {
			cli_error("reports", "unexpected argument '%s'", argv[i]);
			usage_list(stderr);
			return EXIT_USAGE;
		}
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE | CTX_LENIENT);
	if (rc)
		return rc;
	struct err e = {0};
	struct report_result *v = NULL;
	size_t n = 0;
	if (store_report_latest(c.store.pg, c.proj->name, &v, &n, &e) < 0) {
		cli_error("reports", "state database: %s", e.msg);
		rc = cli_exit_code(err_code(&e));
		ctx_close(&c);
		return rc;
	}
	const struct report_set *s = c.proj->reports;
	json_t *a = json_array();
	if (!json && s->n)
		printf("%-28s %-44s %8s %6s  %-20s %s\n", "REPORT", "TITLE", "ROWS", "RUN", "WHEN", "KEPT");
	for (size_t i = 0; i < s->n; i++) {
		const struct report_def *d = &s->v[i];
		const struct report_result *l = NULL;
		for (size_t k = 0; k < n && !l; k++)
			if (!strcmp(v[k].report, d->name))
				l = &v[k];
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "name", json_string(d->name));
			json_object_set_new(o, "title", json_string(d->title));
			json_object_set_new(o, "file", json_string(d->file));
			json_object_set_new(o, "chart", d->chart.type ? json_string(chart_type_name(d->chart.type)) : json_null());
			json_object_set_new(o, "results", json_integer(l ? l->n_results : 0));
			json_t *lj = json_null();
			if (l) {
				lj = json_object();
				json_object_set_new(lj, "run_id", l->run_id ? json_integer(l->run_id) : json_null());
				json_object_set_new(lj, "created_at", json_string(l->created_at));
				json_object_set_new(lj, "n_rows", json_integer(l->n_rows));
				json_object_set_new(lj, "total_rows", json_integer(l->total_rows));
				json_object_set_new(lj, "truncated", json_boolean(l->truncated));
			}
			json_object_set_new(o, "latest", lj);
			json_array_append_new(a, o);
			continue;
		}
		char rows[32] = "-", runs[32] = "-";
		if (l) {
			snprintf(rows, sizeof rows, "%d", l->n_rows);
			snprintf(runs, sizeof runs, "%ld", l->run_id);
		}
		printf("%-28s %-44.44s %8s %6s  %-20s %d\n", d->name, d->title, rows, runs, l ? l->created_at : "never",
		       l ? l->n_results : 0);
	}
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "reports", a);
		json_out(o);
	} else {
		json_decref(a);
		if (!s->n && !g->quiet)
			printf("no reports (reports/NAME.yml)\n");
	}
	report_results_free(v, n);
	ctx_close(&c);
	return EXIT_OK;
}
