/* The batch face: `sluice [--batch] COMMAND ...`. Each command parses its own
 * options and calls core actions; nothing here talks to a server directly. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>

/* Documented exit codes (README, sluice(1)). */
enum {
	EXIT_OK = 0,
	EXIT_RUN_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_PROJECT = 3,
	EXIT_UNREACHABLE = 4
};

struct cli {
	const char *project_dir; /* -C DIR, default "." */
	bool json;
	bool quiet;
};

int cmd_validate(struct cli *g, int argc, char **argv);
int cmd_up(struct cli *g, int argc, char **argv);
int cmd_down(struct cli *g, int argc, char **argv);
int cmd_run(struct cli *g, int argc, char **argv);
int cmd_backfill(struct cli *g, int argc, char **argv);
int cmd_build(struct cli *g, int argc, char **argv);
int cmd_status(struct cli *g, int argc, char **argv);
int cmd_logs(struct cli *g, int argc, char **argv);
int cmd_retry(struct cli *g, int argc, char **argv);
int cmd_clear(struct cli *g, int argc, char **argv);
int cmd_mark(struct cli *g, int argc, char **argv);
int cmd_runner(struct cli *g, int argc, char **argv);
int cmd_worker(struct cli *g, int argc, char **argv);
int cmd_load(struct cli *g, int argc, char **argv);
int cmd_rejects(struct cli *g, int argc, char **argv);
int cmd_checks(struct cli *g, int argc, char **argv);
int cmd_compile(struct cli *g, int argc, char **argv);
int cmd_models(struct cli *g, int argc, char **argv);
int cmd_loads(struct cli *g, int argc, char **argv);
int cmd_report(struct cli *g, int argc, char **argv);
int cmd_reports(struct cli *g, int argc, char **argv);
int cmd_connections(struct cli *g, int argc, char **argv);
int cmd_sql(struct cli *g, int argc, char **argv);
int cmd_psql(struct cli *g, int argc, char **argv);
int cmd_notify(struct cli *g, int argc, char **argv);
int cmd_tables(struct cli *g, int argc, char **argv);
int cmd_rows(struct cli *g, int argc, char **argv);

#include "core/ctx.h"

/* Opens the project and the services need asks for; on failure prints what
 * went wrong (every project error with file:line:col) and returns the exit
 * code to use (EXIT_PROJECT, EXIT_UNREACHABLE); 0 on success. */
int cli_open(struct cli *g, struct sctx *c, unsigned need);
/* Maps a core error code to an exit code. */
int cli_exit_code(int err_code);
/* The project root as it is best shown in messages: relative to the
 * working directory when it is inside it, so editors can jump to
 * file:line:col. malloc'ed. */
char *cli_shown_root(const char *root);
/* Prints "sluice CMD: msg" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The value of option opt (text NULL: it had none) as a whole number from
 * min to max; false, with "sluice CMD: OPT wants what (MIN to MAX), not
 * 'TEXT'" printed, otherwise. */
bool cli_number(const char *cmd, const char *opt, const char *text, const char *what, long min, long max,
		long *out);

#endif
