/* The runs grid of one pipeline (Airflow's grid): its tasks as rows, its
 * recent runs as columns, oldest on the left; a cell is the task instance's
 * state, by glyph and colour. Enter opens the task instance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/project.h"
#include "core/query.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

#define GRID_RUNS 60
#define CELL_W 3

struct grid {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	char *pipeline;
	struct run_row *runs;       /* newest first, as queried */
	size_t n_runs;
	struct grid_row *cells;
	size_t n_cells;
	char **tasks;               /* row labels: the pipeline's tasks, then any only old runs had */
	size_t n_tasks;
	struct grid_row **at;       /* [task * n_runs + run] or NULL */
	struct filter filter;
	size_t *vis;
	size_t n_vis;
	int sel_row, top_row;
	int sel_col;                /* run index counted from the oldest shown */
	int left_col;               /* first visible column */
	bool loaded;
	bool follow_newest;         /* keep the newest run selected as runs arrive */
	struct run_row *tmp_runs;   /* the runs of a round, until its cells arrive */
	size_t tmp_n;
};

static struct grid *G(struct view *v)
{
	return v->priv;
}

static void add_task(struct grid *g, const char *name)
{
	for (size_t i = 0; i < g->n_tasks; i++)
		if (!strcmp(g->tasks[i], name))
			return;
	g->tasks = xrealloc(g->tasks, (g->n_tasks + 1) * sizeof *g->tasks);
	g->tasks[g->n_tasks++] = xstrdup(name);
}

static int task_index(struct grid *g, const char *name)
{
	for (size_t i = 0; i < g->n_tasks; i++)
		if (!strcmp(g->tasks[i], name))
			return (int)i;
	return -1;
}

/* Run index from the oldest (column) to the row of runs (newest first). */
static size_t run_at(struct grid *g, int col)
{
	return g->n_runs - 1 - (size_t)col;
}

static void rebuild(struct view *v)
{
	struct grid *g = G(v);
	free(g->vis);
	g->vis = xcalloc(g->n_tasks ? g->n_tasks : 1, sizeof *g->vis);
	g->n_vis = 0;
	for (size_t i = 0; i < g->n_tasks; i++)
		if (filter_match(&g->filter, g->tasks[i]))
			g->vis[g->n_vis++] = i;
	if (g->sel_row >= (int)g->n_vis)
		g->sel_row = g->n_vis ? (int)g->n_vis - 1 : 0;
	view_set_title(v, "%s runs%s%s", g->pipeline, g->filter.active ? " /" : "",
		       g->filter.active ? g->filter.text : "");
}

static void index_cells(struct view *v)
{
	struct grid *g = G(v);
	free(g->at);
	g->at = xcalloc((g->n_tasks ? g->n_tasks : 1) * (g->n_runs ? g->n_runs : 1), sizeof *g->at);
	for (size_t i = 0; i < g->n_cells; i++) {
		int ti = task_index(g, g->cells[i].task);
		if (ti < 0) {
			add_task(g, g->cells[i].task);
			free(g->at);
			g->at = NULL;
			index_cells(v); /* rare: a task only old runs had */
			return;
		}
		for (size_t r = 0; r < g->n_runs; r++) {
			if (g->runs[r].id == g->cells[i].run_id) {
				g->at[(size_t)ti * g->n_runs + r] = &g->cells[i];
				break;
			}
		}
	}
}

static void on_runs(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct grid *g = G(v);
	if (!r) {
		refresh_done(v, &g->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "runs: %s", error);
		return;
	}
	run_rows_free(g->tmp_runs, g->tmp_n);
	query_runs_parse(r, &g->tmp_runs, &g->tmp_n);
	refresh_done(v, &g->rf);
}

static void on_cells(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct grid *g = G(v);
	if (!r) {
		refresh_done(v, &g->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "runs: %s", error);
		return;
	}
	/* keep the selected run selected when newer ones arrive */
	long sel_run = g->n_runs && g->sel_col >= 0 && g->sel_col < (int)g->n_runs ? g->runs[run_at(g, g->sel_col)].id : 0;
	run_rows_free(g->runs, g->n_runs);
	g->runs = g->tmp_runs;
	g->n_runs = g->tmp_n;
	g->tmp_runs = NULL;
	g->tmp_n = 0;
	grid_rows_free(g->cells, g->n_cells);
	query_grid_parse(r, &g->cells, &g->n_cells);
	index_cells(v);
	rebuild(v);
	if (!g->loaded || g->follow_newest || !sel_run) {
		g->sel_col = g->n_runs ? (int)g->n_runs - 1 : 0;
	} else {
		g->sel_col = (int)g->n_runs - 1;
		for (size_t i = 0; i < g->n_runs; i++)
			if (g->runs[i].id == sel_run)
				g->sel_col = (int)(g->n_runs - 1 - i);
	}
	g->loaded = true;
	v->dirty = true;
	refresh_done(v, &g->rf);
}

static void send(struct view *v)
{
	struct grid *g = G(v);
	struct query q;
	query_runs(&q, tui_project(v->t)->name, g->pipeline, GRID_RUNS);
	refresh_send(v, &g->rf, &q, on_runs, 0);
	query_grid(&q, tui_project(v->t)->name, g->pipeline, GRID_RUNS);
	refresh_send(v, &g->rf, &q, on_cells, 0);
}

static int grid_open(struct view *v, const char *arg)
{
	struct grid *g = G(v);
	struct tui_sel sel;
	if (!arg) {
		/* `2` or `:runs`: the pipeline selected where it opens from */
		tui_selection(v->t, &sel);
		if (!sel.pipeline) {
			tui_error(v->t, "runs: select a pipeline (or :runs NAME)");
			return -1;
		}
		arg = sel.pipeline;
	}
	const struct pipeline *pl = project_pipeline(tui_project(v->t), arg);
	if (!pl) {
		tui_error(v->t, "runs: no pipeline '%s'", arg);
		return -1;
	}
	g->pipeline = xstrdup(pl->name);
	for (size_t i = 0; i < pl->n_tasks; i++)
		add_task(g, pl->tasks[i].name);
	g->follow_newest = true;
	g->rf.send = send;
	g->rf.min_ms = 100;
	rebuild(v);
	refresh_request(v, &g->rf);
	char *cmd = act_batch_command(ACT_RUNS, g->pipeline, 0, NULL, false, false, NULL, NULL);
	tui_status(v->t, "[%s]", cmd);
	free(cmd);
	return 0;
}

static void grid_done(struct view *v)
{
	struct grid *g = G(v);
	refresh_cancel(v, &g->rf);
	free(g->pipeline);
	run_rows_free(g->runs, g->n_runs);
	run_rows_free(g->tmp_runs, g->tmp_n);
	grid_rows_free(g->cells, g->n_cells);
	for (size_t i = 0; i < g->n_tasks; i++)
		free(g->tasks[i]);
	free(g->tasks);
	free(g->at);
	free(g->vis);
	filter_clear(&g->filter);
}

static const struct grid_row *cell(struct grid *g, size_t task, int col)
{
	if (!g->at || col < 0 || col >= (int)g->n_runs)
		return NULL;
	return g->at[task * g->n_runs + run_at(g, col)];
}

static void grid_draw(struct view *v, struct rect r)
{
	struct grid *g = G(v);
	struct tui *t = v->t;
	int namew = 10;
	for (size_t i = 0; i < g->n_vis; i++) {
		int w = text_width(g->tasks[g->vis[i]]);
		namew = w > namew ? w : namew;
	}
	if (namew > r.w / 3)
		namew = r.w / 3;
	int gx = r.x + 2 + namew + 1;
	int ncols = (r.w - (gx - r.x) - 1) / CELL_W;
	if (ncols < 1)
		ncols = 1;
	/* keep the selected column visible */
	if (g->sel_col < g->left_col)
		g->left_col = g->sel_col;
	if (g->sel_col >= g->left_col + ncols)
		g->left_col = g->sel_col - ncols + 1;
	if (g->left_col < 0)
		g->left_col = 0;
	if ((int)g->n_runs - g->left_col < ncols)
		g->left_col = (int)g->n_runs > ncols ? (int)g->n_runs - ncols : 0;

	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM), sel_a = style_attr(t, S_SELECTED);
	/* row 0: the selected run; row 1: run states */
	if (g->n_runs && g->sel_col < (int)g->n_runs) {
		const struct run_row *run = &g->runs[run_at(g, g->sel_col)];
		char dur[32], when[32];
		fmt_duration(run->duration_s, dur, sizeof dur);
		fmt_ts_short(run->created_at, when, sizeof when);
		int x = r.x + 1;
		x += draw_textf(r.y, x, r.w - 2, title, "run %ld ", run->id);
		x += draw_text(r.y, x, 2, state_glyph_str(t, run->state), style_attr(t, state_style(run->state)));
		x += draw_textf(r.y, x + 1, r.w - x, style_attr(t, state_style(run->state)), "%s", run->state) + 1;
		draw_textf(r.y, x + 1, r.x + r.w - x - 2, style_attr(t, S_NORMAL),
			   " %s  %s  started %s  %s  %d/%d ok, %d failed, %d active", run->logical_date, run->trigger, when,
			   dur, run->n_success, run->n_total, run->n_failed, run->n_active);
	} else {
		draw_text(r.y, r.x + 1, r.w - 2,
			  g->loaded ? "no runs yet: t triggers one" : tui_connected(t) ? "loading..." : "waiting for the state database...",
			  dim);
	}
	draw_text(r.y + 1, r.x + 2, namew, "TASK", title);
	for (int c = 0; c < ncols && g->left_col + c < (int)g->n_runs; c++) {
		int col = g->left_col + c;
		const struct run_row *run = &g->runs[run_at(g, col)];
		attr_t a = col == g->sel_col ? sel_a : style_attr(t, state_style(run->state));
		draw_text(r.y + 1, gx + c * CELL_W, CELL_W, " ", a);
		draw_text(r.y + 1, gx + c * CELL_W + 1, 1, state_glyph_str(t, run->state), a);
		draw_text(r.y + 1, gx + c * CELL_W + 2, 1, " ", a);
	}
	int rows = r.h - 3;
	if (rows < 1)
		rows = 1;
	if (g->sel_row < g->top_row)
		g->top_row = g->sel_row;
	if (g->sel_row >= g->top_row + rows)
		g->top_row = g->sel_row - rows + 1;
	for (int i = 0; i < rows && g->top_row + i < (int)g->n_vis; i++) {
		size_t task = g->vis[g->top_row + i];
		int y = r.y + 2 + i;
		bool sel = g->top_row + i == g->sel_row;
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", sel ? title : dim);
		draw_text(y, r.x + 2, namew, g->tasks[task], sel ? sel_a : style_attr(t, S_NORMAL));
		for (int c = 0; c < ncols && g->left_col + c < (int)g->n_runs; c++) {
			int col = g->left_col + c;
			const struct grid_row *ce = cell(g, task, col);
			bool here = sel && col == g->sel_col;
			attr_t a = here ? sel_a : ce ? style_attr(t, state_style(ce->state)) : dim;
			int cx = gx + c * CELL_W;
			if (here) {
				draw_text(y, cx, 1, "[", sel_a);
				draw_text(y, cx + 2, 1, "]", sel_a);
			}
			draw_text(y, cx + 1, 1, ce ? state_glyph_str(t, ce->state) : " ", a);
		}
	}
	/* the selected cell in words */
	if (g->n_vis && g->n_runs) {
		const struct grid_row *ce = cell(g, g->vis[g->sel_row], g->sel_col);
		if (ce)
			draw_textf(r.y + r.h - 1, r.x + 1, r.w - 2, style_attr(t, state_style(ce->state)),
				   "%s %s  %s  try %d  (Enter: log, 3: graph)", state_glyph_str(t, ce->state), ce->task, ce->state,
				   ce->try_number);
		else
			draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, "no instance of this task in that run", dim);
	}
}

static int grid_key(struct view *v, int key, int a)
{
	struct grid *g = G(v);
	int rows = tui_body(v->t).h - 3;
	int last = g->n_vis ? (int)g->n_vis - 1 : 0;
	int lastc = g->n_runs ? (int)g->n_runs - 1 : 0;
	switch (a) {
	case ACT_UP: g->sel_row = g->sel_row > 0 ? g->sel_row - 1 : 0; break;
	case ACT_DOWN: g->sel_row = g->sel_row < last ? g->sel_row + 1 : last; break;
	case ACT_PGUP: g->sel_row = g->sel_row > rows ? g->sel_row - rows : 0; break;
	case ACT_PGDN: g->sel_row = g->sel_row + rows < last ? g->sel_row + rows : last; break;
	case ACT_TOP: g->sel_row = 0; break;
	case ACT_BOTTOM: g->sel_row = last; break;
	case ACT_LEFT:
		g->sel_col = g->sel_col > 0 ? g->sel_col - 1 : 0;
		g->follow_newest = false;
		break;
	case ACT_RIGHT:
		g->sel_col = g->sel_col < lastc ? g->sel_col + 1 : lastc;
		g->follow_newest = g->sel_col == lastc;
		break;
	case ACT_OPEN: {
		const struct grid_row *ce = g->n_vis ? cell(g, g->vis[g->sel_row], g->sel_col) : NULL;
		if (!ce) {
			tui_error(v->t, "no task instance there");
			return H_HANDLED;
		}
		view_open_task(v, ce->run_id, ce->task);
		return H_HANDLED;
	}
	case ACT_BACK:
		if (view_filter_back(&g->filter)) {
			rebuild(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int grid_input(struct view *v, int action, const char *text)
{
	struct grid *g = G(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &g->filter, text))
		return H_HANDLED;
	g->sel_row = 0;
	rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void grid_event(struct view *v, enum tui_event ev, long arg)
{
	struct grid *g = G(v);
	switch (ev) {
	case EV_STATE_CHANGED:
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &g->rf);
		break;
	default:
		break;
	}
}

static bool grid_selected(struct view *v, struct tui_sel *s)
{
	struct grid *g = G(v);
	s->pipeline = g->pipeline;
	if (!g->n_runs)
		return true;
	s->run_id = g->runs[run_at(g, g->sel_col)].id;
	if (!g->n_vis)
		return true;
	const struct grid_row *ce = cell(g, g->vis[g->sel_row], g->sel_col);
	if (ce) {
		s->task = ce->task;
		s->ti = ce->ti;
		s->state = ce->state;
	}
	return true;
}

const struct view_ops grid_ops = {
	.name = "runs",
	.priv_size = sizeof(struct grid),
	.open = grid_open,
	.draw = grid_draw,
	.handle_key = grid_key,
	.on_event = grid_event,
	.on_input = grid_input,
	.selected = grid_selected,
	.done = grid_done,
};
