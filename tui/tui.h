/* The console: one poll() loop, a stack of views, an action table that drives
 * keys, `:` commands, help and the `--batch` names. Views never run SQL: they
 * ask core (core/query.h, core/actions.h) and are told when state changed
 * (LISTEN/NOTIFY on channel "sluice"). */
#ifndef SLUICE_TUI_H
#define SLUICE_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a key handler returns (htop's HandlerResult). The loop alone calls
 * doupdate(), once per wake-up, after drawing the dirty views. */
enum {
	H_IGNORED = 0,
	H_HANDLED = 1 << 0,
	H_REDRAW = 1 << 1,  /* mark the view dirty */
	H_CLOSE = 1 << 2,   /* pop this view (Esc) */
	H_QUIT = 1 << 3
};

struct tui;
struct view;

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
	const char *name;          /* shown in breadcrumbs */
	unsigned kind;             /* VK_* (tui/actions.h): which keys apply */
	size_t priv_size;          /* zeroed private state allocated per view */
	/* arg: what to show (a pipeline, "RUN TASK" ...); -1 refuses to open
	 * (the view has said why on the status line). */
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
	bool dirty;
	char title[128];           /* for the breadcrumbs */
};

/* Options of the console (cli/main.c). */
struct tui_opts {
	const char *project_dir;
	const char *theme;         /* NULL: "default" */
	bool readonly;
};

/* Runs the console until the user quits; returns the process exit code. */
int tui_main(const struct tui_opts *o);

#endif
