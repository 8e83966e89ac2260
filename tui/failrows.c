/* A check result and its failing rows, paged; see failrows.h. */
#include "tui/failrows.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/refresh.h"
#include "tui/status.h"

#define PAGE 200   /* failing rows fetched and kept at a time */

const char *check_glyph(struct tui *t, const char *status)
{
	bool u = draw_utf8(t);
	switch (status ? status[0] : 0) {
	case 'p': return u ? "\xe2\x9c\x93" : "+";
	case 'w': return "!";
	case 'f': return u ? "\xe2\x9c\x97" : "x";
	case 'e': return u ? "\xe2\x80\xbc" : "E";
	default: return " ";
	}
}

int check_style(const char *status)
{
	switch (status ? status[0] : 0) {
	case 'p': return state_style("success");
	case 'w': return state_style("up_for_retry");
	case 'f': return state_style("failed");
	case 'e': return state_style("upstream_failed");
	default: return S_NORMAL;
	}
}

static void page_clear(struct failrows *f)
{
	failure_rows_free(f->rows, f->n);
	f->rows = NULL;
	f->n = 0;
	f->first = 0;
}

static void on_page(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct failrows *f = (struct failrows *)(intptr_t)arg;
	if (++f->page_recv != f->page_sent)
		return; /* a later page was asked for */
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "failing rows: %s", error);
		return;
	}
	page_clear(f);
	query_failure_rows_parse(r, &f->rows, &f->n);
	f->first = f->n ? f->rows[0].row_no : 0;
	v->dirty = true;
}

/* The page that holds row number `row`, with some rows before it. */
static void ask_page(struct view *v, struct failrows *f, int row)
{
	if (!f->have_res)
		return;
	int from = row - PAGE / 4;
	if (from < 1)
		from = 1;
	struct query q;
	query_check_failures(&q, f->res.id, from, PAGE);
	if (tui_query(v, &q, on_page, (long)(intptr_t)f) == 0)
		f->page_sent++;
}

static void on_result(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct failrows *f = (struct failrows *)(intptr_t)arg;
	if (++f->res_recv != f->res_sent)
		return;
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "check result: %s", error);
		return;
	}
	struct check_row *rows;
	size_t n;
	query_check_rows_parse(r, &rows, &n);
	long old = f->have_res ? f->res.id : 0;
	check_row_clear(&f->res);
	f->have_res = n > 0;
	if (n) {
		/* the first row's strings move to f->res */
		f->res = rows[0];
		memset(&rows[0], 0, sizeof rows[0]);
	}
	check_rows_free(rows, n);
	if (!f->have_res || f->res.id != old) {
		page_clear(f);
		f->top = 1;
		if (f->have_res && f->res.n_failures > 0)
			ask_page(v, f, 1);
	}
	v->dirty = true;
}

void failrows_load(struct view *v, struct failrows *f, long run_id, const char *task, int try_number)
{
	if (f->run_id != run_id || f->try_number != try_number || !f->task || strcmp(f->task, task)) {
		free(f->task);
		f->task = xstrdup(task);
		f->run_id = run_id;
		f->try_number = try_number;
		check_row_clear(&f->res);
		f->have_res = false;
		page_clear(f);
		f->top = 1;
	}
	struct query q;
	query_check_of_try(&q, run_id, task, try_number);
	if (tui_query(v, &q, on_result, (long)(intptr_t)f) == 0) {
		f->res_sent++;
		f->asked = true;
	}
}

bool failrows_any(const struct failrows *f)
{
	return f->have_res && f->res.n_failures > 0;
}

static void draw_summary(struct view *v, struct failrows *f, int y, int x, int w)
{
	struct tui *t = v->t;
	const struct check_row *c = &f->res;
	attr_t st = style_attr(t, (enum style)check_style(c->status));
	int cx = x;
	cx += draw_text(y, cx, w, check_glyph(t, c->status), st) + 1;
	char total[48] = "";
	if (c->total >= 0)
		snprintf(total, sizeof total, " of %lld", c->total);
	if (c->error)
		draw_textf(y, cx, x + w - cx, st, "%s %s: %s", c->check, c->status, c->error);
	else
		draw_textf(y, cx, x + w - cx, st, "%s %s: %lld failing row%s%s (%s), %d kept", c->check, c->status,
			   c->failing, c->failing == 1 ? "" : "s", total, c->threshold ? c->threshold : "", c->n_failures);
}

void failrows_draw(struct view *v, struct failrows *f, struct rect r)
{
	struct tui *t = v->t;
	attr_t dim = style_attr(t, S_DIM), norm = style_attr(t, S_NORMAL);
	if (!f->have_res) {
		draw_text(r.y, r.x + 1, r.w - 2, f->asked ? "no check result for this try" : "loading...", dim);
		return;
	}
	draw_summary(v, f, r.y, r.x + 1, r.w - 2);
	int rows = r.h - 1;
	f->shown = rows > 0 ? rows : 1;
	int kept = f->res.n_failures;
	if (kept == 0) {
		if (rows > 0)
			draw_text(r.y + 1, r.x + 1, r.w - 2, "no failing rows kept", dim);
		return;
	}
	if (f->top > kept)
		f->top = kept;
	if (f->top < 1)
		f->top = 1;
	int digits = 1;
	for (int n = kept; n >= 10; n /= 10)
		digits++;
	bool need = false;
	for (int i = 0; i < rows; i++) {
		int no = f->top + i;
		if (no > kept)
			break;
		int y = r.y + 1 + i;
		if (!f->n || no < f->first || no >= f->first + (int)f->n) {
			need = true;
			draw_text(y, r.x + 1, r.w - 2, box_chars(t)->ellipsis, dim);
			continue;
		}
		const struct failure_row *fr = &f->rows[no - f->first];
		char line[8192];
		snprintf(line, sizeof line, "key %s%s%s  %s", fr->key ? fr->key : "-", fr->column ? "  column " : "",
			 fr->column ? fr->column : "", fr->row ? fr->row : "");
		int x = r.x + 1 + draw_textf(y, r.x + 1, digits + 2, dim, "%*d ", digits, no);
		draw_text(y, x, r.x + r.w - x - 1, line + text_skip(line, f->hscroll), norm);
	}
	if (need)
		ask_page(v, f, f->top);
}

int failrows_key(struct view *v, struct failrows *f, int action)
{
	(void)v;
	int kept = f->have_res ? f->res.n_failures : 0;
	int page = f->shown > 1 ? f->shown - 1 : 1;
	int last = kept - f->shown + 1 > 1 ? kept - f->shown + 1 : 1;
	switch (action) {
	case ACT_UP: f->top--; break;
	case ACT_DOWN: f->top++; break;
	case ACT_PGUP: f->top -= page; break;
	case ACT_PGDN: f->top += page; break;
	case ACT_TOP: f->top = 1; break;
	case ACT_BOTTOM: f->top = last; break;
	case ACT_LEFT: f->hscroll = f->hscroll > 8 ? f->hscroll - 8 : 0; break;
	case ACT_RIGHT: f->hscroll += 8; break;
	default: return H_IGNORED;
	}
	if (f->top > last)
		f->top = last;
	if (f->top < 1)
		f->top = 1;
	return H_HANDLED | H_REDRAW;
}

void failrows_free(struct failrows *f)
{
	free(f->task);
	check_row_clear(&f->res);
	page_clear(f);
	memset(f, 0, sizeof *f);
}
