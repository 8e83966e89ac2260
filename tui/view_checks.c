/* The checks view: the latest result of every check of the project, with
 * a strip of its recent results (oldest on the left), its failing rows out
 * of the rows checked, and the run and task it came from. Enter opens that
 * task instance on its failing rows; r, c, S, F act on it like anywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/checkstore.h"
#include "core/project.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/failrows.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/view.h"

#define STRIP 20   /* recent results shown per check */

struct checksv {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	struct filter filter;
	struct check_row *rows;
	size_t n;
	size_t *vis;                /* rows passing the filter, as indexes */
	size_t n_vis;
	int sel, top;
	bool loaded;
};

static struct checksv *C(struct view *v)
{
	return v->priv;
}

static void rebuild(struct view *v)
{
	struct checksv *c = C(v);
	free(c->vis);
	c->vis = xcalloc(c->n + 1, sizeof *c->vis);
	c->n_vis = 0;
	for (size_t i = 0; i < c->n; i++)
		if (filter_match(&c->filter, c->rows[i].check))
			c->vis[c->n_vis++] = i;
	if (c->sel >= (int)c->n_vis)
		c->sel = c->n_vis ? (int)c->n_vis - 1 : 0;
	view_set_title(v, "checks%s%s", c->filter.active ? " /" : "", c->filter.active ? c->filter.text : "");
}

static void on_rows(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct checksv *c = C(v);
	(void)arg;
	refresh_done(v, &c->rf);
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "checks: %s", error);
		return;
	}
	/* keep the cursor on the same check across a refresh */
	char *was = c->n_vis ? xstrdup(c->rows[c->vis[c->sel]].check) : NULL;
	check_rows_free(c->rows, c->n);
	query_check_rows_parse(r, &c->rows, &c->n);
	c->loaded = true;
	rebuild(v);
	for (size_t i = 0; was && i < c->n_vis; i++)
		if (!strcmp(c->rows[c->vis[i]].check, was))
			c->sel = (int)i;
	free(was);
	v->dirty = true;
}

static void send(struct view *v)
{
	struct query q;
	query_check_latest(&q, tui_project(v->t)->name, 0, NULL, STRIP);
	refresh_send(v, &C(v)->rf, &q, on_rows, 0);
}

static int checks_open(struct view *v, const char *arg)
{
	struct checksv *c = C(v);
	(void)arg;
	c->rf.send = send;
	c->rf.min_ms = 200;
	rebuild(v);
	refresh_request(v, &c->rf);
	return 0;
}

static void checks_done(struct view *v)
{
	struct checksv *c = C(v);
	refresh_cancel(v, &c->rf);
	filter_clear(&c->filter);
	check_rows_free(c->rows, c->n);
	free(c->vis);
}

static void checks_draw(struct view *v, struct rect r)
{
	struct checksv *c = C(v);
	struct tui *t = v->t;
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	int namew = 12;
	for (size_t i = 0; i < c->n_vis; i++) {
		int w = text_width(c->rows[c->vis[i]].check);
		namew = w > namew ? w : namew;
	}
	if (namew > 44)
		namew = 44;
	int statw = 6, failw = 17, stripw = STRIP + 1, runw = 6, taskw = 16;
	bool show_task = 2 + namew + 1 + statw + 1 + failw + 1 + stripw + 1 + runw + 1 + taskw <= r.w;
	int x = r.x + 2, y = r.y;
	draw_text(y, x, namew, "CHECK", title);
	x += namew + 1;
	draw_text(y, x, statw, "STATUS", title);
	x += statw + 1;
	draw_text(y, x, failw, "FAILING / ROWS", title);
	x += failw + 1;
	draw_text(y, x, stripw, "RECENT", title);
	x += stripw + 1;
	draw_text(y, x, runw, "RUN", title);
	x += runw + 1;
	if (show_task)
		draw_text(y, x, taskw, "TASK", title);

	int rows = r.h - 2;
	if (rows < 1)
		rows = 1;
	if (c->sel < c->top)
		c->top = c->sel;
	if (c->sel >= c->top + rows)
		c->top = c->sel - rows + 1;
	for (int i = 0; i < rows && c->top + i < (int)c->n_vis; i++) {
		const struct check_row *k = &c->rows[c->vis[c->top + i]];
		bool sel = c->top + i == c->sel;
		y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		attr_t st = sel ? base : style_attr(t, (enum style)check_style(k->status));
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		draw_text(y, x, namew, k->check, base | (sel ? A_BOLD : 0));
		x += namew + 1;
		draw_textf(y, x, statw, st, "%s %s", check_glyph(t, k->status), k->status);
		x += statw + 1;
		char fail[32] = "-", tot[32] = "-";
		if (k->failing >= 0)
			snprintf(fail, sizeof fail, "%lld", k->failing);
		if (k->total >= 0)
			snprintf(tot, sizeof tot, "%lld", k->total);
		draw_textf(y, x, failw, sel ? base : style_attr(t, S_NORMAL), "%7s / %-7s", fail, tot);
		x += failw + 1;
		/* oldest on the left, right-aligned so the newest is in one column */
		const char *strip = k->strip ? k->strip : "";
		int ns = (int)strlen(strip);
		for (int j = 0; j < ns && j < STRIP; j++) {
			char s[2] = {strip[j], 0};
			draw_text(y, x + (STRIP - ns) + j, 1, check_glyph(t, s),
				  sel ? base : style_attr(t, (enum style)check_style(s)));
		}
		x += stripw + 1;
		draw_textf(y, x, runw, sel ? base : dim, "%ld", k->run_id);
		x += runw + 1;
		if (show_task)
			draw_text(y, x, taskw, k->task ? k->task : "-", sel ? base : dim);
	}
	if (!c->n_vis)
		draw_text(r.y + 2, r.x + 2, r.w - 4,
			  !c->loaded	   ? (tui_connected(t) ? "loading..." : "waiting for the state database...")
			  : c->n	   ? "no check matches the filter (Esc clears it)"
				   : "no check results yet: a pipeline task of kind check records one each run",
			  dim);
	if (c->n_vis) {
		const struct check_row *k = &c->rows[c->vis[c->sel]];
		char when[32];
		fmt_ts_short(k->created_at, when, sizeof when);
		draw_textf(r.y + r.h - 1, r.x + 1, r.w - 2, dim, "%s (%s%s%s) %s, %s  (Enter: failing rows)", k->check, k->type,
			   k->model ? " on " : "", k->model ? k->model : "", when, k->error ? k->error : k->threshold ? k->threshold : "");
	}
}

static int checks_key(struct view *v, int key, int a)
{
	struct checksv *c = C(v);
	(void)key;
	int rows = tui_body(v->t).h - 2;
	int last = c->n_vis ? (int)c->n_vis - 1 : 0;
	switch (a) {
	case ACT_UP: c->sel = c->sel > 0 ? c->sel - 1 : 0; break;
	case ACT_DOWN: c->sel = c->sel < last ? c->sel + 1 : last; break;
	case ACT_PGUP: c->sel = c->sel > rows ? c->sel - rows : 0; break;
	case ACT_PGDN: c->sel = c->sel + rows < last ? c->sel + rows : last; break;
	case ACT_TOP: c->sel = 0; break;
	case ACT_BOTTOM: c->sel = last; break;
	case ACT_OPEN: {
		if (!c->n_vis)
			return H_HANDLED;
		const struct check_row *k = &c->rows[c->vis[c->sel]];
		if (!k->run_id || !k->task) {
			tui_error(v->t, "%s: this result has no task instance", k->check);
			return H_HANDLED;
		}
		view_open_task(v, k->run_id, k->task);
		return H_HANDLED;
	}
	case ACT_BACK:
		if (view_filter_back(&c->filter)) {
			rebuild(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int checks_input(struct view *v, int action, const char *text)
{
	struct checksv *c = C(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &c->filter, text))
		return H_HANDLED;
	c->sel = 0;
	rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void checks_event(struct view *v, enum tui_event ev, long arg)
{
	(void)arg;
	switch (ev) {
	case EV_STATE_CHANGED:
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &C(v)->rf);
		break;
	default:
		break;
	}
}

static bool checks_selected(struct view *v, struct tui_sel *s)
{
	struct checksv *c = C(v);
	if (!c->n_vis)
		return false;
	const struct check_row *k = &c->rows[c->vis[c->sel]];
	s->run_id = k->run_id;
	s->task = k->task;
	return true;
}

const struct view_ops checks_ops = {
	.name = "checks",
	.priv_size = sizeof(struct checksv),
	.open = checks_open,
	.draw = checks_draw,
	.handle_key = checks_key,
	.on_event = checks_event,
	.on_input = checks_input,
	.selected = checks_selected,
	.done = checks_done,
};
