/* The backfills view: the project's backfills, newest first, each with its
 * range, state, how many of its dates are done, running, failed, left and
 * skipped, and a strip of its dates (oldest on the left; squeezed, a cell
 * shows the worst of the dates it stands for). p pauses or resumes the one
 * under the cursor, X cancels it, Enter opens its pipeline's runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/backfill.h"
#include "core/project.h"
#include "tui/actions.h"
#include "tui/backfillform.h"
#include "tui/draw.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/view.h"

struct backfillsv {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	struct filter filter;
	struct bf_row *rows;
	size_t n;
	size_t *vis;                /* rows passing the filter (by pipeline), as indexes */
	size_t n_vis;
	int sel, top;
	bool loaded;
};

static struct backfillsv *B(struct view *v)
{
	return v->priv;
}

static void rebuild(struct view *v)
{
	struct backfillsv *b = B(v);
	free(b->vis);
	b->vis = xcalloc(b->n + 1, sizeof *b->vis);
	b->n_vis = 0;
	for (size_t i = 0; i < b->n; i++)
		if (filter_match(&b->filter, b->rows[i].pipeline))
			b->vis[b->n_vis++] = i;
	if (b->sel >= (int)b->n_vis)
		b->sel = b->n_vis ? (int)b->n_vis - 1 : 0;
	view_set_title(v, "backfills%s%s", b->filter.active ? " /" : "", b->filter.active ? b->filter.text : "");
}

static void on_rows(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct backfillsv *b = B(v);
	(void)arg;
	refresh_done(v, &b->rf);
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "backfills: %s", error);
		return;
	}
	/* the cursor stays on the same backfill across a refresh */
	long was = b->n_vis ? b->rows[b->vis[b->sel]].id : 0;
	bf_rows_free(b->rows, b->n);
	query_backfills_parse(r, &b->rows, &b->n);
	b->loaded = true;
	rebuild(v);
	for (size_t i = 0; was && i < b->n_vis; i++)
		if (b->rows[b->vis[i]].id == was)
			b->sel = (int)i;
	v->dirty = true;
}

static void send(struct view *v)
{
	struct query q;
	query_backfills(&q, tui_project(v->t)->name, 0, 200);
	refresh_send(v, &B(v)->rf, &q, on_rows, 0);
}

static int bfv_open(struct view *v, const char *arg)
{
	struct backfillsv *b = B(v);
	(void)arg;
	b->rf.send = send;
	b->rf.min_ms = 250;
	rebuild(v);
	refresh_request(v, &b->rf);
	return 0;
}

static void bfv_done(struct view *v)
{
	struct backfillsv *b = B(v);
	refresh_cancel(v, &b->rf);
	filter_clear(&b->filter);
	bf_rows_free(b->rows, b->n);
	free(b->vis);
}

/* A strip letter as the task state whose glyph and colour it borrows. */
static const char *letter_state(char k)
{
	switch (k) {
	case 's': return "success";
	case 'r': return "running";
	case 'f': return "failed";
	case 'k': return "skipped";
	case 'c': return "removed";
	default: return "scheduled";
	}
}

/* Which of two letters a squeezed cell shows: the one that needs a look. */
static int rank(char k)
{
	switch (k) {
	case 'f': return 5;
	case 'r': return 4;
	case '.': return 3;
	case 's': return 2;
	case 'k': return 1;
	default: return 0;
	}
}

static void draw_strip(struct tui *t, int y, int x, int w, const char *strip, bool sel, attr_t base)
{
	size_t n = strlen(strip);
	if (w <= 0 || !n)
		return;
	size_t cells = n < (size_t)w ? n : (size_t)w;
	for (size_t c = 0; c < cells; c++) {
		size_t a = c * n / cells, z = (c + 1) * n / cells;
		char k = strip[a];
		for (size_t i = a + 1; i < z; i++)
			if (rank(strip[i]) > rank(k))
				k = strip[i];
		const char *st = letter_state(k);
		draw_text(y, x + (int)c, 1, state_glyph_str(t, st), sel ? base : style_attr(t, state_style(st)));
	}
}

static void bfv_draw(struct view *v, struct rect r)
{
	struct backfillsv *b = B(v);
	struct tui *t = v->t;
	attr_t title = style_attr(t, S_TITLE), dim = style_attr(t, S_DIM);
	int namew = 8;
	for (size_t i = 0; i < b->n_vis; i++) {
		int w = text_width(b->rows[b->vis[i]].pipeline);
		namew = w > namew ? w : namew;
	}
	if (namew > 28)
		namew = 28;
	int idw = 5, rangew = 22, statew = 9, numw = 5;
	int x = r.x + 2, y = r.y;
	draw_text(y, x, idw, "ID", title);
	x += idw + 1;
	draw_text(y, x, namew, "PIPELINE", title);
	x += namew + 1;
	draw_text(y, x, rangew, "RANGE", title);
	x += rangew + 1;
	draw_text(y, x, statew, "STATE", title);
	x += statew + 1;
	const char *heads[] = {"DONE", "RUN", "FAIL", "LEFT", "SKIP"};
	for (int i = 0; i < 5; i++) {
		draw_textf(y, x, numw, title, "%*s", numw, heads[i]);
		x += numw + 1;
	}
	int stripx = x + 1;
	draw_text(y, stripx, r.x + r.w - stripx, "DATES", title);

	int rows = r.h - 2;
	if (rows < 1)
		rows = 1;
	if (b->sel < b->top)
		b->top = b->sel;
	if (b->sel >= b->top + rows)
		b->top = b->sel - rows + 1;
	for (int i = 0; i < rows && b->top + i < (int)b->n_vis; i++) {
		const struct bf_row *k = &b->rows[b->vis[b->top + i]];
		bool sel = b->top + i == b->sel;
		y = r.y + 1 + i;
		attr_t base = sel ? style_attr(t, S_SELECTED) : style_attr(t, S_NORMAL);
		if (sel)
			draw_fill(y, r.x, r.w, base);
		draw_text(y, r.x, 2, sel ? box_chars(t)->arrow_right : " ", base);
		x = r.x + 2;
		draw_textf(y, x, idw, base, "%ld", k->id);
		x += idw + 1;
		draw_text(y, x, namew, k->pipeline, base | (sel ? A_BOLD : 0));
		x += namew + 1;
		draw_textf(y, x, rangew, base, "%s..%s", k->from, k->to);
		x += rangew + 1;
		const char *st = !strcmp(k->state, "paused") ? "up_for_retry" : !strcmp(k->state, "cancelled") ? "removed"
														: k->state;
		draw_text(y, x, statew, k->state, sel ? base : style_attr(t, state_style(st)));
		x += statew + 1;
		int nums[5] = {k->n_done, k->n_running, k->n_failed, k->n_left, k->n_skipped};
		for (int j = 0; j < 5; j++) {
			attr_t a = sel ? base : j == 2 && nums[j] ? style_attr(t, S_ERROR) : nums[j] ? base : dim;
			draw_textf(y, x, numw, a, "%*d", numw, nums[j]);
			x += numw + 1;
		}
		draw_strip(t, y, stripx, r.x + r.w - stripx - 1, k->strip, sel, base);
	}
	if (b->n_vis == 0)
		draw_text(r.y + 2, r.x + 2, r.w - 4,
			  !b->loaded ? "loading..."
			  : b->n	 ? "no backfill matches the filter (Esc clears it)"
				 : "no backfills yet: B on a pipeline, or sluice backfill PIPELINE --from D --to D",
			  dim);
	if (b->n_vis) {
		const struct bf_row *k = &b->rows[b->vis[b->sel]];
		char info[640];
		snprintf(info, sizeof info, "backfill %ld of %s: reprocess %s, max parallel %d, %s first, params %s, by %s at %s",
			 k->id, k->pipeline, k->reprocess, k->max_parallel, k->backwards ? "newest" : "oldest", k->params,
			 k->created_by, k->created_at);
		draw_text(r.y + r.h - 1, r.x + 1, r.w - 2, info, dim);
	}
}

static int bfv_handle_key(struct view *v, int key, int a)
{
	struct backfillsv *b = B(v);
	(void)key;
	int rows = tui_body(v->t).h - 2;
	int last = b->n_vis ? (int)b->n_vis - 1 : 0;
	const struct bf_row *k = b->n_vis ? &b->rows[b->vis[b->sel]] : NULL;
	switch (a) {
	case ACT_UP: b->sel = b->sel > 0 ? b->sel - 1 : 0; break;
	case ACT_DOWN: b->sel = b->sel < last ? b->sel + 1 : last; break;
	case ACT_PGUP: b->sel = b->sel > rows ? b->sel - rows : 0; break;
	case ACT_PGDN: b->sel = b->sel + rows < last ? b->sel + rows : last; break;
	case ACT_TOP: b->sel = 0; break;
	case ACT_BOTTOM: b->sel = last; break;
	case ACT_OPEN:
		if (k)
			tui_push(v->t, &grid_ops, k->pipeline);
		return H_HANDLED;
	case ACT_BF_PAUSE:
	case ACT_BF_CANCEL: {
		if (!k) {
			tui_error(v->t, "no backfill selected");
			return H_HANDLED;
		}
		char range[40];
		snprintf(range, sizeof range, "%s..%s", k->from, k->to);
		backfill_change(v->t, k->id, k->state, a == ACT_BF_CANCEL, k->pipeline, range);
		return H_HANDLED;
	}
	case ACT_BACK:
		if (!view_filter_back(&b->filter))
			return H_IGNORED;
		rebuild(v);
		return H_HANDLED | H_REDRAW;
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int bfv_on_input(struct view *v, int action, const char *text)
{
	struct backfillsv *b = B(v);
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!view_filter_input(v, &b->filter, text))
		return H_HANDLED;
	b->sel = 0;
	rebuild(v);
	return H_HANDLED | H_REDRAW;
}

static void bfv_on_event(struct view *v, enum tui_event ev, long arg)
{
	(void)arg;
	switch (ev) {
	case EV_STATE_CHANGED:
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &B(v)->rf);
		break;
	default:
		break;
	}
}

static bool bfv_selected(struct view *v, struct tui_sel *s)
{
	struct backfillsv *b = B(v);
	if (!b->n_vis)
		return false;
	s->pipeline = b->rows[b->vis[b->sel]].pipeline;
	return true;
}

const struct view_ops backfills_ops = {
	.name = "backfills",
	.priv_size = sizeof(struct backfillsv),
	.open = bfv_open,
	.draw = bfv_draw,
	.handle_key = bfv_handle_key,
	.on_event = bfv_on_event,
	.on_input = bfv_on_input,
	.selected = bfv_selected,
	.done = bfv_done,
};
