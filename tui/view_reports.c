/* The reports view. Without a name: the reports of the project with their
 * latest result; Enter opens one. With a name (`:reports NAME`): its stored
 * result, the table above and the chart below as horizontal bars of block
 * characters (eighth blocks for the ends; '#' outside a UTF-8 locale);
 * h and l step to an older or newer run, x and X export the result shown as
 * CSV or HTML (core/reportout.h) to a file the prompt offers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "core/project.h"
#include "core/report.h"
#include "core/reportout.h"
#include "core/reportstore.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/prompt.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/view.h"

#define RUNS 50          /* runs one can step through */
#define LABEL_MAX 28     /* columns of a bar's label */

struct reportsv {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	char *name;                 /* NULL: the list */
	/* the list */
	struct report_result *latest;
	size_t n_latest;
	/* one report: its runs (newest first) and the one shown */
	struct report_result *runs;
	size_t n_runs;
	int at;                     /* index in runs */
	long want;                  /* the run asked for (0: the latest) */
	struct report_result shown; /* in full */
	bool have_shown;
	struct chart_data chart;
	bool have_chart;
	char chart_err[sizeof ((struct err *)0)->msg];
	int sel, top;
	bool loaded;
};

static struct reportsv *R(struct view *v)
{
	return v->priv;
}

static const struct report_set *defs(struct view *v)
{
	return tui_project(v->t)->reports;
}

/* ---- queries --------------------------------------------------------------------- */

static void on_latest(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct reportsv *s = R(v);
	(void)arg;
	refresh_done(v, &s->rf);
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "reports: %s", error);
		return;
	}
	report_results_free(s->latest, s->n_latest);
	query_report_parse(r, &s->latest, &s->n_latest);
	s->loaded = true;
	v->dirty = true;
}

static void set_shown(struct reportsv *s, struct report_result *res)
{
	report_result_clear(&s->shown);
	if (s->have_chart)
		chart_data_free(&s->chart);
	s->have_chart = false;
	s->chart_err[0] = '\0';
	s->shown = *res;
	memset(res, 0, sizeof *res);
	s->have_shown = true;
	struct err e = {0};
	if (s->shown.chart) {
		if (chart_data_build(s->shown.columns, s->shown.rows, s->shown.chart, &s->chart, &e) == 0)
			s->have_chart = true;
		else
			snprintf(s->chart_err, sizeof s->chart_err, "%s", e.msg);
	}
}

static void on_result(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct reportsv *s = R(v);
	(void)arg;
	refresh_done(v, &s->rf);
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "report %s: %s", s->name, error);
		return;
	}
	struct report_result *res = NULL;
	size_t n = 0;
	query_report_parse(r, &res, &n);
	if (n)
		set_shown(s, &res[0]);
	report_results_free(res, n);
	s->loaded = true;
	v->dirty = true;
}

static void on_runs(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct reportsv *s = R(v);
	(void)arg;
	if (!r) {
		refresh_done(v, &s->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "report %s: %s", s->name, error);
		return;
	}
	report_results_free(s->runs, s->n_runs);
	query_report_parse(r, &s->runs, &s->n_runs);
	s->at = 0;
	for (size_t i = 0; s->want && i < s->n_runs; i++)
		if (s->runs[i].run_id == s->want)
			s->at = (int)i;
	struct query q;
	query_report_result(&q, tui_project(v->t)->name, s->name, s->n_runs ? s->runs[s->at].run_id : 0);
	refresh_send(v, &s->rf, &q, on_result, 0);
	refresh_done(v, &s->rf);
}

static void send(struct view *v)
{
	struct reportsv *s = R(v);
	struct query q;
	if (!s->name) {
		query_report_latest(&q, tui_project(v->t)->name);
		refresh_send(v, &s->rf, &q, on_latest, 0);
		return;
	}
	query_report_runs(&q, tui_project(v->t)->name, s->name, RUNS);
	refresh_send(v, &s->rf, &q, on_runs, 0);
}

/* ---- open and close ------------------------------------------------------------- */

static int reports_open(struct view *v, const char *arg)
{
	struct reportsv *s = R(v);
	if (arg && *arg) {
		char name[200];
		long run = 0;
		if (sscanf(arg, "%199s %ld", name, &run) < 1)
			name[0] = '\0';
		if (!reports_find(defs(v), name)) {
			const char *near = reports_nearest(defs(v), name);
			tui_error(v->t, "no report '%s'%s%s%s", name, near ? "; did you mean '" : "", near ? near : "",
				  near ? "'?" : "");
			return -1;
		}
		s->name = xstrdup(name);
		s->want = run;
		view_set_title(v, "report %s", name);
	} else {
		view_set_title(v, "reports");
	}
	s->rf.send = send;
	s->rf.min_ms = 200;
	refresh_request(v, &s->rf);
	return 0;
}

static void reports_done(struct view *v)
{
	struct reportsv *s = R(v);
	refresh_cancel(v, &s->rf);
	free(s->name);
	report_results_free(s->latest, s->n_latest);
	report_results_free(s->runs, s->n_runs);
	report_result_clear(&s->shown);
	if (s->have_chart)
		chart_data_free(&s->chart);
}

/* ---- the list --------------------------------------------------------------------- */

static const struct report_result *latest_of(struct reportsv *s, const char *name)
{
	for (size_t i = 0; i < s->n_latest; i++)
		if (!strcmp(s->latest[i].report, name))
			return &s->latest[i];
	return NULL;
}

static void draw_list(struct view *v, struct rect r)
{
	struct reportsv *s = R(v);
	struct tui *t = v->t;
	const struct report_set *d = defs(v);
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	int namew = 24, titlew = r.w - 2 - namew - 1 - 8 - 1 - 6 - 1 - 15 - 1 - 12;
	if (titlew < 10)
		titlew = 10;
	int x = r.x + 2;
	draw_text(r.y, x, namew, "REPORT", title);
	draw_text(r.y, x += namew + 1, titlew, "TITLE", title);
	draw_text(r.y, x += titlew + 1, 8, "    ROWS", title);
	draw_text(r.y, x += 9, 6, "   RUN", title);
	draw_text(r.y, x += 7, 15, "WHEN", title);
	draw_text(r.y, x += 16, 12, "CHART", title);
	int rows = r.h - 2 > 0 ? r.h - 2 : 1;
	if (s->sel >= (int)d->n)
		s->sel = d->n ? (int)d->n - 1 : 0;
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + rows)
		s->top = s->sel - rows + 1;
	for (int i = 0; i < rows && s->top + i < (int)d->n; i++) {
		const struct report_def *rd = &d->v[s->top + i];
		const struct report_result *l = latest_of(s, rd->name);
		bool sel = s->top + i == s->sel;
		int y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		draw_text(y, x, namew, rd->name, base | (sel ? A_BOLD : 0));
		draw_text(y, x += namew + 1, titlew, rd->title, base);
		char when[32] = "never";
		if (l)
			fmt_ts_short(l->created_at, when, sizeof when);
		draw_textf(y, x += titlew + 1, 8, base, "%8s", l ? "" : "-");
		if (l)
			draw_textf(y, x, 8, base, "%8d", l->n_rows);
		draw_textf(y, x += 9, 6, sel ? base : dim, "%6ld", l ? l->run_id : 0L);
		draw_text(y, x += 7, 15, when, sel ? base : dim);
		draw_text(y, x += 16, 12, rd->chart.type ? chart_type_name(rd->chart.type) : "-", sel ? base : dim);
	}
	if (!d->n)
		draw_text(r.y + 2, r.x + 2, r.w - 4, "no reports: a report is reports/NAME.yml (see sluice(1))", dim);
	else
		draw_text(r.y + r.h - 1, r.x + 1, r.w - 2,
			  s->loaded ? "Enter: the report's table and chart" : "loading...", dim);
}

/* ---- one report ---------------------------------------------------------------------- */

static const char *cellv(const json_t *row, size_t k)
{
	const char *c = json_string_value(json_array_get(row, k));
	return c ? c : "NULL";
}

static bool numeric(const char *c)
{
	char *end;
	if (!*c)
		return false;
	strtod(c, &end);
	return *end == '\0';
}

/* The table in h lines from y; the cursor scrolls it. */
static void draw_table(struct view *v, int y, int x0, int h, int w)
{
	struct reportsv *s = R(v);
	struct tui *t = v->t;
	const json_t *cols = s->shown.columns, *rows = s->shown.rows;
	size_t nc = json_array_size(cols), nr = json_array_size(rows);
	int *cw = xcalloc(nc + 1, sizeof *cw);
	bool *num = xcalloc(nc + 1, sizeof *num);
	for (size_t k = 0; k < nc; k++) {
		cw[k] = text_width(json_string_value(json_array_get(cols, k)));
		num[k] = nr > 0;
		for (size_t i = 0; i < nr; i++) {
			const char *c = cellv(json_array_get(rows, i), k);
			int tw = text_width(c);
			cw[k] = tw > cw[k] ? tw : cw[k];
			num[k] = num[k] && numeric(c);
		}
		cw[k] = cw[k] > 40 ? 40 : cw[k];
	}
	attr_t title = style_attr(t, S_TITLE), norm = style_attr(t, S_NORMAL);
	int x = x0;
	for (size_t k = 0; k < nc && x < x0 + w; k++) {
		const char *name = json_string_value(json_array_get(cols, k));
		int pad = num[k] ? cw[k] - text_width(name) : 0;
		draw_text(y, x + (pad > 0 ? pad : 0), x0 + w - x, name, title);
		x += cw[k] + 2;
	}
	int lines = h - 1 > 0 ? h - 1 : 1;
	if (s->sel >= (int)nr)
		s->sel = nr ? (int)nr - 1 : 0;
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + lines)
		s->top = s->sel - lines + 1;
	for (int i = 0; i < lines && s->top + i < (int)nr; i++) {
		const json_t *row = json_array_get(rows, (size_t)(s->top + i));
		bool sel = s->top + i == s->sel;
		attr_t a = sel ? style_attr(t, S_SELECTED) : norm;
		if (sel)
			draw_fill(y + 1 + i, x0, w, a);
		x = x0;
		for (size_t k = 0; k < nc && x < x0 + w; k++) {
			const char *c = cellv(row, k);
			int pad = num[k] ? cw[k] - text_width(c) : 0;
			int room = x0 + w - x;
			draw_text(y + 1 + i, x + (pad > 0 ? pad : 0), room < cw[k] ? room : cw[k], c, a);
			x += cw[k] + 2;
		}
	}
	free(cw);
	free(num);
}

/* The series' colours: the theme's state colours, which every theme has. */
static attr_t series_attr(struct tui *t, size_t i)
{
	static const int st[] = {1, 3, 5, 7, 2, 6, 4};
	return style_attr(t, (enum style)(S_STATE0 + st[i % (sizeof st / sizeof st[0])]));
}

static void bar_line(struct tui *t, int y, int x, int w, const char *label, int lw, const struct chart_data *c,
		     size_t cat, int series, double max, bool utf8)
{
	draw_text(y, x, lw, label, style_attr(t, S_NORMAL));
	int bx = x + lw + 1, bw = w - lw - 1 - 10;
	if (bw < 4)
		return;
	struct strbuf b = {0};
	double total = 0;
	if (series >= 0 || c->type != CHART_STACKED) {
		double v = c->v[cat * c->n_series + (size_t)(series >= 0 ? series : 0)];
		int n = chart_bar(&b, v, max, bw, utf8);
		draw_text(y, bx, bw, b.s ? b.s : "", series_attr(t, (size_t)(series >= 0 ? series : 0)));
		total = v;
		bx += n;
	} else {
		/* the segments in whole cells, the bar's end in eighths */
		double cum = 0;
		int used = 0;
		for (size_t s = 0; s < c->n_series; s++) {
			double v = c->v[cat * c->n_series + s];
			if (!(v > 0))
				continue;
			cum += v;
			sb_reset(&b);
			bool last = true;
			for (size_t k = s + 1; k < c->n_series; k++)
				last = last && !(c->v[cat * c->n_series + k] > 0);
			int n = last ? chart_bar(&b, cum, max, bw, utf8) - used : (int)(cum / max * bw + 0.5) - used;
			if (last) {
				/* only the part after what is drawn */
				const char *p = b.s ? b.s : "";
				draw_text(y, bx + used, bw - used, p + text_skip(p, used), series_attr(t, s));
			} else {
				for (int i = 0; i < n; i++)
					draw_text(y, bx + used + i, 1, utf8 ? "█" : "#", series_attr(t, s));
			}
			used += n > 0 ? n : 0;
		}
		total = cum;
		bx += used;
	}
	sb_free(&b);
	/* as the table shows it: no trailing zeros */
	char num[48];
	snprintf(num, sizeof num, "%.2f", total);
	char *dot = strchr(num, '.');
	if (dot) {
		char *e = num + strlen(num);
		while (e > dot + 1 && e[-1] == '0')
			*--e = '\0';
		if (e == dot + 1)
			*dot = '\0';
	}
	draw_text(y, bx + 1, 10, num, style_attr(t, S_DIM));
}

static void draw_chart(struct view *v, int y, int x, int h, int w)
{
	struct reportsv *s = R(v);
	struct tui *t = v->t;
	const struct chart_data *c = &s->chart;
	bool utf8 = draw_utf8(t), grouped = c->type != CHART_STACKED && c->n_series > 1;
	attr_t dim = style_attr(t, S_DIM);
	/* the legend: one line of series names in their colours */
	int lx = x;
	lx += draw_text(y, lx, w, chart_type_name(c->type), style_attr(t, S_TITLE));
	for (size_t i = 0; i < c->n_series && lx < x + w - 4 && c->n_series > 1; i++) {
		lx += draw_text(y, lx + 2, 2, utf8 ? "█" : "#", series_attr(t, i)) + 2;
		lx += draw_text(y, lx + 1, x + w - lx - 1, c->series[i], dim) + 1;
	}
	int lw = 8;
	for (size_t i = 0; i < c->n_cats; i++) {
		int tw = text_width(c->cats[i]) + (grouped ? 0 : 0);
		lw = tw > lw ? tw : lw;
	}
	if (grouped)
		for (size_t k = 0; k < c->n_series; k++)
			lw = text_width(c->series[k]) + 2 > lw ? text_width(c->series[k]) + 2 : lw;
	lw = lw > LABEL_MAX ? LABEL_MAX : lw;
	double max = chart_data_max(c);
	/* what does not fit is said on the last line */
	size_t per = grouped ? 1 + c->n_series : 1;
	int end = (size_t)(h - 1) >= c->n_cats * per ? y + h : y + h - 1;
	int line = y + 1;
	size_t i = 0;
	for (; i < c->n_cats && line + (int)per <= end; i++) {
		if (!grouped) {
			bar_line(t, line++, x, w, c->cats[i], lw, c, i, -1, max, utf8);
			continue;
		}
		draw_text(line++, x, w, c->cats[i], style_attr(t, S_NORMAL) | A_BOLD);
		for (size_t k = 0; k < c->n_series; k++) {
			char label[LABEL_MAX + 4];
			snprintf(label, sizeof label, "  %s", c->series[k]);
			bar_line(t, line++, x, w, label, lw, c, i, (int)k, max, utf8);
		}
	}
	if (i < c->n_cats)
		draw_textf(line, x, w, dim, "%s %zu more (the HTML export has them all)", box_chars(t)->ellipsis,
			   c->n_cats - i);
	if (!c->n_cats)
		draw_text(y + 1, x, w, "no rows to chart", dim);
}

static void draw_report(struct view *v, struct rect r)
{
	struct reportsv *s = R(v);
	struct tui *t = v->t;
	attr_t dim = style_attr(t, S_DIM);
	if (!s->have_shown) {
		draw_text(r.y + 1, r.x + 2, r.w - 4,
			  !s->loaded ? (tui_connected(t) ? "loading..." : "waiting for the state database...")
				     : "no result yet: a pipeline task of kind report records one each run",
			  dim);
		return;
	}
	const struct report_result *res = &s->shown;
	char when[32];
	fmt_ts_short(res->created_at, when, sizeof when);
	int n = draw_textf(r.y, r.x + 1, r.w - 2, style_attr(t, S_TITLE) | A_BOLD, "%s",
			   res->title ? res->title : res->report);
	draw_textf(r.y, r.x + 2 + n, r.w - 3 - n, dim, "  run %ld (%d of %zu), %s, %d row%s%s", res->run_id, s->at + 1,
		   s->n_runs, when, res->n_rows, res->n_rows == 1 ? "" : "s", res->truncated ? " (first kept)" : "");
	int body = r.h - 2;
	int th = s->have_chart || s->chart_err[0] ? body / 2 : body;
	int rows = (int)json_array_size(res->rows) + 1;
	if (th > rows)
		th = rows;
	draw_table(v, r.y + 1, r.x + 1, th, r.w - 2);
	if (s->have_chart)
		draw_chart(v, r.y + 2 + th, r.x + 1, body - th - 1, r.w - 2);
	else if (s->chart_err[0])
		draw_text(r.y + 2 + th, r.x + 1, r.w - 2, s->chart_err, style_attr(t, S_ERROR));
	draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, "h/l: older/newer run   x: export CSV   X: export HTML", dim);
}

static void reports_draw(struct view *v, struct rect r)
{
	if (R(v)->name)
		draw_report(v, r);
	else
		draw_list(v, r);
}

/* ---- keys ----------------------------------------------------------------------------- */

static void step_run(struct view *v, int by)
{
	struct reportsv *s = R(v);
	int to = s->at + by;
	if (to < 0 || to >= (int)s->n_runs) {
		tui_status(v->t, to < 0 ? "this is the newest run" : "no older run kept");
		return;
	}
	s->at = to;
	s->want = s->runs[to].run_id;
	s->sel = s->top = 0;
	struct query q;
	query_report_result(&q, tui_project(v->t)->name, s->name, s->want);
	tui_query(v, &q, on_result, 0);
}

static void export_prompt(struct view *v, int action)
{
	struct reportsv *s = R(v);
	if (!s->have_shown) {
		tui_error(v->t, "no result to export");
		return;
	}
	char *f = xasprintf("%s/%s-run%ld.%s", tui_project(v->t)->root, s->name, s->shown.run_id,
			    action == ACT_EXPORT_CSV ? "csv" : "html");
	tui_prompt(v->t, action, f);
	free(f);
}

static int reports_input(struct view *v, int action, const char *text)
{
	struct reportsv *s = R(v);
	if ((action != ACT_EXPORT_CSV && action != ACT_EXPORT_HTML) || !s->have_shown)
		return H_IGNORED;
	if (!text || !*text) {
		tui_error(v->t, "export: no file given");
		return H_HANDLED;
	}
	struct strbuf b = {0};
	if (action == ACT_EXPORT_CSV)
		report_csv(&b, s->shown.columns, s->shown.rows);
	else
		report_html(&b, &s->shown);
	struct err e = {0};
	if (file_write_atomic(text, b.s ? b.s : "", b.len, 0644, &e) < 0)
		tui_error(v->t, "export: %s", e.msg);
	else
		tui_status(v->t, "wrote %s", text);
	sb_free(&b);
	return H_HANDLED | H_REDRAW;
}

static int reports_key(struct view *v, int key, int a)
{
	struct reportsv *s = R(v);
	(void)key;
	int n = s->name ? (int)json_array_size(s->shown.rows) : (int)defs(v)->n;
	int last = n ? n - 1 : 0, page = tui_body(v->t).h / 2;
	switch (a) {
	case ACT_UP: s->sel = s->sel > 0 ? s->sel - 1 : 0; break;
	case ACT_DOWN: s->sel = s->sel < last ? s->sel + 1 : last; break;
	case ACT_PGUP: s->sel = s->sel > page ? s->sel - page : 0; break;
	case ACT_PGDN: s->sel = s->sel + page < last ? s->sel + page : last; break;
	case ACT_TOP: s->sel = 0; break;
	case ACT_BOTTOM: s->sel = last; break;
	case ACT_LEFT:
	case ACT_RIGHT:
		if (!s->name)
			return H_IGNORED;
		step_run(v, a == ACT_LEFT ? 1 : -1);
		break;
	case ACT_EXPORT_CSV:
	case ACT_EXPORT_HTML:
		if (!s->name) {
			tui_error(v->t, "open a report first (Enter)");
			return H_HANDLED;
		}
		export_prompt(v, a);
		return H_HANDLED;
	case ACT_OPEN:
		if (s->name || !defs(v)->n)
			return H_HANDLED;
		tui_push(v->t, &reports_ops, defs(v)->v[s->sel].name);
		return H_HANDLED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static void reports_event(struct view *v, enum tui_event ev, long arg)
{
	(void)arg;
	switch (ev) {
	case EV_STATE_CHANGED:
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &R(v)->rf);
		break;
	default:
		break;
	}
}

const struct view_ops reports_ops = {
	.name = "reports",
	.priv_size = sizeof(struct reportsv),
	.open = reports_open,
	.draw = reports_draw,
	.handle_key = reports_key,
	.on_event = reports_event,
	.on_input = reports_input,
	.done = reports_done,
};
