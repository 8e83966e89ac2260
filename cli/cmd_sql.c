/* `sluice sql`: one statement on a connection, its rows as an aligned
 * table, JSON or CSV (RFC 4180). `sluice psql`: psql itself on a
 * connection, the password passed in its environment (never in argv, where
 * ps shows it), exec'd so the terminal is psql's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "connectors/pg.h"
#include "core/adhoc.h"
#include "core/browse.h"
#include "core/connections.h"
#include "core/ctx.h"

static const char SQL_USAGE[] =
	"usage: sluice sql [--conn NAME] [--json | --csv] [--timeout S] STATEMENT\n"
	"\n"
	"Runs one statement on connection NAME (default: `default`, the embedded\n"
	"warehouse, started if it is down) and prints its rows as an aligned table.\n"
	"STATEMENT '-' (or none) reads it from stdin.\n"
	"\n"
	"  --conn NAME  the connection (connections.yml, or default)\n"
	"  --json       {\"columns\": [...], \"rows\": [[...]], \"command\": TAG} (values as\n"
	"               text, NULL as null), a row a line\n"
	"  --csv        CSV (RFC 4180): a header line, CRLF line ends, fields with a\n"
	"               comma, quote or line break in quotes; NULL is an empty field,\n"
	"               the empty string \"\"\n"
	"  --json and --csv print the rows as they come (memory stays flat); a\n"
	"  statement that fails half way has printed the rows before it.\n"
	"  --timeout S  statement_timeout, seconds (default 30)\n"
	"  -h, --help   show this help\n"
	"\n"
	"In the table a line break or tab in a value shows as a space; --json and\n"
	"--csv keep them. An error the server places in the statement names its\n"
	"line and column.\n"
	"Exit: 0 ok, 1 the statement failed, 2 usage, 3 project error, 4 unreachable.\n";

static const char PSQL_USAGE[] =
	"usage: sluice psql [CONN] [-- PSQL-ARGS...]\n"
	"\n"
	"Runs psql on connection CONN (default: `default`, the embedded warehouse,\n"
	"started if it is down). The password goes to psql in PGPASSWORD, never on\n"
	"its command line. PSQL-ARGS go to psql as they are, e.g.\n"
	"  sluice psql default -- -XAtc 'select 1'\n"
	"\n"
	"  -h, --help  show this help\n"
	"\n"
	"Exit: psql's own; 1 when psql cannot run, 2 usage, 3 project error.\n";

/* ---- printing a result -------------------------------------------------------- */

/* Display width of UTF-8 text: its characters. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(int n)
{
	for (; n > 0; n--)
		putchar(' ');
}

/* psql's aligned format: a header, a rule, the rows, "(N rows)". */
static void print_table(const struct pg_result *r)
{
	int nc = pg_cols(r), nr = pg_rows(r);
	if (!nc) {
		printf("%s\n", pg_cmd_tag(r));
		return;
	}
	int *w = xcalloc((size_t)nc, sizeof *w);
	for (int j = 0; j < nc; j++) {
		w[j] = width(pg_col_name(r, j));
		for (int i = 0; i < nr; i++) {
			int k = width(pg_val(r, i, j));
			w[j] = k > w[j] ? k : w[j];
		}
	}
	for (int j = 0; j < nc; j++) {
		const char *h = pg_col_name(r, j);
		int left = (w[j] - width(h)) / 2;
		printf("%s", j ? " | " : " ");
		pad(left);
		printf("%s", h);
		pad(w[j] - width(h) - left);
	}
	printf("\n");
	for (int j = 0; j < nc; j++) {
		printf("%s", j ? "-+-" : "-");
		for (int k = 0; k < w[j]; k++)
			putchar('-');
	}
	printf("-\n");
	for (int i = 0; i < nr; i++) {
		for (int j = 0; j < nc; j++) {
			const char *v = pg_val(r, i, j);
			/* one row per line: a line break or tab is a space here */
			printf("%s", j ? " | " : " ");
			if (pg_col_numeric(r, j))
				pad(w[j] - width(v));
			for (const char *p = v; *p; p++)
				putchar(*p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
			if (!pg_col_numeric(r, j) && j + 1 < nc)
				pad(w[j] - width(v));
		}
		printf("\n");
	}
	printf("(%d row%s)\n", nr, nr == 1 ? "" : "s");
	free(w);
}

static void csv_field(const char *s, bool null)
{
	browse_csv_field(stdout, s, null);
}

/* A JSON string: UTF-8 as it is, quotes, backslashes and control
 * characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* CSV and JSON go out a row at a time, as the rows come. */
struct stream {
	bool json;
	bool started;  /* the header (CSV) or the columns (JSON) are out */
	long rows;
};

static void stream_head(struct stream *o, const struct pg_result *r)
{
	int nc = pg_cols(r);
	o->started = true;
	if (o->json) {
		fputs("{\"columns\": [", stdout);
		for (int j = 0; j < nc; j++) {
			fputs(j ? ", " : "", stdout);
			json_str(pg_col_name(r, j));
		}
		fputs("], \"rows\": [", stdout);
		return;
	}
	for (int j = 0; j < nc; j++) {
		if (j)
			putchar(',');
		csv_field(pg_col_name(r, j), false);
	}
	if (nc)
		fputs("\r\n", stdout);
}

static int stream_row(const struct pg_result *r, void *arg)
{
	struct stream *o = arg;
	int nc = pg_cols(r);
	if (!o->started)
		stream_head(o, r);
	if (o->json) {
		fputs(o->rows ? ",\n  [" : "\n  [", stdout);
		for (int j = 0; j < nc; j++) {
			fputs(j ? ", " : "", stdout);
			if (pg_isnull(r, 0, j))
				fputs("null", stdout);
			else
				json_str(pg_val(r, 0, j));
		}
		putchar(']');
	} else {
		for (int j = 0; j < nc; j++) {
			if (j)
				putchar(',');
			csv_field(pg_val(r, 0, j), pg_isnull(r, 0, j));
		}
		fputs("\r\n", stdout);
	}
	o->rows++;
	return 0;
}

/* After the last row: a header for no rows, and JSON's end. */
static void stream_end(struct stream *o, const struct pg_result *last)
{
	if (!o->started)
		stream_head(o, last);
	if (o->json) {
		fputs(o->rows ? "\n], \"command\": " : "], \"command\": ", stdout);
		json_str(pg_cmd_tag(last));
		fputs("}\n", stdout);
	}
}

/* The statement's line the error points at, and a caret under the place. */
static void show_place(const char *sql, const struct adhoc_pos *pos)
{
	const char *line = sql + pos->line_off;
	size_t n = strcspn(line, "\n");
	fprintf(stderr, "  %.*s\n  ", (int)n, line);
	for (const char *p = line; p < sql + pos->off && p < line + n; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			fputc(*p == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

static char *read_stdin(void)
{
	struct strbuf b = {0};
	sb_adds(&b, "");
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		sb_add(&b, buf, n);
	return sb_steal(&b);
}

int cmd_sql(struct cli *g, int argc, char **argv)
{
	bool json = g->json, csv = false;
	const char *conn = "default", *stmt = NULL;
	long timeout = 30;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(SQL_USAGE, stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--csv")) {
			csv = true;
		} else if (!strcmp(a, "--conn") || !strcmp(a, "-c")) {
			if (++i >= argc) {
				fprintf(stderr, "sluice sql: %s needs a connection name\n%s", a, SQL_USAGE);
				return EXIT_USAGE;
			}
			conn = argv[i];
		} else if (!strcmp(a, "--timeout")) {
			if (!cli_number("sql", "--timeout", i + 1 < argc ? argv[i + 1] : NULL, "seconds", 1, 86400, &timeout))
				return EXIT_USAGE;
			i++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "sluice sql: unknown option '%s'\n%s", a, SQL_USAGE);
			return EXIT_USAGE;
		} else if (!stmt) {
			stmt = a;
		} else {
			fprintf(stderr, "sluice sql: give the statement as one argument (quote it); unexpected '%s'\n", a);
			return EXIT_USAGE;
		}
	}
	if (json && csv) {
		fprintf(stderr, "sluice sql: give --json or --csv, not both\n");
		return EXIT_USAGE;
	}
	char *owned = NULL;
	if (!stmt || !strcmp(stmt, "-"))
		stmt = owned = read_stdin();
	if (!*stmt) {
		free(owned);
		fprintf(stderr, "sluice sql: no statement\n%s", SQL_USAGE);
		return EXIT_USAGE;
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_QUIET);
	if (rc) {
		free(owned);
		return rc;
	}
	/* the embedded warehouse is started on demand like everything else */
	if (!connections_get(&c.conns, conn) && !strcmp(conn, "default") && c.svc.embedded_pg) {
		ctx_close(&c);
		if ((rc = cli_open(g, &c, CTX_QUIET | CTX_STORE))) {
			free(owned);
			return rc;
		}
	}
	const char *dsn;
	struct err e = {0};
	if (ctx_conninfo(&c, conn, &dsn, &e) < 0) {
		cli_error("sql", "%s", e.msg);
		ctx_close(&c);
		free(owned);
		return EXIT_RUN_FAILED;
	}
	struct adhoc_pos pos;
	struct stream o = {.json = json};
	struct pg_result *r = json || csv ? adhoc_stream(dsn, conn, stmt, (int)timeout, stream_row, &o, &pos, &e)
					  : adhoc_run(dsn, conn, stmt, (int)timeout, &pos, &e);
	if (!r) {
		fflush(stdout);
		cli_error("sql", "%s", e.msg);
		if (pos.line)
			show_place(stmt, &pos);
		rc = e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
	} else if (json || csv) {
		stream_end(&o, r);
	} else {
		print_table(r);
	}
	pg_clear(r);
	ctx_close(&c);
	free(owned);
	return rc;
}

/* ---- psql ------------------------------------------------------------------------ */

int cmd_psql(struct cli *g, int argc, char **argv)
{
	const char *conn = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(PSQL_USAGE, stdout);
			return EXIT_OK;
		} else if (a[0] == '-') {
			fprintf(stderr, "sluice psql: unknown option '%s'; psql's own options go after --\n%s", a, PSQL_USAGE);
			return EXIT_USAGE;
		} else if (!conn) {
			conn = a;
		} else {
			fprintf(stderr, "sluice psql: unexpected argument '%s'; psql's own go after --\n%s", a, PSQL_USAGE);
			return EXIT_USAGE;
		}
	}
	if (!conn)
		conn = "default";
	struct sctx c;
	int rc = cli_open(g, &c, CTX_QUIET);
	if (rc)
		return rc;
	if (!connections_get(&c.conns, conn) && !strcmp(conn, "default") && c.svc.embedded_pg) {
		ctx_close(&c);
		if ((rc = cli_open(g, &c, CTX_QUIET | CTX_STORE)))
			return rc;
	}
	const char *dsn;
	struct err e = {0};
	if (ctx_conninfo(&c, conn, &dsn, &e) < 0) {
		cli_error("psql", "%s", e.msg);
		ctx_close(&c);
		return EXIT_RUN_FAILED;
	}
	/* the password apart from the rest, which psql may show */
	struct pg_dsn d;
	pg_dsn_split(dsn, &d);
	char *guarded = connections_dsn_guarded(d.dsn, 0);
	if (d.password)
		setenv("PGPASSWORD", d.password, 1);
	pg_dsn_free(&d);
	ctx_close(&c);
	char **args = xcalloc((size_t)(argc - i) + 4, sizeof *args);
	size_t n = 0;
	args[n++] = "psql";
	args[n++] = "-d";
	args[n++] = guarded;
	for (; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execvp("psql", args);
	cli_error("psql", "cannot run psql: %s (it comes with the postgresql-client package)", strerror(errno));
	free(guarded);
	free(args);
	return EXIT_RUN_FAILED;
}
