/* Rows a try kept, paged beside its log; see rowpane.h. */
#include "tui/rowpane.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/query.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/refresh.h"
#include "tui/status.h"

#define PAGE 200   /* rows fetched and kept at a time */

static void sum_clear(struct rowsum *s)
{
	free(s->status);
	free(s->line);
	memset(s, 0, sizeof *s);
}

static void page_clear(struct rowpane *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->lines[i]);
	free(p->lines);
	p->lines = NULL;
	p->n = 0;
	p->first = 0;
}

static void on_page(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct rowpane *p = (struct rowpane *)(intptr_t)arg;
	if (++p->page_recv != p->page_sent)
		return; /* a later page was asked for */
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "%s: %s", p->src->what, error);
		return;
	}
	page_clear(p);
	p->n = p->src->parse_page(r, &p->lines);
	p->first = p->n ? p->asked_from : 0;
	v->dirty = true;
}

/* The page that holds row number `row`, with some rows before it. */
static void ask_page(struct view *v, struct rowpane *p, int row)
{
	if (!p->have_sum)
		return;
	int from = row - PAGE / 4;
	if (from < 1)
		from = 1;
	struct query q;
	p->src->query_page(&q, p->sum.id, from, PAGE);
	if (tui_query(v, &q, on_page, (long)(intptr_t)p) == 0) {
		p->page_sent++;
		p->asked_from = from;
	}
}

static void on_summary(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct rowpane *p = (struct rowpane *)(intptr_t)arg;
	if (++p->sum_recv != p->sum_sent)
		return;
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "%s: %s", p->src->what, error);
		return;
	}
	long old = p->have_sum ? p->sum.id : 0;
	sum_clear(&p->sum);
	p->have_sum = p->src->parse_summary(r, &p->sum);
	if (!p->have_sum || p->sum.id != old) {
		page_clear(p);
		p->top = 1;
		if (p->have_sum && p->sum.kept > 0)
			ask_page(v, p, 1);
	}
	v->dirty = true;
}

void rowpane_load(struct view *v, struct rowpane *p, const struct rowsrc *src, long run_id, const char *task,
		  int try_number)
{
	if (p->src != src || p->run_id != run_id || p->try_number != try_number || !p->task || strcmp(p->task, task)) {
		free(p->task);
		p->task = xstrdup(task);
		p->src = src;
		p->run_id = run_id;
		p->try_number = try_number;
		sum_clear(&p->sum);
		p->have_sum = false;
		p->asked = false;
		page_clear(p);
		p->top = 1;
	}
	struct query q;
	src->query_summary(&q, run_id, task, try_number);
	if (tui_query(v, &q, on_summary, (long)(intptr_t)p) == 0) {
		p->sum_sent++;
		p->asked = true;
	}
}

bool rowpane_any(const struct rowpane *p)
{
	return p->have_sum && p->sum.kept > 0;
}

void rowpane_draw(struct view *v, struct rowpane *p, struct rect r)
{
	struct tui *t = v->t;
	attr_t dim = style_attr(t, S_DIM), norm = style_attr(t, S_NORMAL);
	if (!p->src || !p->have_sum) {
		draw_text(r.y, r.x + 1, r.w - 2, p->asked && p->src ? p->src->none : "loading...", dim);
		return;
	}
	attr_t st = style_attr(t, p->src->style(p->sum.status));
	int x = r.x + 1;
	x += draw_text(r.y, x, r.w - 2, p->src->glyph(t, p->sum.status), st) + 1;
	draw_text(r.y, x, r.x + r.w - 1 - x, p->sum.line ? p->sum.line : "", st);
	int rows = r.h - 1;
	p->shown = rows > 0 ? rows : 1;
	int kept = p->sum.kept;
	if (kept == 0) {
		if (rows > 0)
			draw_textf(r.y + 1, r.x + 1, r.w - 2, dim, "no %s kept", p->src->what);
		return;
	}
	if (p->top > kept)
		p->top = kept;
	if (p->top < 1)
		p->top = 1;
	int digits = 1;
	for (int n = kept; n >= 10; n /= 10)
		digits++;
	bool need = false;
	for (int i = 0; i < rows; i++) {
		int no = p->top + i;
		if (no > kept)
			break;
		int y = r.y + 1 + i;
		if (!p->n || no < p->first || no >= p->first + (int)p->n) {
			need = true;
			draw_text(y, r.x + 1, r.w - 2, box_chars(t)->ellipsis, dim);
			continue;
		}
		const char *line = p->lines[no - p->first];
		int lx = r.x + 1 + draw_textf(y, r.x + 1, digits + 2, dim, "%*d ", digits, no);
		draw_text(y, lx, r.x + r.w - lx - 1, line + text_skip(line, p->hscroll), norm);
	}
	if (need)
		ask_page(v, p, p->top);
}

int rowpane_key(struct view *v, struct rowpane *p, int action)
{
	(void)v;
	int kept = p->have_sum ? p->sum.kept : 0;
	int page = p->shown > 1 ? p->shown - 1 : 1;
	int last = kept - p->shown + 1 > 1 ? kept - p->shown + 1 : 1;
	switch (action) {
	case ACT_UP: p->top--; break;
	case ACT_DOWN: p->top++; break;
	case ACT_PGUP: p->top -= page; break;
	case ACT_PGDN: p->top += page; break;
	case ACT_TOP: p->top = 1; break;
	case ACT_BOTTOM: p->top = last; break;
	case ACT_LEFT: p->hscroll = p->hscroll > 8 ? p->hscroll - 8 : 0; break;
	case ACT_RIGHT: p->hscroll += 8; break;
	default: return H_IGNORED;
	}
	if (p->top > last)
		p->top = last;
	if (p->top < 1)
		p->top = 1;
	return H_HANDLED | H_REDRAW;
}

void rowpane_free(struct rowpane *p)
{
	free(p->task);
	sum_clear(&p->sum);
	page_clear(p);
	memset(p, 0, sizeof *p);
}
