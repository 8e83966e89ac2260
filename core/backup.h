/* Backups of a table to an Avro object container file and restores of one
 * into a table (core/backup.c, core/restore.c; the type mapping in
 * core/avromap.h). A backup streams the table out with COPY ... TO STDOUT
 * (FORMAT binary) in one snapshot and encodes it on the fly, the blocks
 * compressed and written on threads of the writer (connectors/avro.h), so
 * memory stays flat; the file appears whole or not at all (written beside
 * it, then renamed). A restore checks the file's schema against the table
 * and loads it with COPY ... FROM STDIN (FORMAT binary) in one transaction:
 * a corrupt or truncated file, or a value the table refuses, leaves the
 * table as it was. */
#ifndef SLUICE_BACKUP_H
#define SLUICE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "connectors/avro.h"

struct pg_conn;

/* How far a backup or a restore is, for a progress line. */
struct backup_progress {
	int64_t rows;
	int64_t bytes;        /* written (backup) or read (restore) */
	double rows_total;    /* an estimate (the planner's), -1 when unknown */
	int64_t bytes_total;  /* the file's size (restore), -1 when unknown */
};

struct backup_opts {
	const char *table;            /* as SQL writes it: t, schema.t, "Odd Name" */
	const char *out;              /* the file */
	enum avro_codec codec;
	int level;                    /* deflate level (0: the default, 1) */
	int threads;                  /* compressing threads (0: by codec) */
	/* called now and then (about every 100 ms of work); may be NULL */
	void (*progress)(const struct backup_progress *p, void *arg);
	void *arg;
};

struct backup_result {
	int64_t rows, blocks, bytes;
	int columns;
	double seconds;
};

/* Writes opts->table to opts->out. 0, or <0 with err set (ERR_NOTFOUND: no
 * such table; ERR_UNREACHABLE: the connection failed), no file left. */
int backup_table(struct pg_conn *c, const struct backup_opts *o, struct backup_result *res, struct err *err);

enum restore_mode {
	RESTORE_APPEND,   /* into the existing table */
	RESTORE_REPLACE,  /* truncate and load, one transaction */
	RESTORE_CREATE    /* create the table from the file's schema, then load */
};

struct restore_opts {
	const char *file;
	const char *table;
	enum restore_mode mode;
	void (*progress)(const struct backup_progress *p, void *arg);
	void *arg;
	/* called inside the transaction after the load, before COMMIT (a task's
	 * commit ledger): 0 commit, 1 roll back as an earlier commit of the same
	 * effect, <0 roll back with err set. May be NULL. */
	int (*before_commit)(struct pg_conn *c, int64_t rows, void *arg, struct err *err);
	void *commit_arg;
};

struct restore_result {
	int64_t rows, blocks;
	int columns;
	double seconds;
	bool skipped;     /* before_commit said 1 */
};

/* Loads opts->file into opts->table. 0, or <0 with err set: the schema that
 * does not fit (naming the column), the block and byte offset of a corrupt
 * file, the server's refusal. The table is untouched unless 0. */
int restore_file(struct pg_conn *c, const struct restore_opts *o, struct restore_result *res, struct err *err);

/* "null", "deflate", "snappy": 0 or -1. */
int backup_codec(const char *name, enum avro_codec *out);

#endif
