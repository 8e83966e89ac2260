/* The DAG view: a pipeline's tasks laid out in layers (tui/daglayout.h),
 * left to right, boxes and edges in box-drawing characters, each box in the
 * colour and with the glyph of its task's state in one run, live. The
 * canvas scrolls under a viewport: drawing costs what the screen shows, so
 * a thousand-task DAG moves as quickly as a small one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "connectors/pg.h"
#include "core/dag.h"
#include "core/project.h"
#include "core/query.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/daglayout.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

#define LABEL_WIDTH 24

struct dagv {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	char *pipeline;
	long run_id;                /* 0: the latest run, once known */
	bool fixed_run;             /* the run was named when opening */
	struct dag *g;
	struct daglayout *l;
	int n;                      /* nodes */
	char **state;               /* per node, NULL when the run has no such task (owned) */
	long *ti;                   /* per node: the task instance id, 0 unknown */
	struct run_row run;         /* the run shown (run.id 0: none) */
	bool loaded;
	int sel;                    /* selected node */
	int vx, vy;                 /* viewport origin on the canvas */
	struct filter filter;
	struct dl_cell *cells;      /* the edge cells on screen, row by row */
	size_t cap_cells;
	struct dl_cell *hcells;     /* the cells of one edge to highlight */
	size_t cap_hcells;
};

static struct dagv *D(struct view *v)
{
	return v->priv;
}

static void set_title(struct view *v)
{
	struct dagv *d = D(v);
	if (d->run.id)
		view_set_title(v, "%s graph #%ld%s%s", d->pipeline, d->run.id, d->filter.active ? " /" : "",
			 d->filter.active ? d->filter.text : "");
	else
		snprintf(v->title, sizeof v->title, "%s graph", d->pipeline);
}

/* ---- queries ---------------------------------------------------------------- */

static void on_tasks(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct dagv *d = D(v);
	if (!r) {
		refresh_done(v, &d->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "graph: %s", error);
		return;
	}
	for (int i = 0; i < d->n; i++) {
		free(d->state[i]);
		d->state[i] = NULL;
		d->ti[i] = 0;
	}
	int nt = pg_rows(r);
	struct ti_row *rows;
	size_t n;
	query_tasks_parse(r, &rows, &n);
	for (size_t i = 0; i < n && (int)i < nt; i++) {
		/* instances come in the pipeline's order: try the same index first */
		int node = (int)i < d->n && !strcmp(dag_name(d->g, (int)i), rows[i].task) ? (int)i : dag_find(d->g, rows[i].task);
		if (node < 0)
			continue;
		d->state[node] = rows[i].state;
		rows[i].state = NULL;
		d->ti[node] = rows[i].id;
	}
	ti_rows_free(rows, n);
	d->loaded = true;
	v->dirty = true;
	refresh_done(v, &d->rf);
}

static void on_run(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct dagv *d = D(v);
	if (!r) {
		refresh_done(v, &d->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "graph: %s", error);
		return;
	}
	struct run_row *rows;
	size_t n;
	query_runs_parse(r, &rows, &n);
	long before = d->run.id;
	if (n) {
		free(d->run.pipeline);
		free(d->run.logical_date);
		free(d->run.state);
		free(d->run.trigger);
		free(d->run.created_at);
		free(d->run.params);
		d->run = rows[0];
		free(rows);
	} else {
		run_rows_free(rows, n);
		d->loaded = true;
	}
	if (d->run.id && d->run.id != before)
		set_title(v);
	/* then the tasks of that run */
	if (d->run.id) {
		struct query q;
		query_tasks(&q, d->run.id);
		refresh_send(v, &d->rf, &q, on_tasks, 0);
	}
	v->dirty = true;
	refresh_done(v, &d->rf);
}

static void send(struct view *v)
{
	struct dagv *d = D(v);
	struct query q;
	if (d->fixed_run)
		query_run(&q, d->run_id);
	else
		query_runs(&q, tui_project(v->t)->name, d->pipeline, 1);
	refresh_send(v, &d->rf, &q, on_run, 0);
}

/* ---- open / done ---------------------------------------------------------------- */

static int dag_open(struct view *v, const char *arg)
{
	struct dagv *d = D(v);
	char name[256] = "", from[512];
	long run = 0;
	if (!arg) {
		/* `3` or `:dag`: the pipeline and run selected where it opens from */
		struct tui_sel sel;
		tui_selection(v->t, &sel);
		if (!sel.pipeline) {
			tui_error(v->t, "dag: select a pipeline (or :dag NAME [RUN])");
			return -1;
		}
		if (sel.run_id)
			snprintf(from, sizeof from, "%s %ld", sel.pipeline, sel.run_id);
		else
			snprintf(from, sizeof from, "%s", sel.pipeline);
		arg = from;
	}
	sscanf(arg, "%255s %ld", name, &run);
	const struct pipeline *pl = project_pipeline(tui_project(v->t), name);
	if (!pl) {
		tui_error(v->t, "dag: no pipeline '%s'", name);
		return -1;
	}
	d->pipeline = xstrdup(pl->name);
	d->run_id = run;
	d->fixed_run = run > 0;
	d->g = dag_new();
	for (size_t i = 0; i < pl->n_tasks; i++)
		dag_add_node(d->g, pl->tasks[i].name);
	for (size_t i = 0; i < pl->n_tasks; i++)
		for (size_t k = 0; k < pl->tasks[i].n_depends; k++)
			dag_add_edge(d->g, dag_find(d->g, pl->tasks[i].depends_on[k]), (int)i);
	struct err e = {0};
	d->l = daglayout_new(d->g, LABEL_WIDTH, &e);
	if (!d->l) {
		tui_error(v->t, "dag: %s", e.msg);
		dag_free(d->g);
		d->g = NULL;
		free(d->pipeline);
		d->pipeline = NULL;
		return -1;
	}
	d->n = (int)dag_size(d->g);
	d->state = xcalloc((size_t)(d->n ? d->n : 1), sizeof *d->state);
	d->ti = xcalloc((size_t)(d->n ? d->n : 1), sizeof *d->ti);
	d->rf.send = send;
	d->rf.min_ms = 100;
	set_title(v);
	refresh_request(v, &d->rf);
	char *cmd = act_batch_command(ACT_DAG, d->pipeline, run, NULL, false, false, NULL, NULL);
	tui_status(v->t, "[%s]", cmd);
	free(cmd);
	return 0;
}

static void dag_done(struct view *v)
{
	struct dagv *d = D(v);
	refresh_cancel(v, &d->rf);
	for (int i = 0; i < d->n; i++)
		free(d->state[i]);
	free(d->state);
	free(d->ti);
	daglayout_free(d->l);
	dag_free(d->g);
	free(d->pipeline);
	free(d->run.pipeline);
	free(d->run.logical_date);
	free(d->run.state);
	free(d->run.trigger);
	free(d->run.created_at);
	free(d->run.params);
	free(d->cells);
	free(d->hcells);
	filter_clear(&d->filter);
}

/* ---- drawing -------------------------------------------------------------------- */

/* The canvas area on screen: the body less a line above and one below. */
static struct rect canvas_rect(struct view *v)
{
	struct rect r = tui_body(v->t);
	r.y += 1;
	r.h -= 2;
	if (r.h < 1)
		r.h = 1;
	return r;
}

/* Moves the viewport so the selected box is inside it. */
static void keep_visible(struct view *v)
{
	struct dagv *d = D(v);
	if (!d->n)
		return;
	struct rect r = canvas_rect(v);
	const struct dl_box *b = daglayout_box(d->l, d->sel);
	int margin_x = r.w > 40 ? 4 : 1, margin_y = r.h > 12 ? 2 : 0;
	if (b->x - margin_x < d->vx)
		d->vx = b->x - margin_x;
	if (b->x + b->w + margin_x > d->vx + r.w)
		d->vx = b->x + b->w + margin_x - r.w;
	if (b->y - margin_y < d->vy)
		d->vy = b->y - margin_y;
	if (b->y + b->h + margin_y > d->vy + r.h)
		d->vy = b->y + b->h + margin_y - r.h;
	int maxx = daglayout_width(d->l) - r.w, maxy = daglayout_height(d->l) - r.h;
	if (d->vx > maxx)
		d->vx = maxx;
	if (d->vy > maxy)
		d->vy = maxy;
	if (d->vx < 0)
		d->vx = 0;
	if (d->vy < 0)
		d->vy = 0;
}

/* One cell of the canvas, clipped to the screen rectangle. */
static void put(struct rect r, int vx, int vy, int cx, int cy, const char *s, attr_t a)
{
	int sx = cx - vx, sy = cy - vy;
	if (sx < 0 || sy < 0 || sx >= r.w || sy >= r.h)
		return;
	draw_text(r.y + sy, r.x + sx, 1, s, a);
}

static void draw_node(struct view *v, struct rect r, int node)
{
	struct dagv *d = D(v);
	struct tui *t = v->t;
	const struct dl_box *b = daglayout_box(d->l, node);
	if (b->x + b->w <= d->vx || b->x >= d->vx + r.w || b->y + b->h <= d->vy || b->y >= d->vy + r.h)
		return;
	const struct box_chars *bc = box_chars(t);
	const char *st = d->state[node];
	bool sel = node == d->sel;
	bool dimmed = d->filter.active && !filter_match(&d->filter, dag_name(d->g, node));
	attr_t border = dimmed ? style_attr(t, S_DIM) : st ? style_attr(t, state_style(st)) : style_attr(t, S_BORDER);
	if (sel)
		border = style_attr(t, S_SELECTED) | A_BOLD;
	attr_t label = sel ? style_attr(t, S_SELECTED) | A_BOLD : dimmed ? style_attr(t, S_DIM) : style_attr(t, S_NORMAL);
	int x0 = b->x, y0 = b->y, x1 = b->x + b->w - 1, y1 = b->y + b->h - 1;
	for (int x = x0 + 1; x < x1; x++) {
		put(r, d->vx, d->vy, x, y0, bc->h, border);
		put(r, d->vx, d->vy, x, y1, bc->h, border);
	}
	put(r, d->vx, d->vy, x0, y0, bc->tl, border);
	put(r, d->vx, d->vy, x1, y0, bc->tr, border);
	put(r, d->vx, d->vy, x0, y1, bc->bl, border);
	put(r, d->vx, d->vy, x1, y1, bc->br, border);
	for (int y = y0 + 1; y < y1; y++) {
		put(r, d->vx, d->vy, x0, y, bc->v, border);
		put(r, d->vx, d->vy, x1, y, y == b->port_y && daglayout_has_downstream(d->l, node) ? bc->lt : bc->v, border);
	}
	/* "│✓label │": the state glyph where the left padding is */
	int ly = b->port_y;
	put(r, d->vx, d->vy, x0 + 1, ly, st ? state_glyph_str(t, st) : " ",
	    sel ? label : st ? style_attr(t, state_style(st)) : style_attr(t, S_DIM));
	const char *text = daglayout_label(d->l, node, draw_utf8(t));
	int cols = daglayout_label_cols(d->l, node);
	int sx = x0 + 2 - d->vx, sy = ly - d->vy;
	if (sy >= 0 && sy < r.h) {
		/* clip the label to the screen on both sides */
		int skip = sx < 0 ? -sx : 0;
		int w = cols - skip;
		if (sx + skip + w > r.w)
			w = r.w - sx - skip;
		if (w > 0) {
			draw_fill(r.y + sy, r.x + sx + skip, w, label);
			draw_text(r.y + sy, r.x + sx + skip, w, text + text_skip(text, skip), label);
		}
		put(r, d->vx, d->vy, x0 + 2 + cols, ly, " ", label);
	}
}

static void draw_cells(struct view *v, struct rect r, size_t n, attr_t a)
{
	struct dagv *d = D(v);
	for (size_t i = 0; i < n; i++) {
		const struct dl_cell *c = &d->cells[i];
		put(r, d->vx, d->vy, c->x, c->y, daglayout_glyph(c->mask, draw_utf8(v->t)), a);
	}
}

static size_t fetch_cells(struct view *v, struct rect r)
{
	struct dagv *d = D(v);
	for (;;) {
		size_t n = daglayout_cells(d->l, d->vx, d->vy, r.w, r.h, d->cells, d->cap_cells);
		if (n <= d->cap_cells)
			return n;
		d->cap_cells = n + 64;
		d->cells = xrealloc(d->cells, d->cap_cells * sizeof *d->cells);
	}
}

/* Redraws the cells of one edge brighter, each with the glyph of every edge
 * through it (cells holds them all, sorted by row then column). */
static void highlight_edge(struct view *v, struct rect r, size_t edge, size_t n_all, attr_t a)
{
	struct dagv *d = D(v);
	size_t n;
	for (;;) {
		n = daglayout_edge_cells(d->l, edge, d->vx, d->vy, r.w, r.h, d->hcells, d->cap_hcells);
		if (n <= d->cap_hcells)
			break;
		d->cap_hcells = n + 64;
		d->hcells = xrealloc(d->hcells, d->cap_hcells * sizeof *d->hcells);
	}
	for (size_t i = 0; i < n; i++) {
		const struct dl_cell *c = &d->hcells[i];
		size_t lo = 0, hi = n_all;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct dl_cell *m = &d->cells[mid];
			if (m->y < c->y || (m->y == c->y && m->x < c->x))
				lo = mid + 1;
			else
				hi = mid;
		}
		unsigned mask = lo < n_all && d->cells[lo].x == c->x && d->cells[lo].y == c->y ? d->cells[lo].mask : c->mask;
		put(r, d->vx, d->vy, c->x, c->y, daglayout_glyph(mask, draw_utf8(v->t)), a);
	}
}

static void dag_draw(struct view *v, struct rect body)
{
	struct dagv *d = D(v);
	struct tui *t = v->t;
	struct rect r = canvas_rect(v);
	attr_t dim = style_attr(t, S_DIM);
	/* the run above the canvas */
	if (d->run.id) {
		int x = body.x + 1;
		x += draw_textf(body.y, x, body.w - 2, style_attr(t, S_TITLE), "run %ld ", d->run.id);
		x += draw_text(body.y, x, 2, state_glyph_str(t, d->run.state), style_attr(t, state_style(d->run.state))) + 1;
		draw_textf(body.y, x, body.x + body.w - x - 1, style_attr(t, state_style(d->run.state)), "%s  %s  %s  %d/%d ok, %d failed, %d active%s",
			   d->run.state, d->run.logical_date, d->run.trigger, d->run.n_success, d->run.n_total, d->run.n_failed,
			   d->run.n_active, d->fixed_run ? "" : "  (latest run)");
	} else {
		draw_text(body.y, body.x + 1, body.w - 2,
			  d->loaded ? "no runs yet: the graph of the pipeline as written (t triggers a run)"
				    : tui_connected(t) ? "loading..." : "waiting for the state database...",
			  dim);
	}
	keep_visible(v);
	/* edges, then the selected node's edges brighter, then boxes on top */
	size_t n = fetch_cells(v, r);
	draw_cells(v, r, n, style_attr(t, S_EDGE));
	if (d->n) {
		size_t ne = daglayout_n_edges(d->l);
		for (size_t i = 0; i < ne; i++) {
			const struct dl_edge *e = daglayout_edge(d->l, i);
			if (e->from == d->sel || e->to == d->sel)
				highlight_edge(v, r, i, n, style_attr(t, S_BORDER) | A_BOLD);
		}
	}
	/* only the layers that cross the viewport, and in them only the boxes that do */
	int layers = daglayout_n_layers(d->l);
	for (int L = 0; L < layers; L++) {
		size_t cnt;
		const int *nodes = daglayout_layer_nodes(d->l, L, &cnt);
		if (!cnt)
			continue;
		const struct dl_box *b0 = daglayout_box(d->l, nodes[0]);
		if (b0->x >= d->vx + r.w)
			break;
		/* boxes of a layer are stacked top to bottom: binary search the first visible */
		size_t lo = 0, hi = cnt;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct dl_box *b = daglayout_box(d->l, nodes[mid]);
			if (b->y + b->h <= d->vy)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < cnt; i++) {
			const struct dl_box *b = daglayout_box(d->l, nodes[i]);
			if (b->y >= d->vy + r.h)
				break;
			draw_node(v, r, nodes[i]);
		}
	}
	/* the selected task below the canvas */
	if (d->n) {
		const char *st = d->state[d->sel];
		size_t nu = dag_n_upstream(d->g, d->sel), nd = dag_n_downstream(d->g, d->sel);
		draw_textf(body.y + body.h - 1, body.x + 1, body.w - 2, st ? style_attr(t, state_style(st)) : dim,
			   "%s %s  %s  %zu upstream, %zu downstream   (Enter: log; hjkl/arrows move)",
			   st ? state_glyph_str(t, st) : " ", dag_name(d->g, d->sel), st ? st : "not in this run", nu, nd);
	}
}

/* ---- keys ------------------------------------------------------------------------- */

static void go(struct view *v, char dir, int times)
{
	struct dagv *d = D(v);
	for (int i = 0; i < times; i++) {
		int nb = daglayout_neighbour(d->l, d->sel, dir);
		if (nb < 0)
			break;
		d->sel = nb;
	}
}

static int dag_key(struct view *v, int key, int a)
{
	struct dagv *d = D(v);
	if (!d->n)
		return H_IGNORED;
	int page = canvas_rect(v).h / 4;
	if (page < 1)
		page = 1;
	switch (a) {
	case ACT_UP: go(v, 'k', 1); break;
	case ACT_DOWN: go(v, 'j', 1); break;
	case ACT_LEFT: go(v, 'h', 1); break;
	case ACT_RIGHT: go(v, 'l', 1); break;
	case ACT_PGUP: go(v, 'k', page); break;
	case ACT_PGDN: go(v, 'j', page); break;
	case ACT_TOP: go(v, 'k', d->n); break;
	case ACT_BOTTOM: go(v, 'j', d->n); break;
	case ACT_OPEN: {
		if (!d->run.id || !d->state[d->sel]) {
			tui_error(v->t, "%s has no task instance in this run", dag_name(d->g, d->sel));
			return H_HANDLED;
		}
		view_open_task(v, d->run.id, dag_name(d->g, d->sel));
		return H_HANDLED;
	}
	case ACT_BACK:
		if (view_filter_back(&d->filter)) {
			set_title(v);
			return H_HANDLED | H_REDRAW;
		}
		return H_IGNORED;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int dag_input(struct view *v, int action, const char *text)
{
	struct dagv *d = D(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &d->filter, text))
		return H_HANDLED;
	/* select the first match after the selection, in layer order */
	if (d->filter.active) {
		int layers = daglayout_n_layers(d->l), found = -1, matches = 0;
		for (int L = 0; L < layers; L++) {
			size_t cnt;
			const int *nodes = daglayout_layer_nodes(d->l, L, &cnt);
			for (size_t i = 0; i < cnt; i++) {
				if (filter_match(&d->filter, dag_name(d->g, nodes[i]))) {
					matches++;
					if (found < 0)
						found = nodes[i];
				}
			}
		}
		if (found >= 0)
			d->sel = found;
		tui_status(v->t, "%d task%s match", matches, matches == 1 ? "" : "s");
	}
	set_title(v);
	return H_HANDLED | H_REDRAW;
}

static void dag_event(struct view *v, enum tui_event ev, long arg)
{
	struct dagv *d = D(v);
	switch (ev) {
	case EV_STATE_CHANGED:
		/* a new run may be the latest one */
		if (arg == 0 || arg == d->run.id || !d->fixed_run)
			refresh_request(v, &d->rf);
		break;
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &d->rf);
		break;
	default:
		break;
	}
}

static bool dag_selected(struct view *v, struct tui_sel *s)
{
	struct dagv *d = D(v);
	s->pipeline = d->pipeline;
	s->run_id = d->run.id;
	if (d->n && d->run.id && d->state[d->sel]) {
		s->task = dag_name(d->g, d->sel);
		s->state = d->state[d->sel];
		s->ti = d->ti[d->sel];
	}
	return true;
}

const struct view_ops dag_ops = {
	.name = "graph",
	.priv_size = sizeof(struct dagv),
	.open = dag_open,
	.draw = dag_draw,
	.handle_key = dag_key,
	.on_event = dag_event,
	.on_input = dag_input,
	.selected = dag_selected,
	.done = dag_done,
};
