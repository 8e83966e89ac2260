/* What a view is and what it may do: the ops table each tui/view_*.c ends
 * in (after tig's view_ops), the stack of open views, and the little a view
 * reads of the console around it. */
#ifndef SLUICE_TUI_VIEW_H
#define SLUICE_TUI_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/actions.h"

struct tui;
struct view;
struct project;
struct hist_entry;

/* What a key handler returns (htop's HandlerResult). The loop alone calls
 * doupdate(), once per wake-up, after drawing the dirty views. */
enum {
	H_IGNORED = 0,
	H_HANDLED = 1 << 0,
	H_REDRAW = 1 << 1,  /* mark the view dirty */
	H_CLOSE = 1 << 2,   /* pop this view (Esc) */
	H_QUIT = 1 << 3
};

/* Events a view may care about besides keys. */
enum tui_event {
	EV_STATE_CHANGED, /* a run changed (arg: run id, 0 = several or unknown) */
	EV_LOG_ADDED,     /* a task instance got log lines (arg: ti id) */
	EV_CONNECTED,     /* the state store became reachable */
	EV_DISCONNECTED,
	EV_SHOWN,         /* the view is on top again (the one above closed) */
	EV_TICK           /* the header clock moved on a minute */
};

/* The screen area a view draws in. */
struct rect {
	int y, x, h, w;
};

/* What a view has under its cursor, for the actions (retry, clear ...).
 * Pointers are borrowed from the view until it changes. */
struct tui_sel {
	const char *pipeline; /* NULL: none */
	long run_id;          /* 0: none */
	const char *task;     /* NULL: none */
	long ti;              /* 0: unknown */
	const char *state;    /* the task's state, NULL if unknown */
};

struct view_ops {
	const char *name;          /* shown in breadcrumbs and the help */
	size_t priv_size;          /* zeroed private state allocated per view */
	/* arg: what to show (a pipeline, "RUN TASK" ...); NULL: what the view
	 * it opens from has selected (tui_selection). -1 refuses to open (the
	 * view has said why on the status line). */
	int (*open)(struct view *v, const char *arg);
	void (*draw)(struct view *v, struct rect r);
	/* action: what the key means here (enum action, -1 for none) */
	int (*handle_key)(struct view *v, int key, int action);
	void (*on_event)(struct view *v, enum tui_event ev, long arg);
	/* A prompt the view asked for (`/`, `:try`) was answered. */
	int (*on_input)(struct view *v, int action, const char *text);
	bool (*selected)(struct view *v, struct tui_sel *sel);
	void (*resize)(struct view *v);
	void (*done)(struct view *v);
};

struct view {
	const struct view_ops *ops;
	struct tui *t;
	void *priv;
	unsigned kind;             /* VK_* bit: which actions apply here */
	bool dirty;
	char title[128];           /* for the breadcrumbs */
};

/* Every view's ops (tui/view_NAME.c), declared from the action table. */
#define TUI_VIEW(name, ops, traits) extern const struct view_ops ops;
TUI_ACTIONS(TUI_VIEW_ROW)
#undef TUI_VIEW
/* The same, by VI_* index. */
extern const struct view_ops *const tui_views[VIEW_COUNT];
/* The view the console opens with; its action goes back to it. */
#define TUI_FIRST_VIEW VI_PIPELINES

/* ---- the stack -------------------------------------------------------------- */

struct view *tui_top(struct tui *t);
/* Opens a view on top; NULL when it refused (the status line says why). */
struct view *tui_push(struct tui *t, const struct view_ops *ops, const char *arg);
void tui_pop(struct tui *t);
/* Replaces the views above the first one with ops (`:pipelines`, `1`). */
struct view *tui_goto(struct tui *t, const struct view_ops *ops, const char *arg);
/* Opens view vi (VI_*) as its action does: the first view by going back to
 * it, another on top unless it is there already with no arg. */
void tui_open(struct tui *t, int vi, const char *arg);
/* Tells every open view the screen changed size. */
void tui_resize_views(struct tui *t);
/* Closes every view (at the end). */
void tui_close_views(struct tui *t);

void view_dirty(struct view *v);
/* Sets the breadcrumb of v (printf-style). */
void view_set_title(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct rect tui_body(struct tui *t);
/* What the top view has selected; while a view opens, the view it opens
 * from. False when it has nothing (sel is zeroed). */
bool tui_selection(struct tui *t, struct tui_sel *sel);

/* ---- what list views share --------------------------------------------------- */

struct filter;
/* `/` in a list view: sets f from text. A bad pattern goes to the status
 * line and leaves f as it was (false): the view has nothing to rebuild. */
bool view_filter_input(struct view *v, struct filter *f, const char *text);
/* Esc in a list view clears an active filter first: true when it did. */
bool view_filter_back(struct filter *f);
/* Opens the task view of one task instance on top of v. */
void view_open_task(struct view *v, long run_id, const char *task);

/* ---- what a view reads of the console --------------------------------------- */

const struct project *tui_project(struct tui *t);
/* --readonly: actions that change state are hidden and refused. */
bool tui_readonly(struct tui *t);
/* The actions taken in this console, oldest first (tui/act.h). */
const struct hist_entry *tui_history(struct tui *t, size_t *n);

#endif
