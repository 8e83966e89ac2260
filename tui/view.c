/* The stack of open views: opening one on top (a long drill-down forgets
 * the oldest), closing, going back to the first; the registry of views the
 * action table declares; what a view may read of the console. */
#include "tui/view.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "tui/app.h"
#include "tui/db.h"
#include "tui/filter.h"
#include "tui/header.h"
#include "tui/status.h"

#define TUI_VIEW(name, ops, traits) [VI_##name] = &ops,
const struct view_ops *const tui_views[VIEW_COUNT] = {TUI_ACTIONS(TUI_VIEW_ROW)};
#undef TUI_VIEW

/* A view's kind is the bit of its place in the registry. */
static unsigned kind_of(const struct view_ops *ops)
{
	for (int i = 0; i < VIEW_COUNT; i++)
		if (tui_views[i] == ops)
			return 1u << i;
	assert(!"a view that no action of tui/actions.h opens");
	return 0;
}

struct view *tui_top(struct tui *t)
{
	return t->depth ? t->stack[t->depth - 1] : NULL;
}

void view_dirty(struct view *v)
{
	v->dirty = true;
}

void view_set_title(struct view *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->title, sizeof v->title, fmt, ap);
	va_end(ap);
	v->t->dirty_header = true;
}

struct rect tui_body(struct tui *t)
{
	(void)t;
	struct rect r = {TUI_HEADER_ROWS, 0, LINES - TUI_HEADER_ROWS - TUI_FOOTER_ROWS, COLS};
	if (r.h < 1)
		r.h = 1;
	return r;
}

bool tui_selection(struct tui *t, struct tui_sel *sel)
{
	memset(sel, 0, sizeof *sel);
	struct view *v = tui_top(t);
	return v && v->ops->selected && v->ops->selected(v, sel);
}

static void view_free(struct view *v)
{
	if (!v)
		return;
	db_forget(v->t->db, v);
	if (v->ops->done)
		v->ops->done(v);
	free(v->priv);
	free(v);
}

struct view *tui_push(struct tui *t, const struct view_ops *ops, const char *arg)
{
	if (t->depth == TUI_MAX_DEPTH) {
		/* a long drill-down: forget the oldest view above the first */
		view_free(t->stack[1]);
		memmove(&t->stack[1], &t->stack[2], (size_t)(t->depth - 2) * sizeof t->stack[0]);
		t->depth--;
	}
	struct view *v = xcalloc(1, sizeof *v);
	v->ops = ops;
	v->t = t;
	v->priv = xcalloc(1, ops->priv_size ? ops->priv_size : 1);
	v->kind = kind_of(ops);
	v->dirty = true;
	snprintf(v->title, sizeof v->title, "%s", ops->name);
	if (ops->open && ops->open(v, arg) < 0) {
		view_free(v);
		return NULL;
	}
	t->stack[t->depth++] = v;
	t->dirty_all = true;
	header_dirty(t);
	return v;
}

void tui_pop(struct tui *t)
{
	if (t->depth <= 1)
		return;
	view_free(t->stack[--t->depth]);
	t->dirty_all = true;
	header_dirty(t);
	struct view *v = tui_top(t);
	if (v->ops->on_event)
		v->ops->on_event(v, EV_SHOWN, 0);
	v->dirty = true;
}

struct view *tui_goto(struct tui *t, const struct view_ops *ops, const char *arg)
{
	while (t->depth > 1)
		tui_pop(t);
	if (t->depth == 1 && t->stack[0]->ops == ops && !arg)
		return t->stack[0];
	return tui_push(t, ops, arg);
}

void tui_open(struct tui *t, int vi, const char *arg)
{
	assert(vi >= 0 && vi < VIEW_COUNT);
	const struct view_ops *ops = tui_views[vi];
	if (vi == TUI_FIRST_VIEW) {
		tui_goto(t, ops, NULL);
		return;
	}
	if (arg && !*arg)
		arg = NULL;
	/* already there: a second copy of the same view would only deepen the stack */
	struct view *v = tui_top(t);
	if (!arg && v && v->ops == ops)
		return;
	tui_push(t, ops, arg);
}

void tui_resize_views(struct tui *t)
{
	for (int i = 0; i < t->depth; i++)
		if (t->stack[i]->ops->resize)
			t->stack[i]->ops->resize(t->stack[i]);
}

void tui_close_views(struct tui *t)
{
	while (t->depth > 0)
		view_free(t->stack[--t->depth]);
}

const struct project *tui_project(struct tui *t)
{
	return t->ctx.proj;
}

bool tui_readonly(struct tui *t)
{
	return t->readonly;
}

const struct hist_entry *tui_history(struct tui *t, size_t *n)
{
	*n = t->n_hist;
	return t->hist;
}

bool view_filter_input(struct view *v, struct filter *f, const char *text)
{
	struct err e = {0};
	if (filter_set(f, text, &e) < 0) {
		tui_error(v->t, "%s", e.msg);
		return false;
	}
	return true;
}

bool view_filter_back(struct filter *f)
{
	if (!f->active)
		return false;
	filter_clear(f);
	return true;
}

void view_open_task(struct view *v, long run_id, const char *task)
{
	char arg[300];
	snprintf(arg, sizeof arg, "%ld %s", run_id, task);
	tui_push(v->t, &task_ops, arg);
}
