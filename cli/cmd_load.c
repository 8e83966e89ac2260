/* `sluice load FILE --into TABLE`: an ad-hoc load, the same core as the
 * pipeline task kind; `sluice rejects`: the rows loads kept out; `sluice
 * loads`: the loads themselves. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "connectors/pg.h"
#include "core/load.h"
#include "core/query.h"
#include "core/rejects.h"

static void load_usage(FILE *out)
{
	fprintf(out,
		"usage: sluice [-C DIR] load FILE --into TABLE [--contract NAME|FILE]\n"
		"              [--mode append|replace|merge] [--key COLS] [--max-rejects N|N%%]\n"
		"              [--parallel N] [--create] [--conn NAME] [--json]\n"
		"              [--format csv|jsonl|json] [--delimiter C] [--no-header]\n"
		"              [--columns A,B,...] [--encoding utf8|latin1]\n"
		"\n"
		"Loads FILE (\"-\" = stdin; .gz is read as gzip) into TABLE (or schema.table) of a\n"
		"connection of the project. Every row is checked against the contract\n"
		"(contracts/NAME.yml, or a file) when one is given; rows that are malformed,\n"
		"break the contract or that PostgreSQL refuses are not loaded but kept in the\n"
		"state database: `sluice rejects --load ID` lists them. A load that fails\n"
		"leaves TABLE as it was.\n"
		"\n"
		"  --into TABLE      the target table; it must exist unless --create\n"
		"  --contract C      check rows against contracts/C.yml (or the file C); without\n"
		"                    one, the columns come from the header and go in as text\n"
		"  --mode M          append (default): add the rows; replace: the rows become the\n"
		"                    table's content; merge: upsert on --key, setting\n"
		"                    load_timestamp (earlier rows of a key repeated in the file\n"
		"                    are rejected as superseded)\n"
		"  --key COLS        merge key, comma-separated (default: the contract's key)\n"
		"  --max-rejects N   fail, loading nothing, past N rejects (or N%% of the rows)\n"
		"  --parallel N      COPY streams (default: cores - 1 for replace and merge;\n"
		"                    append uses one stream straight into the table unless asked)\n"
		"  --create          create TABLE (and its schema) if missing (contract types,\n"
		"                    else text)\n"
		"  --conn NAME       the connection (default: the project's target)\n"
		"  --format F        csv, jsonl or json (default: from the file name)\n"
		"  --delimiter C     CSV field delimiter (default ,)\n"
		"  --no-header       the CSV has no header line (names from --columns or the\n"
		"                    contract)\n"
		"  --columns LIST    the file's column names, comma-separated\n"
		"  --encoding E      utf8 (default) or latin1\n"
		"  --json            one JSON document on stdout\n"
		"\n"
		"Exit status: 0 loaded, 1 the load failed (nothing loaded), 2 usage,\n"
		"3 project or contract error, 4 a database is unreachable.\n");
}

/* "a,b,c" into a NULL-terminated vector (malloc'ed, one block per item). */
static char **split_list(const char *s, size_t *n)
{
	size_t cap = 4;
	char **v = xcalloc(cap, sizeof *v);
	*n = 0;
	const char *p = s;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		while (len && p[0] == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (*n + 2 > cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof *v);
		}
		if (len)
			v[(*n)++] = xstrndup(p, len);
		if (!c)
			break;
		p = c + 1;
	}
	v[*n] = NULL;
	return v;
}

static void list_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* contracts/NAME.yml of the project, or NAME as a path. */
static char *contract_path(const char *root, const char *name)
{
	if (!strchr(name, '/') && !strstr(name, ".yml") && !strstr(name, ".yaml")) {
		char *f = xasprintf("%s/contracts/%s.yml", root, name);
		if (path_exists(f))
			return f;
		free(f);
		f = xasprintf("%s/contracts/%s.yaml", root, name);
		if (path_exists(f))
			return f;
		free(f);
		return xasprintf("%s/contracts/%s.yml", root, name);
	}
	return xstrdup(name);
}

int cmd_load(struct cli *g, int argc, char **argv)
{
	enum { O_INTO = 256, O_CONTRACT, O_MODE, O_KEY, O_MAXREJ, O_PARALLEL, O_CREATE, O_CONN, O_JSON, O_FORMAT,
	       O_DELIM, O_NOHEADER, O_COLUMNS, O_ENCODING, O_HELP };
	static const struct option opts[] = {
		{"into", required_argument, NULL, O_INTO},
		{"contract", required_argument, NULL, O_CONTRACT},
		{"mode", required_argument, NULL, O_MODE},
		{"key", required_argument, NULL, O_KEY},
		{"max-rejects", required_argument, NULL, O_MAXREJ},
		{"parallel", required_argument, NULL, O_PARALLEL},
		{"create", no_argument, NULL, O_CREATE},
		{"conn", required_argument, NULL, O_CONN},
		{"json", no_argument, NULL, O_JSON},
		{"format", required_argument, NULL, O_FORMAT},
		{"delimiter", required_argument, NULL, O_DELIM},
		{"no-header", no_argument, NULL, O_NOHEADER},
		{"columns", required_argument, NULL, O_COLUMNS},
		{"encoding", required_argument, NULL, O_ENCODING},
		{"help", no_argument, NULL, O_HELP},
		{0, 0, 0, 0},
	};
	struct load_opts o = {0};
	rec_opts_init(&o.rec);
	o.max_rejects = -1;
	o.max_rejects_pct = -1;
	o.mode = LOAD_APPEND;
	const char *contract = NULL, *conn = NULL;
	char **key = NULL, **columns = NULL;
	size_t n_key = 0, n_columns = 0;
	bool json = g->json;
	int rc = EXIT_USAGE;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_INTO: o.into = optarg; break;
		case O_CONTRACT: contract = optarg; break;
		case O_MODE:
			if (load_mode_parse(optarg, &o.mode) < 0) {
				cli_error("load", "--mode must be append, replace or merge, not '%s'", optarg);
				goto out;
			}
			break;
		case O_KEY:
			list_free(key, n_key);
			key = split_list(optarg, &n_key);
			break;
		case O_MAXREJ:
			if (load_max_rejects_parse(optarg, &o.max_rejects, &o.max_rejects_pct) < 0) {
				cli_error("load", "--max-rejects wants a count or a percentage (10, 0.5%%), not '%s'", optarg);
				goto out;
			}
			break;
		case O_PARALLEL: {
			long v;
			if (!cli_number("load", "--parallel", optarg, "a number of streams", 1, 256, &v))
				goto out;
			o.parallel = (int)v;
			o.parallel_set = true;
			break;
		}
		case O_CREATE: o.create = true; break;
		case O_CONN: conn = optarg; break;
		case O_JSON: json = true; break;
		case O_FORMAT:
			o.rec.format_set = true;
			if (!strcmp(optarg, "csv"))
				o.rec.format = REC_CSV;
			else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "ndjson"))
				o.rec.format = REC_JSONL;
			else if (!strcmp(optarg, "json"))
				o.rec.format = REC_JSON_ARRAY;
			else {
				cli_error("load", "--format must be csv, jsonl or json, not '%s'", optarg);
				goto out;
			}
			break;
		case O_DELIM:
			if (!strcmp(optarg, "\\t") || !strcmp(optarg, "tab"))
				o.rec.delimiter = '\t';
			else if (strlen(optarg) == 1)
				o.rec.delimiter = optarg[0];
			else {
				cli_error("load", "--delimiter wants one character, not '%s'", optarg);
				goto out;
			}
			break;
		case O_NOHEADER: o.rec.header = false; break;
		case O_COLUMNS:
			list_free(columns, n_columns);
			columns = split_list(optarg, &n_columns);
			break;
		case O_ENCODING:
			if (!strcasecmp(optarg, "utf8") || !strcasecmp(optarg, "utf-8"))
				o.rec.encoding = REC_UTF8;
			else if (!strcasecmp(optarg, "latin1") || !strcasecmp(optarg, "iso-8859-1"))
				o.rec.encoding = REC_LATIN1;
			else {
				cli_error("load", "--encoding must be utf8 or latin1, not '%s'", optarg);
				goto out;
			}
			break;
		case 'h':
		case O_HELP:
			load_usage(stdout);
			rc = EXIT_OK;
			goto out;
		default:
			cli_error("load", "unknown option '%s'", argv[optind - 1]);
			load_usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || !o.into) {
		cli_error("load", optind >= argc ? "which file? (sluice load FILE --into TABLE)"
				  : !o.into		  ? "--into TABLE is required"
							  : "one file at a time");
		load_usage(stderr);
		goto out;
	}
	/* checked here, before any server is asked, as a load task's 'into' is */
	const char *dot = strchr(o.into, '.');
	if (!o.into[0]) {
		cli_error("load", "--into: a table name is required");
		goto out;
	}
	if (dot && (dot == o.into || !dot[1] || strchr(dot + 1, '.'))) {
		cli_error("load", "--into: must be a table or schema.table, got '%s'", o.into);
		goto out;
	}
	o.source = argv[optind];
	if (o.mode == LOAD_MERGE && !n_key && !contract) {
		cli_error("load", "--mode merge needs --key COLS (or a contract with a key)");
		goto out;
	}
	if (n_key && o.mode != LOAD_MERGE) {
		cli_error("load", "--key applies to --mode merge only");
		goto out;
	}
	o.key = (const char *const *)key;
	o.n_key = n_key;
	o.rec.columns = (const char *const *)columns;
	o.rec.n_columns = n_columns;

	struct sctx c;
	if ((rc = cli_open(g, &c, CTX_STORE)) != 0)
		goto out;
	struct err e = {0};
	const char *cname = conn ? conn : c.proj->target ? c.proj->target : "default";
	char *cpath = contract ? contract_path(c.proj->root, contract) : NULL;
	if (ctx_conninfo(&c, cname, &o.conninfo, &e) < 0) {
		cli_error("load", "%s", e.msg);
		rc = EXIT_PROJECT;
		goto close;
	}
	o.contract = cpath;
	o.state_conninfo = c.svc.state_conninfo;
	o.project = c.proj->name;
	o.tty = !g->quiet && !json && isatty(2);
	/* the store's connection is not needed while loading */
	struct load_stats st;
	int lrc = load_run(&o, &st, &e);
	rc = cli_exit_code(lrc);
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "load_id", json_integer(st.load_id));
		json_object_set_new(j, "source", json_string(o.source));
		json_object_set_new(j, "into", json_string(o.into));
		json_object_set_new(j, "mode", json_string(load_mode_name(o.mode)));
		json_object_set_new(j, "state", json_string(lrc ? "failed" : "success"));
		json_object_set_new(j, "rows_in", json_integer(st.rows_in));
		json_object_set_new(j, "rows_loaded", json_integer(st.rows_loaded));
		json_object_set_new(j, "rejected", json_integer(st.rejected));
		json_object_set_new(j, "superseded", json_integer(st.superseded));
		json_object_set_new(j, "streams", json_integer(st.streams));
		json_object_set_new(j, "copy_format", json_string(st.binary ? "binary" : "text"));
		json_object_set_new(j, "seconds", json_real((double)(long long)(st.seconds * 1000 + 0.5) / 1000));
		json_object_set_new(j, "error", lrc ? json_string(e.msg) : json_null());
		json_out(j);
	}
	if (lrc) {
		cli_error("load", "%s", e.msg);
	} else if (!json && !g->quiet) {
		printf("loaded %lld rows into %s (%lld read, %lld rejected", (long long)st.rows_loaded, o.into,
		       (long long)st.rows_in, (long long)st.rejected);
		if (st.superseded)
			printf(", %lld superseded", (long long)st.superseded);
		printf(") in %.2f s, %.0f rows/s; load %ld\n", st.seconds,
		       st.seconds > 0 ? (double)st.rows_in / st.seconds : 0.0, st.load_id);
	}
	if (st.rejected && !json && !g->quiet)
		fprintf(stderr, "sluice load: %lld rows rejected: sluice rejects --load %ld\n", (long long)st.rejected,
			st.load_id);
close:
	free(cpath);
	ctx_close(&c);
out:
	list_free(key, n_key);
	list_free(columns, n_columns);
	return rc;
}

/* ---- rejects ------------------------------------------------------------------ */

static void rejects_usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] rejects RUN [TASK] [--limit N] [--json]\n"
		     "       sluice [-C DIR] rejects --load ID [--limit N] [--json]\n"
		     "\n"
		     "Lists the rows the load tasks of RUN (a run id, or 'latest') kept out of\n"
		     "their tables (the latest try of each), or those of one load (the id\n"
		     "`sluice load` prints): task, source line, column, reason and the raw row.\n"
		     "\n"
		     "  --limit N   at most N rows (default: all)\n"
		     "  --json      {\"run_id\", \"load_id\", \"rejects\": [{\"task\", \"load_id\", \"source\",\n"
		     "              \"line\", \"column\", \"reason\", \"raw\"}]}\n"
		     "\n"
		     "Exit status: 0 ok, 1 no such run or load, 2 usage, 3 project error,\n"
		     "4 the state database is unreachable.\n");
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

int cmd_rejects(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	long load_id = 0;
	int limit = 0;
	const char *pos[2] = {NULL, NULL};
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			rejects_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--load") || !strcmp(a, "--limit")) {
			long v;
			if (!cli_number("rejects", a, i + 1 < argc ? argv[++i] : NULL, "an id or a count", 1, LONG_MAX, &v))
				return EXIT_USAGE;
			if (!strcmp(a, "--load"))
				load_id = v;
			else
				limit = (int)(v < INT_MAX ? v : INT_MAX);
		} else if (a[0] == '-' && a[1]) {
			cli_error("rejects", "unknown option '%s'", a);
			rejects_usage(stderr);
			return EXIT_USAGE;
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			cli_error("rejects", "unexpected argument '%s'", a);
			return EXIT_USAGE;
		}
	}
	if ((!load_id && npos == 0) || (load_id && npos > 0)) {
		cli_error("rejects", load_id ? "--load ID takes no RUN" : "which run? (sluice rejects RUN [TASK])");
		rejects_usage(stderr);
		return EXIT_USAGE;
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE);
	if (rc)
		return rc;
	struct err e = {0};
	long run_id = 0;
	struct reject_row *rows = NULL;
	size_t n = 0;
	if (!load_id && store_resolve_run(&c.store, pos[0], NULL, &run_id, &e) < 0) {
		cli_error("rejects", "%s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	if ((load_id ? store_load_rejects(c.store.pg, load_id, limit, &rows, &n, &e)
		     : store_run_rejects(c.store.pg, run_id, pos[1], limit, &rows, &n, &e)) < 0) {
		cli_error("rejects", "%s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "run_id", run_id ? json_integer(run_id) : json_null());
		json_object_set_new(j, "load_id", load_id ? json_integer(load_id) : json_null());
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "task", str_json(rows[i].task));
			json_object_set_new(o, "load_id", json_integer(rows[i].load_id));
			json_object_set_new(o, "source", str_json(rows[i].source));
			json_object_set_new(o, "line", rows[i].line ? json_integer(rows[i].line) : json_null());
			json_object_set_new(o, "column", str_json(rows[i].col));
			json_object_set_new(o, "reason", str_json(rows[i].reason));
			json_object_set_new(o, "raw", str_json(rows[i].raw));
			json_array_append_new(a, o);
		}
		json_object_set_new(j, "rejects", a);
		json_out(j);
	} else if (n == 0) {
		if (!g->quiet)
			printf("no rejects\n");
	} else {
		printf("%-16s %8s  %-18s %s\n", "TASK", "LINE", "COLUMN", "REASON");
		for (size_t i = 0; i < n; i++) {
			char line[32] = "-";
			if (rows[i].line)
				snprintf(line, sizeof line, "%lld", (long long)rows[i].line);
			printf("%-16s %8s  %-18s %s\n", rows[i].task ? rows[i].task : "-", line,
			       rows[i].col ? rows[i].col : "-", rows[i].reason ? rows[i].reason : "");
			if (rows[i].raw) {
				/* the raw row on one line, however it was written */
				fputs("    | ", stdout);
				for (const char *p = rows[i].raw; *p; p++)
					fputs(*p == '\n' ? "\\n" : *p == '\r' ? "\\r" : (char[2]){*p, 0}, stdout);
				fputc('\n', stdout);
			}
		}
	}
out:
	reject_rows_free(rows, n);
	ctx_close(&c);
	return rc;
}

/* ---- loads ------------------------------------------------------------------- */

static void loads_usage(FILE *out)
{
	fprintf(out, "usage: sluice [-C DIR] loads [--limit N] [--json]\n"
		     "\n"
		     "Lists the project's latest loads, ad-hoc and of load tasks, newest first:\n"
		     "id, state (running, success, failed, or lost when its process was killed or\n"
		     "its worker died), rows read, loaded and rejected, target and source. A load\n"
		     "still marked running on this host whose process is gone is marked lost first.\n"
		     "\n"
		     "  --limit N   at most N loads (default: 20)\n"
		     "  --json      {\"loads\": [{\"load_id\", \"state\", \"run_id\", \"task\", \"try\",\n"
		     "              \"source\", \"into\", \"mode\", \"rows_in\", \"rows_loaded\", \"rejected\",\n"
		     "              \"started_at\", \"ended_at\", \"pid\", \"host\", \"error\"}]}\n"
		     "\n"
		     "Exit status: 0 ok, 2 usage, 3 project error, 4 the state database is\n"
		     "unreachable.\n");
}

static json_t *count_json(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static void loads_print(const struct load_row *v, size_t n)
{
	printf("%6s  %-8s %10s %10s %8s  %-20s  %s\n", "LOAD", "STATE", "READ", "LOADED", "REJECTED", "STARTED",
	       "INTO <- SOURCE");
	for (size_t i = 0; i < n; i++) {
		char c[3][24];
		for (int k = 0; k < 3; k++)
			snprintf(c[k], sizeof c[k], v[i].rows[k] >= 0 ? "%lld" : "-", (long long)v[i].rows[k]);
		printf("%6ld  %-8s %10s %10s %8s  %-20s  %s <- %s\n", v[i].id, v[i].state, c[0], c[1], c[2],
		       v[i].started_at ? v[i].started_at : "", v[i].target, v[i].source);
		if (v[i].error)
			printf("        %s\n", v[i].error);
	}
}

int cmd_loads(struct cli *g, int argc, char **argv)
{
	bool json = g->json;
	int limit = 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			loads_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--limit")) {
			long v;
			if (!cli_number("loads", a, i + 1 < argc ? argv[++i] : NULL, "a count of loads", 1, 1000000, &v))
				return EXIT_USAGE;
			limit = (int)v;
		} else {
			cli_error("loads", a[0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", a);
			loads_usage(stderr);
			return EXIT_USAGE;
		}
	}
	struct sctx c;
	int rc = cli_open(g, &c, CTX_STORE);
	if (rc)
		return rc;
	struct err e = {0};
	struct load_row *v = NULL;
	size_t n = 0;
	if (loads_mark_lost(c.store.pg, &e) < 0 || store_loads(c.store.pg, c.proj->name, limit, &v, &n, &e) < 0) {
		cli_error("loads", "%s", e.msg);
		rc = cli_exit_code(err_code(&e));
		goto out;
	}
	if (json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "load_id", json_integer(v[i].id));
			json_object_set_new(o, "state", str_json(v[i].state));
			json_object_set_new(o, "run_id", v[i].run_id ? json_integer(v[i].run_id) : json_null());
			json_object_set_new(o, "task", str_json(v[i].task));
			json_object_set_new(o, "try", v[i].run_id ? json_integer(v[i].try_number) : json_null());
			json_object_set_new(o, "source", str_json(v[i].source));
			json_object_set_new(o, "into", str_json(v[i].target));
			json_object_set_new(o, "mode", str_json(v[i].mode));
			json_object_set_new(o, "rows_in", count_json(v[i].rows[0]));
			json_object_set_new(o, "rows_loaded", count_json(v[i].rows[1]));
			json_object_set_new(o, "rejected", count_json(v[i].rows[2]));
			json_object_set_new(o, "started_at", str_json(v[i].started_at));
			json_object_set_new(o, "ended_at", str_json(v[i].ended_at));
			json_object_set_new(o, "pid", v[i].pid ? json_integer(v[i].pid) : json_null());
			json_object_set_new(o, "host", str_json(v[i].host));
			json_object_set_new(o, "error", str_json(v[i].error));
			json_array_append_new(a, o);
		}
		json_t *j = json_object();
		json_object_set_new(j, "loads", a);
		json_out(j);
	} else if (n == 0) {
		if (!g->quiet)
			printf("no loads\n");
	} else {
		loads_print(v, n);
	}
out:
	load_rows_free(v, n);
	ctx_close(&c);
	return rc;
}
