/* `sluice tables` and `sluice rows`: the batch face of the console's table
 * browser (core/browse.h): the schemas of a connection, the tables of a
 * schema with their size and last writer, and a table's rows (filtered,
 * sorted, a page by keyset) as a table, JSON or CSV. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "connectors/pg.h"
#include "core/browse.h"
#include "core/ctx.h"

static const char TABLES_USAGE[] =
	"usage: sluice tables [CONN] [SCHEMA] [--json]\n"
	"  Without SCHEMA: the schemas of connection CONN (default: the warehouse)\n"
	"  and how many tables each has. With it: its tables, views and\n"
	"  materialized views with their estimated rows (pg_class.reltuples, ?\n"
	"  before the first ANALYZE), size on disk and the task that wrote each\n"
	"  last (sluice.writes in that database).\n";

static const char ROWS_USAGE[] =
	"usage: sluice rows TABLE [--conn C] [--where EXPR] [--sort COL[:desc]] [--limit N] [--json | --csv]\n"
	"  The first N rows (default 50) of TABLE (schema.table; public without a\n"
	"  schema) in the order of its primary key (ctid without one), or of COL\n"
	"  then the key. --where filters with an SQL expression. Read in a READ\n"
	"  ONLY transaction with a 10 s statement timeout. --csv without --limit\n"
	"  streams every row of the view (RFC 4180, a header line).\n";

/* The connection conn of the project, connected; NULL after saying why
 * (*rc the exit code). */
static struct pg_conn *open_conn(struct cli *g, struct sctx *c, const char *cmd, const char *conn, int *rc)
{
	*rc = cli_open(g, c, CTX_QUIET);
	if (*rc)
		return NULL;
	/* the embedded warehouse is started on demand like everything else */
	if (!connections_get(&c->conns, conn) && !strcmp(conn, "default") && c->svc.embedded_pg) {
		ctx_close(c);
		if ((*rc = cli_open(g, c, CTX_QUIET | CTX_STORE)))
			return NULL;
	}
	const char *dsn;
	struct err e = {0};
	if (ctx_conninfo(c, conn, &dsn, &e) < 0) {
		cli_error(cmd, "%s", e.msg);
		ctx_close(c);
		*rc = EXIT_RUN_FAILED;
		return NULL;
	}
	struct pg_conn *pg = pg_connect(dsn, conn, &e);
	if (!pg) {
		cli_error(cmd, "%s", e.msg);
		ctx_close(c);
		*rc = cli_exit_code(e.code);
		return NULL;
	}
	return pg;
}

static int tables_schemas(struct pg_conn *pg, bool json, const char *conn, struct err *e)
{
	struct browse_stmt s;
	browse_schemas_stmt(&s);
	struct pg_result *r = browse_exec(pg, &s, BROWSE_TIMEOUT_S, e);
	browse_stmt_free(&s);
	if (!r)
		return err_code(e);
	struct browse_schema *v;
	size_t n;
	bool has_writes;
	browse_schemas_parse(r, &v, &n, &has_writes);
	pg_clear(r);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s, s:I}", "schema", v[i].name, "tables", (json_int_t)v[i].tables));
		json_out(json_pack("{s:s, s:o}", "connection", conn, "schemas", a));
	} else {
		printf("%-32s %s\n", "SCHEMA", "TABLES");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %ld\n", v[i].name, v[i].tables);
	}
	browse_schemas_free(v, n);
	return 0;
}

static int tables_list(struct pg_conn *pg, bool json, const char *conn, const char *schema, struct err *e)
{
	struct browse_stmt s;
	browse_schemas_stmt(&s);
	struct pg_result *r = browse_exec(pg, &s, BROWSE_TIMEOUT_S, e);
	browse_stmt_free(&s);
	if (!r)
		return err_code(e);
	struct browse_schema *sv;
	size_t sn;
	bool has_writes;
	browse_schemas_parse(r, &sv, &sn, &has_writes);
	pg_clear(r);
	bool found = false;
	for (size_t i = 0; i < sn; i++)
		found |= !strcmp(sv[i].name, schema);
	browse_schemas_free(sv, sn);
	if (!found)
		return err_setc(e, ERR_NOTFOUND, "%s: no schema %s (sluice tables %s lists them)", conn, schema, conn);
	browse_tables_stmt(&s, schema, has_writes);
	r = browse_exec(pg, &s, BROWSE_TIMEOUT_S, e);
	browse_stmt_free(&s);
	if (!r)
		return err_code(e);
	struct browse_table *v;
	size_t n;
	browse_tables_parse(r, has_writes, &v, &n);
	pg_clear(r);
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *w = json_null();
			if (v[i].has_writer) {
				const struct write_info *wi = &v[i].writer;
				w = json_pack("{s:s, s:s, s:I, s:i, s:o, s:s}", "pipeline", wi->pipeline, "task", wi->task, "run_id",
					      (json_int_t)wi->run_id, "try", wi->try_number, "rows",
					      wi->rows >= 0 ? json_integer(wi->rows) : json_null(), "written_at", wi->written_at);
			}
			json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:I, s:s, s:o}", "name", v[i].name, "kind",
							   browse_kind_name(v[i].kind), "est_rows",
							   v[i].est_rows >= 0 ? json_integer(v[i].est_rows) : json_null(),
							   "bytes", (json_int_t)v[i].bytes, "size", v[i].size, "last_writer", w));
		}
		json_out(json_pack("{s:s, s:s, s:o}", "connection", conn, "schema", schema, "tables", a));
	} else {
		printf("%-32s %-11s %12s %10s  %s\n", "TABLE", "KIND", "EST. ROWS", "SIZE", "LAST WRITTEN BY");
		for (size_t i = 0; i < n; i++) {
			char est[32], by[300] = "";
			snprintf(est, sizeof est, v[i].est_rows >= 0 ? "%lld" : "?", v[i].est_rows);
			const struct write_info *wi = &v[i].writer;
			if (v[i].has_writer && *wi->task)
				snprintf(by, sizeof by, "%s.%s run %ld try %d at %s", wi->pipeline, wi->task, wi->run_id,
					 wi->try_number, wi->written_at);
			else if (v[i].has_writer) /* no task: an ad-hoc `sluice load` */
				snprintf(by, sizeof by, "sluice load at %s", wi->written_at);
			printf("%-32s %-11s %12s %10s  %s\n", v[i].name, browse_kind_name(v[i].kind), est, v[i].size, by);
		}
	}
	browse_tables_free(v, n);
	return 0;
}

int cmd_tables(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	const char *conn = NULL, *schema = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(TABLES_USAGE, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "sluice tables: unknown option '%s'\n%s", a, TABLES_USAGE);
			return EXIT_USAGE;
		} else if (!conn) {
			conn = a;
		} else if (!schema) {
			schema = a;
		} else {
			fprintf(stderr, "sluice tables: unexpected '%s'\n%s", a, TABLES_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!conn)
		conn = "default";
	struct sctx c;
	int rc;
	struct pg_conn *pg = open_conn(g, &c, "tables", conn, &rc);
	if (!pg)
		return rc;
	struct err e = {0};
	int r = schema ? tables_list(pg, json, conn, schema, &e) : tables_schemas(pg, json, conn, &e);
	if (r < 0) {
		cli_error("tables", "%s", e.msg);
		rc = r == ERR_NOTFOUND ? EXIT_RUN_FAILED : cli_exit_code(r);
	}
	pg_close(pg);
	ctx_close(&c);
	return rc;
}

/* ---- rows ------------------------------------------------------------------------ */

static void print_rows(const struct browse_rel *rel, const struct pg_result *r, bool json, bool csv)
{
	int nr = pg_rows(r);
	int nc = (int)rel->n_cols;
	if (json) {
		json_t *cols = json_array(), *rows = json_array();
		for (int j = 0; j < nc; j++)
			json_array_append_new(cols, json_string(rel->cols[j]));
		for (int i = 0; i < nr; i++) {
			json_t *row = json_array();
			for (int j = 0; j < nc; j++)
				json_array_append_new(row, pg_isnull(r, i, j) ? json_null() : json_string(pg_val(r, i, j)));
			json_array_append_new(rows, row);
		}
		json_out(json_pack("{s:s, s:s, s:o, s:o}", "schema", rel->schema, "table", rel->table, "columns", cols,
				   "rows", rows));
		return;
	}
	if (csv) {
		for (int j = 0; j < nc; j++) {
			if (j)
				putchar(',');
			browse_csv_field(stdout, rel->cols[j], false);
		}
		fputs("\r\n", stdout);
		for (int i = 0; i < nr; i++) {
			for (int j = 0; j < nc; j++) {
				if (j)
					putchar(',');
				browse_csv_field(stdout, pg_val(r, i, j), pg_isnull(r, i, j));
			}
			fputs("\r\n", stdout);
		}
		return;
	}
	int *w = xcalloc((size_t)nc + 1, sizeof *w);
	for (int j = 0; j < nc; j++) {
		w[j] = (int)strlen(rel->cols[j]);
		for (int i = 0; i < nr; i++) {
			int l = (int)strlen(pg_val(r, i, j));
			w[j] = l > w[j] ? l : w[j];
		}
		if (w[j] > 40)
			w[j] = 40;
	}
	for (int j = 0; j < nc; j++)
		printf("%s%-*.*s", j ? "  " : "", w[j], w[j], rel->cols[j]);
	putchar('\n');
	for (int i = 0; i < nr; i++) {
		for (int j = 0; j < nc; j++)
			printf("%s%-*.*s", j ? "  " : "", w[j], w[j], pg_isnull(r, i, j) ? "" : pg_val(r, i, j));
		putchar('\n');
	}
	printf("(%d row%s)\n", nr, nr == 1 ? "" : "s");
	free(w);
}

int cmd_rows(struct cli *g, int argc, char **argv)
{
	bool json = g->json, csv = false, limit_set = false;
	const char *conn = "default", *name = NULL, *where = NULL, *sort = NULL;
	long limit = 50;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(ROWS_USAGE, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--csv")) {
			csv = true;
		} else if (!strcmp(a, "--conn") || !strcmp(a, "--where") || !strcmp(a, "--sort")) {
			if (++i >= argc) {
				fprintf(stderr, "sluice rows: %s needs a value\n%s", a, ROWS_USAGE);
				return EXIT_USAGE;
			}
			*(a[2] == 'c' ? &conn : a[2] == 'w' ? &where : &sort) = argv[i];
		} else if (!strcmp(a, "--limit")) {
			if (!cli_number("rows", "--limit", i + 1 < argc ? argv[i + 1] : NULL, "rows", 1, 1000000, &limit))
				return EXIT_USAGE;
			limit_set = true;
			i++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "sluice rows: unknown option '%s'\n%s", a, ROWS_USAGE);
			return EXIT_USAGE;
		} else if (!name) {
			name = a;
		} else {
			fprintf(stderr, "sluice rows: unexpected '%s'\n%s", a, ROWS_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!name) {
		fprintf(stderr, "sluice rows: which table?\n%s", ROWS_USAGE);
		return EXIT_USAGE;
	}
	if (json && csv) {
		fprintf(stderr, "sluice rows: give --json or --csv, not both\n");
		return EXIT_USAGE;
	}
	char schema[PG_NAME_MAX + 1], table[PG_NAME_MAX + 1];
	browse_split_name(name, schema, sizeof schema, table, sizeof table);
	struct sctx c;
	int rc;
	struct pg_conn *pg = open_conn(g, &c, "rows", conn, &rc);
	if (!pg)
		return rc;
	struct err e = {0};
	struct browse_rel rel;
	struct browse_view bv = {where, -1, false, (int)limit};
	int r = browse_rel_load(pg, schema, table, &rel, &e);
	if (r == 0 && sort) {
		char col[PG_NAME_MAX + 8];
		snprintf(col, sizeof col, "%s", sort);
		char *colon = strrchr(col, ':');
		if (colon && !strcmp(colon, ":desc")) {
			*colon = '\0';
			bv.desc = true;
		} else if (colon && !strcmp(colon, ":asc")) {
			*colon = '\0';
		}
		for (size_t j = 0; j < rel.n_cols; j++)
			if (!strcmp(rel.cols[j], col))
				bv.sort = (int)j;
		if (bv.sort < 0)
			r = err_set(&e, "%s.%s has no column %s", schema, table, col);
	}
	if (r == 0 && csv && !limit_set) {
		long long n;
		r = browse_export_csv(pg, &rel, &bv, stdout, &n, &e);
	} else if (r == 0) {
		struct browse_stmt s;
		browse_rows_stmt(&rel, &bv, BP_FIRST, NULL, &s);
		struct pg_result *res = browse_exec(pg, &s, BROWSE_TIMEOUT_S, &e);
		browse_stmt_free(&s);
		if (!res)
			r = err_code(&e);
		else
			print_rows(&rel, res, json, csv);
		pg_clear(res);
	}
	if (r < 0) {
		fflush(stdout);
		cli_error("rows", "%s", e.msg);
		rc = r == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
	}
	browse_rel_free(&rel);
	pg_close(pg);
	ctx_close(&c);
	return rc;
}
