/* The pipelines view: every pipeline of the project with its schedule, the
 * state of its last run, a strip of its recent runs, when it runs next and
 * how many of its runs failed. The list comes from the project files, so it
 * shows before the state store answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/util.h"
#include "core/cron.h"
#include "core/project.h"
#include "core/query.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

#define STRIP_RUNS 10

struct pipelines {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	struct filter filter;
	size_t *vis;                /* pipelines passing the filter, as indexes */
	size_t n_vis;
	int sel, top;
	struct pipeline_run_row *rows;
	size_t n_rows;
	bool loaded;
};

static struct pipelines *P(struct view *v)
{
	return v->priv;
}

static void pl_rebuild(struct view *v)
{
	struct pipelines *p = P(v);
	const struct project *proj = tui_project(v->t);
	free(p->vis);
	p->vis = xcalloc(proj->n_pipelines, sizeof *p->vis);
	p->n_vis = 0;
	for (size_t i = 0; i < proj->n_pipelines; i++)
		if (filter_match(&p->filter, proj->pipelines[i].name))
			p->vis[p->n_vis++] = i;
	if (p->sel >= (int)p->n_vis)
		p->sel = p->n_vis ? (int)p->n_vis - 1 : 0;
	view_set_title(v, "pipelines%s%s", p->filter.active ? " /" : "",
		       p->filter.active ? p->filter.text : "");
}

static void on_rows(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct pipelines *p = P(v);
	refresh_done(v, &p->rf);
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "pipelines: %s", error);
		return;
	}
	pipeline_run_rows_free(p->rows, p->n_rows);
	query_pipeline_runs_parse(r, &p->rows, &p->n_rows);
	p->loaded = true;
	v->dirty = true;
}

static void pl_send(struct view *v)
{
	struct query q;
	query_pipeline_runs(&q, tui_project(v->t)->name, STRIP_RUNS);
	refresh_send(v, &P(v)->rf, &q, on_rows, 0);
}

static int pl_open(struct view *v, const char *arg)
{
	struct pipelines *p = P(v);
	p->rf.send = pl_send;
	p->rf.min_ms = 150;
	pl_rebuild(v);
	refresh_request(v, &p->rf);
	return 0;
}

static void pl_done(struct view *v)
{
	struct pipelines *p = P(v);
	refresh_cancel(v, &p->rf);
	filter_clear(&p->filter);
	free(p->vis);
	pipeline_run_rows_free(p->rows, p->n_rows);
}

/* The runs of a pipeline in rows (newest first), as [first, first+n). */
static size_t runs_of(struct pipelines *p, const char *name, size_t *first)
{
	size_t n = 0;
	*first = 0;
	for (size_t i = 0; i < p->n_rows; i++) {
		if (!strcmp(p->rows[i].pipeline, name)) {
			if (!n)
				*first = i;
			n++;
		} else if (n) {
			break;
		}
	}
	return n;
}

/* A run's state drawn with the task-state styles (queued, running,
 * success, failed are task states too). */
static void draw_run_state(struct tui *t, int y, int x, const char *state, bool sel, attr_t base)
{
	attr_t a = sel ? base : style_attr(t, state_style(state));
	draw_text(y, x, 1, state_glyph_str(t, state), a);
}

static void pl_draw(struct view *v, struct rect r)
{
	struct pipelines *p = P(v);
	struct tui *t = v->t;
	const struct project *proj = tui_project(t);
	int namew = 8;
	for (size_t i = 0; i < p->n_vis; i++) {
		int w = text_width(proj->pipelines[p->vis[i]].name);
		namew = w > namew ? w : namew;
	}
	if (namew > 32)
		namew = 32;
	/* columns that fit, most important first */
	int schedw = 13, lastw = 22, stripw = STRIP_RUNS + 2, nextw = 12, failw = 6;
	int used = 2 + namew + 2 + stripw + 1;
	bool show_last = used + lastw + 1 <= r.w;
	used += show_last ? lastw + 1 : 0;
	bool show_failed = used + failw <= r.w;
	used += show_failed ? failw + 1 : 0;
	bool show_next = used + nextw + 1 <= r.w;
	used += show_next ? nextw + 1 : 0;
	bool show_sched = used + schedw + 1 <= r.w;
	attr_t title = style_attr(t, S_TITLE);
	int x = r.x + 2;
	int y = r.y;
	draw_text(y, x, namew, "PIPELINE", title);
	x += namew + 2;
	if (show_sched) {
		draw_text(y, x, schedw, "SCHEDULE", title);
		x += schedw + 1;
	}
	if (show_last) {
		draw_text(y, x, lastw, "LAST RUN", title);
		x += lastw + 1;
	}
	draw_text(y, x, stripw, "RECENT", title);
	x += stripw + 1;
	if (show_next) {
		draw_text(y, x, nextw, "NEXT (UTC)", title);
		x += nextw + 1;
	}
	if (show_failed)
		draw_text(y, x, failw, "FAILED", title);

	int rows = r.h - 2;
	if (rows < 1)
		rows = 1;
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + rows)
		p->top = p->sel - rows + 1;
	time_t now = time(NULL);
	for (int i = 0; i < rows && p->top + i < (int)p->n_vis; i++) {
		const struct pipeline *pl = &proj->pipelines[p->vis[p->top + i]];
		bool sel = p->top + i == p->sel;
		y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		x = r.x;
		draw_text(y, x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x += 2;
		draw_text(y, x, namew, pl->name, base | (sel ? A_BOLD : 0));
		x += namew + 2;
		if (show_sched) {
			draw_text(y, x, schedw, pl->schedule ? pl->schedule : "manual", sel ? base : style_attr(t, S_DIM));
			x += schedw + 1;
		}
		size_t first;
		size_t n = runs_of(p, pl->name, &first);
		if (show_last) {
			if (n) {
				const struct pipeline_run_row *last = &p->rows[first];
				draw_run_state(t, y, x, last->state, sel, base);
				char when[32];
				fmt_ts_short(last->created_at, when, sizeof when);
				draw_textf(y, x + 2, lastw - 2, sel ? base : style_attr(t, state_style(last->state)), "%s %.11s",
					   last->state, when);
			} else {
				draw_text(y, x, lastw, p->loaded ? "no runs" : box_chars(t)->ellipsis, sel ? base : style_attr(t, S_DIM));
			}
			x += lastw + 1;
		}
		/* oldest on the left, newest on the right */
		for (size_t k = 0; k < n && k < STRIP_RUNS; k++) {
			const struct pipeline_run_row *run = &p->rows[first + n - 1 - k];
			draw_run_state(t, y, x + (int)k + (STRIP_RUNS - (int)(n < STRIP_RUNS ? n : STRIP_RUNS)), run->state,
				       sel, base);
		}
		x += stripw + 1;
		if (show_next) {
			char next[32] = "-";
			if (pl->schedule) {
				time_t nt = cron_next(&pl->cron, now);
				struct tm tm;
				if (nt != (time_t)-1 && gmtime_r(&nt, &tm))
					strftime(next, sizeof next, "%m-%d %H:%M", &tm);
			}
			draw_text(y, x, nextw, next, sel ? base : style_attr(t, S_NORMAL));
			x += nextw + 1;
		}
		if (show_failed && n) {
			int nf = p->rows[first].n_failed;
			draw_textf(y, x, failw, nf ? (sel ? base : style_attr(t, S_ERROR)) : (sel ? base : style_attr(t, S_DIM)),
				   "%5d", nf);
		}
	}
	if (p->n_vis == 0) {
		draw_text(r.y + 2, r.x + 2, r.w - 4,
			  proj->n_pipelines ? "no pipeline matches the filter (Esc clears it)"
					    : "no pipelines yet: add pipelines/NAME.yml to the project",
			  style_attr(t, S_DIM));
	}
	/* a line about the selection */
	if (p->n_vis) {
		const struct pipeline *pl = &proj->pipelines[p->vis[p->sel]];
		char info[512];
		snprintf(info, sizeof info, "%s: %zu task%s%s%s", pl->name, pl->n_tasks, pl->n_tasks == 1 ? "" : "s",
			 pl->description ? " - " : "", pl->description ? pl->description : "");
		draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, info, style_attr(t, S_DIM));
	}
}

static int pl_handle_key(struct view *v, int key, int a)
{
	struct pipelines *p = P(v);
	int rows = tui_body(v->t).h - 2;
	int last = p->n_vis ? (int)p->n_vis - 1 : 0;
	switch (a) {
	case ACT_UP: p->sel = p->sel > 0 ? p->sel - 1 : 0; break;
	case ACT_DOWN: p->sel = p->sel < last ? p->sel + 1 : last; break;
	case ACT_PGUP: p->sel = p->sel > rows ? p->sel - rows : 0; break;
	case ACT_PGDN: p->sel = p->sel + rows < last ? p->sel + rows : last; break;
	case ACT_TOP: p->sel = 0; break;
	case ACT_BOTTOM: p->sel = last; break;
	case ACT_OPEN:
		if (p->n_vis)
			tui_push(v->t, &grid_ops, tui_project(v->t)->pipelines[p->vis[p->sel]].name);
		return H_HANDLED;
	case ACT_BACK:
		if (view_filter_back(&p->filter)) {
			pl_rebuild(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int pl_on_input(struct view *v, int action, const char *text)
{
	struct pipelines *p = P(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &p->filter, text))
		return H_HANDLED;
	p->sel = 0;
	pl_rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void pl_on_event(struct view *v, enum tui_event ev, long arg)
{
	struct pipelines *p = P(v);
	switch (ev) {
	case EV_STATE_CHANGED:
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &p->rf);
		break;
	case EV_TICK:
		v->dirty = true;
		break;
	default:
		break;
	}
}

static bool pl_selected(struct view *v, struct tui_sel *s)
{
	struct pipelines *p = P(v);
	if (!p->n_vis)
		return false;
	const struct pipeline *pl = &tui_project(v->t)->pipelines[p->vis[p->sel]];
	/* no run: what opens from here follows the pipeline's latest run */
	s->pipeline = pl->name;
	return true;
}

const struct view_ops pipelines_ops = {
	.name = "pipelines",
	.priv_size = sizeof(struct pipelines),
	.open = pl_open,
	.draw = pl_draw,
	.handle_key = pl_handle_key,
	.on_event = pl_on_event,
	.on_input = pl_on_input,
	.selected = pl_selected,
	.done = pl_done,
};
