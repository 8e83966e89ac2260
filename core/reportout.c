/* CSV, HTML+SVG and the chart's data of a report result; see reportout.h. */
#include "core/reportout.h"

#include <math.h> /* isfinite: a macro, no libm */
#include <stdlib.h>
#include <string.h>

#include "core/reportstore.h"

/* ---- CSV ------------------------------------------------------------------------ */

static void csv_field(struct strbuf *out, const char *s)
{
	size_t n = strlen(s);
	bool quote = n && (s[0] == ' ' || s[n - 1] == ' ' || strpbrk(s, ",\"\r\n"));
	if (!quote) {
		sb_add(out, s, n);
		return;
	}
	sb_addc(out, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_addc(out, '"');
		sb_addc(out, *p);
	}
	sb_addc(out, '"');
}

static void csv_record(struct strbuf *out, const json_t *a)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (i)
			sb_addc(out, ',');
		const char *s = json_string_value(json_array_get(a, i));
		csv_field(out, s ? s : "");
	}
	sb_adds(out, "\r\n");
}

void report_csv(struct strbuf *out, const json_t *columns, const json_t *rows)
{
	csv_record(out, columns);
	for (size_t i = 0; i < json_array_size(rows); i++)
		csv_record(out, json_array_get(rows, i));
}

/* ---- the chart's data ------------------------------------------------------------- */

static int col_index(const json_t *columns, const char *name)
{
	for (size_t i = 0; name && i < json_array_size(columns); i++)
		if (!strcmp(json_string_value(json_array_get(columns, i)), name))
			return (int)i;
	return -1;
}

/* Index of s in v[0..*n), added when missing. */
static size_t intern(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return i;
	if ((*n & (*n - 1)) == 0)
		*v = xrealloc(*v, (*n ? *n * 2 : 4) * sizeof **v);
	(*v)[*n] = xstrdup(s);
	return (*n)++;
}

static const char *cell(const json_t *row, int i)
{
	const char *s = i >= 0 ? json_string_value(json_array_get(row, (size_t)i)) : NULL;
	return s ? s : "";
}

static double cell_number(const char *s)
{
	char *end;
	double d = strtod(s, &end);
	return end != s && *end == '\0' && isfinite(d) ? d : 0;
}

int chart_data_build(const json_t *columns, const json_t *rows, const json_t *chart, struct chart_data *out,
		     struct err *err)
{
	memset(out, 0, sizeof *out);
	const char *type = json_string_value(json_object_get(chart, "type"));
	int t = type ? chart_type_parse(type) : -1;
	if (t < 0)
		return err_set(err, "the result has no chart");
	out->type = (enum chart_type)t;
	const char *x = json_string_value(json_object_get(chart, "x"));
	const char *series = json_string_value(json_object_get(chart, "series"));
	const json_t *y = json_object_get(chart, "y");
	int xi = col_index(columns, x), si = col_index(columns, series);
	if (xi < 0)
		return err_set(err, "chart: the result has no column '%s'", x ? x : "?");
	if (series && si < 0)
		return err_set(err, "chart: the result has no column '%s'", series);
	size_t ny = json_array_size(y);
	int *yi = xcalloc(ny + 1, sizeof *yi);
	for (size_t k = 0; k < ny; k++) {
		const char *name = json_string_value(json_array_get(y, k));
		if ((yi[k] = col_index(columns, name)) < 0) {
			free(yi);
			return err_set(err, "chart: the result has no column '%s'", name ? name : "?");
		}
	}
	if (!ny) {
		free(yi);
		return err_set(err, "chart: no value column");
	}
	out->x = xstrdup(x);
	out->y_label = xstrdup(ny == 1 ? json_string_value(json_array_get(y, 0)) : "");
	if (!series)
		for (size_t k = 0; k < ny; k++)
			intern(&out->series, &out->n_series, json_string_value(json_array_get(y, k)));
	/* first the names, then the sums: the matrix's shape is known */
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		intern(&out->cats, &out->n_cats, cell(row, xi));
		if (series)
			intern(&out->series, &out->n_series, cell(row, si));
	}
	out->v = xcalloc(out->n_cats * out->n_series + 1, sizeof *out->v);
	for (size_t i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		size_t c = intern(&out->cats, &out->n_cats, cell(row, xi));
		if (series) {
			size_t s = intern(&out->series, &out->n_series, cell(row, si));
			out->v[c * out->n_series + s] += cell_number(cell(row, yi[0]));
		} else {
			for (size_t k = 0; k < ny; k++)
				out->v[c * out->n_series + k] += cell_number(cell(row, yi[k]));
		}
	}
	free(yi);
	return 0;
}

void chart_data_free(struct chart_data *c)
{
	for (size_t i = 0; i < c->n_cats; i++)
		free(c->cats[i]);
	for (size_t i = 0; i < c->n_series; i++)
		free(c->series[i]);
	free(c->cats);
	free(c->series);
	free(c->v);
	free(c->x);
	free(c->y_label);
	memset(c, 0, sizeof *c);
}

double chart_data_total(const struct chart_data *c, size_t cat)
{
	double t = 0;
	for (size_t s = 0; s < c->n_series; s++)
		t += c->v[cat * c->n_series + s];
	return t;
}

double chart_data_max(const struct chart_data *c)
{
	double m = 0;
	for (size_t i = 0; i < c->n_cats; i++) {
		if (c->type == CHART_STACKED) {
			double t = chart_data_total(c, i);
			m = t > m ? t : m;
			continue;
		}
		for (size_t s = 0; s < c->n_series; s++)
			m = c->v[i * c->n_series + s] > m ? c->v[i * c->n_series + s] : m;
	}
	return m;
}

static long round_half(double v)
{
	return (long)(v + 0.5);
}

int chart_bar(struct strbuf *out, double value, double max, int width, bool utf8)
{
	static const char *const eighth[8] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
	if (width <= 0 || max <= 0 || !(value > 0))
		return 0;
	if (value > max)
		value = max;
	if (!utf8) {
		int n = (int)round_half(value / max * width);
		for (int i = 0; i < n; i++)
			sb_addc(out, '#');
		return n;
	}
	long eighths = round_half(value / max * width * 8);
	int full = (int)(eighths / 8), rest = (int)(eighths % 8);
	for (int i = 0; i < full; i++)
		sb_adds(out, "█");
	sb_adds(out, eighth[rest]);
	return full + (rest > 0);
}

/* ---- HTML ------------------------------------------------------------------------- */

void html_escape(struct strbuf *out, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		switch (*p) {
		case '&': sb_adds(out, "&amp;"); break;
		case '<': sb_adds(out, "&lt;"); break;
		case '>': sb_adds(out, "&gt;"); break;
		case '"': sb_adds(out, "&quot;"); break;
		case '\'': sb_adds(out, "&#39;"); break;
		default: sb_addc(out, *p);
		}
	}
}

/* Colour-blind-safe enough, and distinct in print. */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
				      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

/* A round step (1, 2 or 5 times a power of ten) for about five grid lines
 * up to max; without libm. */
static double nice_step(double max)
{
	double raw = max / 5, mag = 1;
	while (mag * 10 <= raw)
		mag *= 10;
	while (mag > raw && mag > 1e-9)
		mag /= 10;
	double f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static void num_text(struct strbuf *out, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		sb_addf(out, "%.0f", v);
	else
		sb_addf(out, "%.2f", v);
}

enum { SVG_W = 860, SVG_H = 420, M_LEFT = 96, M_RIGHT = 170, M_TOP = 16, M_BOTTOM = 110 };

/* characters of a category's label under its bar (all of it in the tooltip) */
#define LABEL_CHARS 20

/* A label cut to LABEL_CHARS characters (UTF-8 aware), escaped; the whole
 * in a tooltip when cut. */
static void label(struct strbuf *o, const char *s)
{
	size_t n = 0, at = 0;
	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == LABEL_CHARS - 1)
			at = (size_t)(p - s);
	if (n <= LABEL_CHARS) {
		html_escape(o, s);
		return;
	}
	sb_adds(o, "<title>");
	html_escape(o, s);
	sb_adds(o, "</title>");
	char *cut = xstrndup(s, at);
	html_escape(o, cut);
	free(cut);
	sb_adds(o, "…");
}

static void svg_axes(struct strbuf *o, const struct chart_data *c, double top, double step, double pw, double ph)
{
	for (double g = 0; g <= top + step / 2; g += step) {
		double y = M_TOP + ph - g / top * ph;
		sb_addf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", M_LEFT, y, M_LEFT + pw, y);
		sb_addf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">", M_LEFT - 6, y + 4);
		num_text(o, g);
		sb_adds(o, "</text>\n");
	}
	double gw = pw / (double)(c->n_cats ? c->n_cats : 1);
	for (size_t i = 0; i < c->n_cats; i++) {
		double x = M_LEFT + gw * (i + 0.5);
		sb_addf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-40 %.1f %d)\" class=\"tick\">",
			x, M_TOP + (int)ph + 14, x, M_TOP + (int)ph + 14);
		label(o, c->cats[i]);
		sb_adds(o, "</text>\n");
	}
	if (c->y_label && *c->y_label) {
		sb_addf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %d %.1f)\" class=\"tick\">",
			M_LEFT - 48, M_TOP + ph / 2, M_LEFT - 48, M_TOP + ph / 2);
		label(o, c->y_label);
		sb_adds(o, "</text>\n");
	}
	sb_addf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">", M_LEFT + pw + 8, M_TOP + ph + 4);
	label(o, c->x);
	sb_adds(o, "</text>\n");
	sb_addf(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" class=\"axis\"/>", M_LEFT, M_TOP, M_LEFT, M_TOP + ph);
	sb_addf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n", M_LEFT, M_TOP + ph,
		M_LEFT + pw, M_TOP + ph);
}

static void svg_tip(struct strbuf *o, const struct chart_data *c, size_t cat, size_t s, double v)
{
	sb_adds(o, "<title>");
	html_escape(o, c->cats[cat]);
	if (c->n_series > 1) {
		sb_adds(o, ", ");
		html_escape(o, c->series[s]);
	}
	sb_adds(o, ": ");
	num_text(o, v);
	sb_adds(o, "</title>");
}

static void svg_marks(struct strbuf *o, const struct chart_data *c, double top, double pw, double ph)
{
	double gw = pw / (double)(c->n_cats ? c->n_cats : 1);
	size_t ns = c->n_series ? c->n_series : 1;
	for (size_t s = 0; c->type == CHART_LINE && s < c->n_series; s++) {
		sb_addf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", palette[s % N_PALETTE]);
		for (size_t i = 0; i < c->n_cats; i++)
			sb_addf(o, "%.1f,%.1f ", M_LEFT + gw * (i + 0.5), M_TOP + ph - c->v[i * ns + s] / top * ph);
		sb_adds(o, "\"/>\n");
		for (size_t i = 0; i < c->n_cats; i++) {
			sb_addf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", M_LEFT + gw * (i + 0.5),
				M_TOP + ph - c->v[i * ns + s] / top * ph, palette[s % N_PALETTE]);
			svg_tip(o, c, i, s, c->v[i * ns + s]);
			sb_adds(o, "</circle>\n");
		}
	}
	if (c->type == CHART_LINE)
		return;
	for (size_t i = 0; i < c->n_cats; i++) {
		double x0 = M_LEFT + gw * i + gw * 0.1, bw = gw * 0.8, base = 0;
		for (size_t s = 0; s < c->n_series; s++) {
			double v = c->v[i * ns + s];
			if (!(v > 0))
				continue;
			double h = v / top * ph, x = x0, w = bw, y;
			if (c->type == CHART_STACKED) {
				y = M_TOP + ph - (base + v) / top * ph;
				base += v;
			} else {
				w = bw / (double)ns;
				x = x0 + w * s;
				y = M_TOP + ph - h;
			}
			sb_addf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x, y, w, h,
				palette[s % N_PALETTE]);
			svg_tip(o, c, i, s, v);
			sb_adds(o, "</rect>\n");
		}
	}
}

static void svg_legend(struct strbuf *o, const struct chart_data *c)
{
	for (size_t s = 0; s < c->n_series && s < 24; s++) {
		int y = M_TOP + 4 + (int)s * 16;
		sb_addf(o, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>", SVG_W - M_RIGHT + 16, y,
			palette[s % N_PALETTE]);
		sb_addf(o, "<text x=\"%d\" y=\"%d\" class=\"tick\">", SVG_W - M_RIGHT + 32, y + 9);
		label(o, c->series[s]);
		sb_adds(o, "</text>\n");
	}
}

static void svg_chart(struct strbuf *o, const struct chart_data *c)
{
	double max = chart_data_max(c);
	double step = nice_step(max > 0 ? max : 1);
	double top = step;
	while (top < max)
		top += step;
	double pw = SVG_W - M_LEFT - M_RIGHT, ph = SVG_H - M_TOP - M_BOTTOM;
	sb_addf(o, "<svg role=\"img\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" aria-label=\"%s chart\">\n", SVG_W,
		SVG_H, SVG_W, SVG_H, chart_type_name(c->type));
	svg_axes(o, c, top, step, pw, ph);
	svg_marks(o, c, top, pw, ph);
	svg_legend(o, c);
	sb_adds(o, "</svg>\n");
}

static const char STYLE[] =
	"body{font:14px/1.4 sans-serif;color:#111;margin:24px}"
	"h1{font-size:20px;margin:0 0 4px}p.meta{color:#555;margin:0 0 16px}"
	"table{border-collapse:collapse;margin-top:16px}th,td{border:1px solid #bbb;padding:3px 8px}"
	"th{background:#eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"svg{max-width:100%;height:auto}svg text{font:11px sans-serif;fill:#333}svg .grid{stroke:#ddd}svg .axis{stroke:#333}"
	"@media print{body{margin:0}th{background:none}tr{break-inside:avoid}}";

static bool is_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return false;
	strtod(s, &end);
	return *end == '\0';
}

static void html_table(struct strbuf *o, const json_t *columns, const json_t *rows)
{
	size_t nc = json_array_size(columns), nr = json_array_size(rows);
	/* a column of numbers only is aligned right */
	bool *num = xcalloc(nc + 1, sizeof *num);
	for (size_t k = 0; k < nc; k++) {
		num[k] = nr > 0;
		for (size_t i = 0; i < nr && num[k]; i++) {
			const char *s = json_string_value(json_array_get(json_array_get(rows, i), k));
			num[k] = !s || is_number(s);
		}
	}
	sb_adds(o, "<table>\n<thead><tr>");
	for (size_t k = 0; k < nc; k++) {
		sb_adds(o, "<th>");
		html_escape(o, json_string_value(json_array_get(columns, k)));
		sb_adds(o, "</th>");
	}
	sb_adds(o, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < nr; i++) {
		const json_t *row = json_array_get(rows, i);
		sb_adds(o, "<tr>");
		for (size_t k = 0; k < nc; k++) {
			sb_adds(o, num[k] ? "<td class=\"n\">" : "<td>");
			html_escape(o, json_string_value(json_array_get(row, k)));
			sb_adds(o, "</td>");
		}
		sb_adds(o, "</tr>\n");
	}
	sb_adds(o, "</tbody>\n</table>\n");
	free(num);
}

void report_html(struct strbuf *o, const struct report_result *r)
{
	const char *title = r->title ? r->title : r->report;
	sb_adds(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	html_escape(o, title);
	sb_addf(o, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", STYLE);
	html_escape(o, title);
	sb_adds(o, "</h1>\n<p class=\"meta\">report ");
	html_escape(o, r->report);
	if (r->run_id)
		sb_addf(o, ", run %ld", r->run_id);
	sb_adds(o, ", ");
	html_escape(o, r->created_at);
	sb_addf(o, "; %d row%s", r->n_rows, r->n_rows == 1 ? "" : "s");
	if (r->truncated)
		sb_addf(o, " of %lld (the first kept)", r->total_rows);
	sb_adds(o, "</p>\n");
	struct chart_data c;
	struct err e = {0};
	if (r->chart && chart_data_build(r->columns, r->rows, r->chart, &c, &e) == 0) {
		sb_adds(o, "<figure>\n");
		svg_chart(o, &c);
		sb_adds(o, "</figure>\n");
		chart_data_free(&c);
	} else if (r->chart) {
		sb_adds(o, "<p class=\"meta\">no chart: ");
		html_escape(o, e.msg);
		sb_adds(o, "</p>\n");
	}
	html_table(o, r->columns, r->rows);
	sb_adds(o, "</body>\n</html>\n");
}
