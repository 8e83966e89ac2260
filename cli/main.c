/* sluice: the entry point. `sluice` alone opens the console; `sluice [--batch]
 * COMMAND` is the batch face. Every command here has the same name in the
 * console's `:` command line. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "tui/tui.h"

/* X(name, function, summary) */
#define COMMANDS(X)                                                                   \
	X("run", cmd_run, "trigger a run of a pipeline (--wait to follow it)")          \
	X("backfill", cmd_backfill, "run a pipeline over a range of logical dates; list, pause, cancel backfills") \
	X("status", cmd_status, "show recent runs, or the tasks of one run")            \
	X("logs", cmd_logs, "print the log of a task instance (--follow)")              \
	X("retry", cmd_retry, "run a failed task again, with the downstream it held back") \
	X("clear", cmd_clear, "reset tasks to scheduled (--downstream, --only-failed)")  \
	X("mark", cmd_mark, "set a task's state to success or failed")                  \
	X("validate", cmd_validate, "check the project and list every error")           \
	X("compile", cmd_compile, "print the SQL a model runs, refs resolved for a target") \
	X("build", cmd_build, "build models and run their checks as a run (dbt selectors, --target)") \
	X("models", cmd_models, "list models (dbt selectors) with their schema, upstream and downstream") \
	X("up", cmd_up, "start the embedded PostgreSQL and Redis")                      \
	X("down", cmd_down, "stop the embedded PostgreSQL and Redis")                   \
	X("runner", cmd_runner, "start the scheduler and the local worker pool")        \
	X("worker", cmd_worker, "run workers only (to add capacity from another host)")  \
	X("load", cmd_load, "load a file into a table (contract, rejects, append/replace/merge)") \
	X("loads", cmd_loads, "list the latest loads and their state (lost: its process is gone)") \
	X("rejects", cmd_rejects, "list the rows a load kept out, with line and reason") \
	X("checks", cmd_checks, "list check results and their failing rows (latest, or of a run)") \
	X("report", cmd_report, "show a report's stored result; --csv, --html, --json, --run") \
	X("reports", cmd_reports, "list the reports and their latest result") \
	X("connections", cmd_connections, "list, test, add or remove named connections (secrets masked)") \
	X("notify", cmd_notify, "the failure notices sent, and a test of the notify: channels") \
	X("sql", cmd_sql, "run one statement on a connection: a table, --json or --csv") \
	X("psql", cmd_psql, "run psql on a connection (the password through its environment)") \
	X("tables", cmd_tables, "the schemas of a connection, or a schema's tables: rows, size, last writer") \
	X("rows", cmd_rows, "a table's rows by keyset: --where, --sort, --limit, --json or --csv")

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *summary;
} commands[] = {
#define X(n, f, s) {n, f, s},
	COMMANDS(X)
#undef X
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice [-C DIR] [--batch] [--json] COMMAND [ARGS]\n"
		"       sluice [-C DIR] [--readonly] [--theme NAME]   open the console (in a project)\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"options:\n"
		"  -C DIR      the project directory (default: the current one or its nearest\n"
		"              parent with a sluice.yml)\n"
		"  --batch     no console: run COMMAND and exit (implied by any COMMAND)\n"
		"  --json      machine-readable output on stdout\n"
		"  -q          fewer progress lines on stderr\n"
		"  --readonly  console: hide and refuse every action that changes state\n"
		"  --theme NAME  console: default, light, 16color, mono or a theme file\n"
		"  --version   print the version\n"
		"\n"
		"exit codes: 0 ok, 1 the run failed, 2 usage, 3 project error,\n"
		"            4 a service is unreachable\n"
		"'sluice COMMAND --help' describes a command; see also sluice(1).\n");
}

int main(int argc, char **argv)
{
	struct cli g = {".", false, false};
	struct tui_opts console = {0};
	bool batch = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--batch")) {
			batch = true;
		} else if (!strcmp(a, "--json")) {
			g.json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			g.quiet = true;
		} else if (!strcmp(a, "-C") || !strcmp(a, "--project")) {
			if (++i >= argc) {
				fprintf(stderr, "sluice: %s needs a directory\n", a);
				return EXIT_USAGE;
			}
			g.project_dir = argv[i];
		} else if (!strncmp(a, "-C", 2)) {
			g.project_dir = a + 2;
		} else if (!strcmp(a, "--readonly")) {
			console.readonly = true;
		} else if (!strcmp(a, "--theme")) {
			if (++i >= argc) {
				fprintf(stderr, "sluice: --theme needs a name\n");
				return EXIT_USAGE;
			}
			console.theme = argv[i];
		} else if (!strncmp(a, "--theme=", 8)) {
			console.theme = a + 8;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("sluice %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "sluice: unknown option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc && batch) {
		fprintf(stderr, "sluice: --batch needs a command\n\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i >= argc) {
		console.project_dir = g.project_dir;
		return tui_main(&console);
	}
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(&g, argc - i, argv + i);
	}
	fprintf(stderr, "sluice: unknown command '%s' (see 'sluice --help')\n", argv[i]);
	return EXIT_USAGE;
}
