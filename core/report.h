/* Reports: reports/NAME.yml, a query (inline, a .sql file beside it, or a
 * model's relation), the columns to show and a chart. Read with the project
 * (core/project.c), every problem at file:line:col; run by the report task
 * kind (core/kinds/report.c), whose results core/reportstore.h keeps. */
#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct project;

enum chart_type {
	CHART_NONE,
	CHART_BAR,      /* bars side by side, one per series */
	CHART_STACKED,  /* "stacked bar": the series of a category on one bar */
	CHART_LINE
};

#define REPORT_DEFAULT_ROWS 1000   /* rows kept of a result */
#define REPORT_MAX_ROWS 100000
#define REPORT_DEFAULT_KEEP 50     /* results kept per report, the newest */

struct report_names {
	char **v;
	size_t n;
};

struct report_chart {
	enum chart_type type;
	char *x;                     /* the category column */
	struct report_names y;       /* the value columns, each a series */
	char *series;                /* a column whose values are the series (y is one column); NULL: none */
};

struct report_def {
	char *name;                  /* the file name without .yml */
	char *file;                  /* as shown in messages: reports/NAME.yml */
	char *title;                 /* default: the name */
	char *description;           /* NULL: none */
	char *sql;                   /* the query's text (inline or read from sql_file); NULL with model */
	char *sql_file;              /* as shown; NULL: inline or a model */
	char *model;                 /* a model whose relation is shown; NULL: sql */
	char *conn;                  /* the connection; NULL: the default target's */
	struct report_names columns; /* shown, in this order; none: every column of the query */
	struct report_chart chart;
	int max_rows;                /* rows kept of each result */
	int keep;                    /* results kept */
	int line, col;               /* where the file's mapping starts */
};

struct report_set {
	struct report_def *v;        /* sorted by name */
	size_t n;
};

/* Reads root/reports/ *.yml (root_shown: the root as messages show it).
 * Every problem goes to d; *out is always set. Returns 0 when d gained
 * none, -1 otherwise. p gives the models a `model:` names (may be NULL). */
int reports_load(const struct project *p, const char *root, const char *root_shown, struct report_set **out,
		 struct diags *d);
void reports_free(struct report_set *s);
const struct report_def *reports_find(const struct report_set *s, const char *name);
/* The report nearest to name for "did you mean" (NULL: none close). */
const char *reports_nearest(const struct report_set *s, const char *name);

const char *chart_type_name(enum chart_type t);
/* "bar", "stacked bar" (or "stacked_bar"), "line"; -1 otherwise. */
int chart_type_parse(const char *s);

#endif
