/* Loading a file into a PostgreSQL table: records (connectors/records.h) are
 * checked against a contract (core/contract.h), formatted for COPY (binary
 * where the contract gives the types, else text) and
 * sent over one or more COPY streams. Rows that are malformed, break the
 * contract or that the server refuses are kept in sluice.rejects and never
 * loaded; the good rows around them are. A load is atomic: when it fails, at
 * any point, the target is exactly as it was. */
#ifndef SLUICE_LOAD_H
#define SLUICE_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "connectors/records.h"

struct ledger;

enum load_mode {
	LOAD_APPEND,  /* add the rows */
	LOAD_REPLACE, /* the rows become the table's content */
	LOAD_MERGE    /* upsert on a key; load_timestamp set on every row written */
};

const char *load_mode_name(enum load_mode m);
int load_mode_parse(const char *s, enum load_mode *out);

/* "N" or "N%" into *n or *pct (the other is set to -1); -1 if malformed. */
int load_max_rejects_parse(const char *s, long long *n, double *pct);

struct load_opts {
	const char *source;          /* file path ("-" = stdin) */
	const char *into;            /* "table" or "schema.table" */
	const char *contract;        /* path of the contract file; NULL = none */
	enum load_mode mode;
	const char *const *key;      /* merge: conflict columns (default: the contract's key) */
	size_t n_key;
	struct rec_opts rec;         /* format options (rec_opts_init first) */
	long long max_rejects;       /* fail past this many rejects; -1 = no limit */
	double max_rejects_pct;      /* or past this share of the rows read; -1 = none */
	int parallel;                /* COPY streams; 0 = one per core */
	bool parallel_set;           /* parallel was asked for (else append uses one stream) */
	bool create;                 /* create a missing target (contract types, else text) */
	const char *conninfo;        /* the target database (never printed) */
	const char *database;        /* another database of its server; NULL: the conninfo's */
	const char *state_conninfo;  /* where the load and its rejects are recorded */
	const char *project;
	const char *pipeline;        /* the task's (sluice.writes, core/writes.h); NULL when ad hoc */
	long run_id;                 /* 0 for an ad-hoc load */
	const char *task;
	int try_number;
	/* A load task's commit ledger (core/ledger.h): the load's row in it
	 * goes in with the rows; when an earlier try of the attempt had
	 * committed the load does not run (ledger->prior_try is set and
	 * load_run returns 0), when one commits meanwhile it rolls back
	 * (ERR_EXISTS, prior_try set). NULL: an ad-hoc load, none. */
	struct ledger *ledger;
	FILE *log;                   /* progress and summary lines (NULL = none) */
	bool tty;                    /* also a live progress line on stderr */
};

struct load_stats {
	long load_id;
	int64_t rows_in;             /* records read */
	int64_t rows_loaded;         /* rows written to the target */
	int64_t rejected;            /* rejects recorded (superseded ones included) */
	int64_t superseded;          /* merge: earlier rows of a key repeated in the input */
	int streams;
	bool binary;                 /* COPY went in binary format (else text) */
	double seconds;
};

/* Runs the load. Returns 0, or: ERR_PROJECT when the contract or the options
 * are wrong, ERR_UNREACHABLE when a database cannot be reached, ERR_EXISTS
 * when an earlier try of the task committed while this one ran (see
 * ledger), ERR_FAIL when the load failed (too many rejects, the server
 * refused it...). stats is filled as far as the load got. */
int load_run(const struct load_opts *o, struct load_stats *st, struct err *err);

#endif
