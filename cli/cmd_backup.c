/* `sluice backup TABLE`: a table to an Avro object container file;
 * `sluice restore FILE --into TABLE`: such a file into a table, in one
 * transaction (core/backup.h). A progress line on stderr when it is a
 * terminal. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/json_out.h"
#include "connectors/pg.h"
#include "core/backup.h"
#include "core/ctx.h"

static const char BACKUP_USAGE[] =
	"usage: sluice backup TABLE [--conn NAME] [--codec null|deflate|snappy] [--level N]\n"
	"                    [--out FILE] [--json]\n"
	"\n"
	"Writes TABLE (name or schema.name) to an Avro object container file, its\n"
	"schema from the table's column types (logical types date, timestamp-micros,\n"
	"local-timestamp-micros, decimal, uuid; NULL-able columns as [\"null\", T]).\n"
	"The table is read in one snapshot (COPY ... TO STDOUT, binary) and the file\n"
	"appears whole or not at all.\n"
	"\n"
	"  --conn NAME   the connection (default: the project's target, else default)\n"
	"  --codec C     null, deflate (default) or snappy\n"
	"  --level N     deflate's level, 1 (fast) to 9 (small); default 1\n"
	"  --out FILE    the file (default: TABLE.avro)\n"
	"  --json        one JSON document on stdout: table, file, codec, rows, ...\n"
	"  -h, --help    show this help\n"
	"\n"
	"Exit: 0 ok, 1 the backup failed (no file left), 2 usage, 3 project error,\n"
	"4 unreachable.\n";

static const char RESTORE_USAGE[] =
	"usage: sluice restore FILE --into TABLE [--replace | --create] [--conn NAME] [--json]\n"
	"\n"
	"Loads an Avro object container file into TABLE in one transaction, after\n"
	"checking the file's schema against the table's columns (names, order and\n"
	"types; the first that differs is named). A corrupt or truncated file is an\n"
	"error with its block and byte offset, and the table is left as it was.\n"
	"\n"
	"  --into TABLE  the table (name or schema.name)\n"
	"  --replace     empty the table and load, in one transaction: readers see\n"
	"                the old rows or the new ones\n"
	"  --create      create the table from the file's schema, then load\n"
	"                (default: append to the existing table)\n"
	"  --conn NAME   the connection (default: the project's target, else default)\n"
	"  --json        one JSON document on stdout: file, table, mode, rows, ...\n"
	"  -h, --help    show this help\n"
	"\n"
	"Exit: 0 ok, 1 the restore failed (nothing changed), 2 usage, 3 project\n"
	"error, 4 unreachable.\n";

struct progress {
	const char *what;
	bool shown;
};

static void show_progress(const struct backup_progress *p, void *arg)
{
	struct progress *pr = arg;
	pr->shown = true;
	if (p->rows_total > 0)
		fprintf(stderr, "\r%s: %lld of ~%.0f rows, %.1f MB   ", pr->what, (long long)p->rows, p->rows_total,
			(double)p->bytes / 1e6);
	else if (p->bytes_total > 0)
		fprintf(stderr, "\r%s: %lld rows, %.1f of %.1f MB   ", pr->what, (long long)p->rows, (double)p->bytes / 1e6,
			(double)p->bytes_total / 1e6);
	else
		fprintf(stderr, "\r%s: %lld rows, %.1f MB   ", pr->what, (long long)p->rows, (double)p->bytes / 1e6);
}

static void end_progress(struct progress *pr)
{
	if (pr->shown)
		fputs("\r\033[K", stderr);
}

/* Opens the project and connects to conn (NULL: the target's). */
static int connect_to(struct cli *g, const char *cmd, const char *conn, struct pg_conn **out)
{
	struct sctx c;
	int rc = cli_open(g, &c, CTX_QUIET | CTX_STORE);
	if (rc)
		return rc;
	const char *name = conn ? conn : c.proj->target ? c.proj->target : "default";
	const char *dsn;
	struct err e = {0};
	if (ctx_conninfo(&c, name, &dsn, &e) < 0) {
		cli_error(cmd, "%s", e.msg);
		ctx_close(&c);
		return EXIT_PROJECT;
	}
	char what[200];
	snprintf(what, sizeof what, "connection '%s'", name);
	*out = pg_connect(dsn, what, &e);
	ctx_close(&c);
	if (!*out) {
		cli_error(cmd, "%s", e.msg);
		return e.code == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED;
	}
	return 0;
}

static double ms3(double s)
{
	return (double)(long long)(s * 1000 + 0.5) / 1000;
}

int cmd_backup(struct cli *g, int argc, char **argv)
{
	enum { O_CONN = 256, O_CODEC, O_LEVEL, O_OUT, O_JSON, O_HELP };
	static const struct option opts[] = {
		{"conn", required_argument, NULL, O_CONN},
		{"codec", required_argument, NULL, O_CODEC},
		{"level", required_argument, NULL, O_LEVEL},
		{"out", required_argument, NULL, O_OUT},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, O_HELP},
		{0, 0, 0, 0},
	};
	struct backup_opts o = {.codec = AVRO_CODEC_DEFLATE};
	const char *conn = NULL;
	bool json = g->json;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_CONN: conn = optarg; break;
		case O_CODEC:
			if (backup_codec(optarg, &o.codec) < 0) {
				cli_error("backup", "--codec must be null, deflate or snappy, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_LEVEL: {
			long v;
			if (!cli_number("backup", "--level", optarg, "a deflate level", 1, 9, &v))
				return EXIT_USAGE;
			o.level = (int)v;
			break;
		}
		case O_OUT: o.out = optarg; break;
		case O_JSON: json = true; break;
		case 'h':
		case O_HELP: fputs(BACKUP_USAGE, stdout); return EXIT_OK;
		default:
			cli_error("backup", "unknown option '%s'", argv[optind - 1]);
			fputs(BACKUP_USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !argv[optind][0]) {
		cli_error("backup", optind >= argc ? "which table? (sluice backup TABLE)" : "one table at a time");
		fputs(BACKUP_USAGE, stderr);
		return EXIT_USAGE;
	}
	o.table = argv[optind];
	char *out = o.out ? NULL : xasprintf("%s.avro", o.table);
	if (out)
		o.out = out;
	struct pg_conn *c;
	int rc = connect_to(g, "backup", conn, &c);
	if (rc) {
		free(out);
		return rc;
	}
	struct progress pr = {.what = "backup"};
	if (!g->quiet && isatty(2)) {
		o.progress = show_progress;
		o.arg = &pr;
	}
	struct backup_result r;
	struct err e = {0};
	int brc = backup_table(c, &o, &r, &e);
	end_progress(&pr);
	pg_close(c);
	rc = brc ? (brc == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED) : EXIT_OK;
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "table", json_string(o.table));
		json_object_set_new(j, "file", json_string(o.out));
		json_object_set_new(j, "codec", json_string(avro_codec_name(o.codec)));
		json_object_set_new(j, "state", json_string(brc ? "failed" : "success"));
		json_object_set_new(j, "rows", json_integer(r.rows));
		json_object_set_new(j, "columns", json_integer(r.columns));
		json_object_set_new(j, "blocks", json_integer(r.blocks));
		json_object_set_new(j, "bytes", json_integer(r.bytes));
		json_object_set_new(j, "seconds", json_real(ms3(r.seconds)));
		json_object_set_new(j, "error", brc ? json_string(e.msg) : json_null());
		json_out(j);
	}
	if (brc)
		cli_error("backup", "%s", e.msg);
	else if (!json && !g->quiet)
		printf("backed up %lld rows of %s to %s (%s, %lld bytes, %.2f s)\n", (long long)r.rows, o.table, o.out,
		       avro_codec_name(o.codec), (long long)r.bytes, r.seconds);
	free(out);
	return rc;
}

int cmd_restore(struct cli *g, int argc, char **argv)
{
	enum { O_INTO = 256, O_REPLACE, O_CREATE, O_CONN, O_JSON, O_HELP };
	static const struct option opts[] = {
		{"into", required_argument, NULL, O_INTO},
		{"replace", no_argument, NULL, O_REPLACE},
		{"create", no_argument, NULL, O_CREATE},
		{"conn", required_argument, NULL, O_CONN},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, O_HELP},
		{0, 0, 0, 0},
	};
	struct restore_opts o = {.mode = RESTORE_APPEND};
	const char *conn = NULL;
	bool json = g->json, replace = false, create = false;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_INTO: o.table = optarg; break;
		case O_REPLACE: replace = true; break;
		case O_CREATE: create = true; break;
		case O_CONN: conn = optarg; break;
		case O_JSON: json = true; break;
		case 'h':
		case O_HELP: fputs(RESTORE_USAGE, stdout); return EXIT_OK;
		default:
			cli_error("restore", "unknown option '%s'", argv[optind - 1]);
			fputs(RESTORE_USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !o.table || !o.table[0]) {
		cli_error("restore", optind >= argc ? "which file? (sluice restore FILE --into TABLE)"
				     : !o.table || !o.table[0] ? "--into TABLE is required"
							       : "one file at a time");
		fputs(RESTORE_USAGE, stderr);
		return EXIT_USAGE;
	}
	if (replace && create) {
		cli_error("restore", "give --replace or --create, not both");
		return EXIT_USAGE;
	}
	o.mode = replace ? RESTORE_REPLACE : create ? RESTORE_CREATE : RESTORE_APPEND;
	o.file = argv[optind];
	if (access(o.file, R_OK) < 0) {
		cli_error("restore", "%s: %s", o.file, strerror(errno));
		return EXIT_RUN_FAILED;
	}
	struct pg_conn *c;
	int rc = connect_to(g, "restore", conn, &c);
	if (rc)
		return rc;
	struct progress pr = {.what = "restore"};
	if (!g->quiet && isatty(2)) {
		o.progress = show_progress;
		o.arg = &pr;
	}
	struct restore_result r;
	struct err e = {0};
	int rrc = restore_file(c, &o, &r, &e);
	end_progress(&pr);
	pg_close(c);
	rc = rrc ? (rrc == ERR_UNREACHABLE ? EXIT_UNREACHABLE : EXIT_RUN_FAILED) : EXIT_OK;
	const char *mode = replace ? "replace" : create ? "create" : "append";
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "file", json_string(o.file));
		json_object_set_new(j, "table", json_string(o.table));
		json_object_set_new(j, "mode", json_string(mode));
		json_object_set_new(j, "state", json_string(rrc ? "failed" : "success"));
		json_object_set_new(j, "rows", json_integer(rrc ? 0 : r.rows));
		json_object_set_new(j, "columns", json_integer(r.columns));
		json_object_set_new(j, "blocks", json_integer(r.blocks));
		json_object_set_new(j, "seconds", json_real(ms3(r.seconds)));
		json_object_set_new(j, "error", rrc ? json_string(e.msg) : json_null());
		json_out(j);
	}
	if (rrc)
		cli_error("restore", "%s; %s was not changed", e.msg, o.table);
	else if (!json && !g->quiet)
		printf("restored %lld rows from %s into %s (%s, %.2f s)\n", (long long)r.rows, o.file, o.table, mode,
		       r.seconds);
	return rc;
}
