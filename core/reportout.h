/* A report result written out: CSV (RFC 4180), one self-contained HTML file
 * (the table and an inline SVG chart, nothing fetched), and the chart's
 * data as the console and the SVG both draw it. Pure: no server, no files. */
#ifndef SLUICE_REPORTOUT_H
#define SLUICE_REPORTOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/util.h"
#include "core/report.h"

struct report_result;

/* columns: ["name", ...]; rows: [[text or null, ...], ...]. Every field a
 * comma, quote, CR or LF (or a leading or trailing space) is in is quoted,
 * its quotes doubled; records end in CRLF; NULL is an empty field. */
void report_csv(struct strbuf *out, const json_t *columns, const json_t *rows);

/* The whole HTML document: title, what run it is, the chart (when the
 * result has one) and the table; every value escaped. */
void report_html(struct strbuf *out, const struct report_result *r);

/* &, <, >, " and ' as entities. */
void html_escape(struct strbuf *out, const char *s);

/* The chart's values: the categories (the distinct x values, in the order
 * rows give them) by the series (the y columns, or the distinct values of
 * the series column), each value the sum of its rows' numbers; a value that
 * is no number counts 0. */
struct chart_data {
	enum chart_type type;
	char **cats, **series;
	size_t n_cats, n_series;
	double *v;                  /* v[cat * n_series + series] */
	char *x, *y_label;          /* the axis names */
};

/* From a stored result's columns, rows and chart ({"type", "x", "y",
 * "series"}). -1 with err when the chart names a column the result lacks. */
int chart_data_build(const json_t *columns, const json_t *rows, const json_t *chart, struct chart_data *out,
		     struct err *err);
void chart_data_free(struct chart_data *c);
/* The largest bar: a stacked category's total, else the largest value. */
double chart_data_max(const struct chart_data *c);
double chart_data_total(const struct chart_data *c, size_t cat);

/* A bar of value / max of width cells: full blocks and an eighth block
 * (▏▎▍▌▋▊▉) for its end in UTF-8, '#' (rounded to a cell) otherwise.
 * Returns the cells it takes. */
int chart_bar(struct strbuf *out, double value, double max, int width, bool utf8);

#endif
