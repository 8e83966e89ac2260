/* Reconciliation of a relation on one connection ("here") with a table on
 * another ("there"), by key: row counts, then the key space cut into ranges
 * (by the keys of the side with more rows), each range's rows hashed on
 * both sides, and only the ranges whose counts or hashes differ cut again,
 * down to ranges small enough to compare key by key. So the work follows
 * the differences, not the table's size, and what differs is named: the
 * key ranges, and in them the keys. The SQL is core/models/checksql.c's. */
#ifndef SLUICE_MODELS_RECONCILE_H
#define SLUICE_MODELS_RECONCILE_H

#include <jansson.h>
#include <stdio.h>

#include "base/err.h"
#include "core/models/checksql.h"

struct pg_conn;

struct rc_opts {
	struct pg_conn *here, *there;
	struct rc_side h, t;   /* the same key and columns, each its relation */
	int ranges;            /* parts a differing range is cut into (>= 2) */
	int leaf;              /* a range of at most this many rows is compared key by key */
	int keep;              /* differing rows kept (the check's limit) */
	FILE *log;             /* progress and the ranges that differ; may be NULL */
};

/* A row that differs: its key and what differs, JSON text (owned). */
struct rc_diff {
	char *key;             /* {"k": value, ...} */
	char *column;          /* the columns whose values differ ("a,b"); NULL when a side lacks the row */
	char *row;             /* {"here": {...}, "there": {...}}, a side absent when it lacks the row */
};

struct rc_result {
	long long here_rows, there_rows;
	long long missing_there, missing_here, changed; /* rows here only, there only, in both but not equal */
	struct rc_diff *diffs;  /* the first `keep` of them */
	size_t n_diffs;
	json_t *ranges;         /* the smallest ranges that differ: [{from, to, here, there, differing}] */
	long long n_ranges;     /* all of them (ranges holds the first 100) */
	int queries;            /* statements sent, both sides */
};

/* The comparison; 0, or -1 with err saying which side failed and why. */
int reconcile_run(const struct rc_opts *o, struct rc_result *out, struct err *err);
void rc_result_free(struct rc_result *r);

#endif
