/* What the views use from the console: the project, the state-store queue,
 * the theme, the status line, the view stack. */
#ifndef SLUICE_TUI_APP_H
#define SLUICE_TUI_APP_H

#include <curses.h>
#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "base/loop.h"
#include "core/ctx.h"
#include "core/query.h"
#include "tui/actions.h"
#include "tui/db.h"
#include "tui/theme.h"
#include "tui/tui.h"

#define TUI_MAX_DEPTH 32

struct modal;

/* One action taken in this console, as its `sluice --batch` command. */
struct hist_entry {
	time_t at;
	char *what;  /* "retry reconcile (run 12): 2 tasks" */
	char *cmd;   /* "sluice --batch retry 12 reconcile" */
	bool ok;
};

struct tui {
	struct loop *loop;
	struct db *db;
	struct sctx ctx;        /* project and service addresses; no connections */
	struct theme theme;
	attr_t attr[S_COUNT];   /* curses attributes of each style */
	bool readonly;
	bool utf8;              /* the locale is UTF-8: glyphs and box drawing */
	bool color;             /* colours in use (not NO_COLOR, terminal has them) */

	struct view *stack[TUI_MAX_DEPTH];
	int depth;

	/* the status line: one message, and the batch form of the last action */
	char status[512];
	bool status_err;
	bool status_progress;   /* the message is start-up progress, cleared once connected */

	/* a prompt on the status line (`:` commands, `/` filter or search) */
	int prompt;             /* the action that asked, -1 when none */
	char input[256];
	size_t cur;
	char completions[256];  /* shown after a Tab with several candidates */

	struct modal *modal;    /* a dialog over the body, or NULL */
	int cur_y, cur_x;       /* where the terminal cursor goes after drawing (-1: hidden) */

	bool dirty_header, dirty_status, dirty_hints, dirty_all;

	/* the header's live parts */
	char *state_addr;       /* the state database, password masked */
	enum db_state dbst;
	char db_msg[256];       /* what the console waits for, or why it is down */
	int runner_pid;
	int workers;            /* -1 unknown */
	bool header_query_out;
	int64_t header_last;
	long clock_timer, reconnect_timer, header_timer;
	int reconnect_ms;

	/* notifications seen this wake-up, delivered before drawing */
	long *changed_runs;
	size_t n_changed, cap_changed;
	bool changed_many;
	long *changed_logs;
	size_t n_logs, cap_logs;

	struct hist_entry *hist;
	size_t n_hist;

	struct job *jobs;       /* child processes running actions */
	int sigpipe[2];
	bool quit;
};

/* ---- views ---------------------------------------------------------------- */

extern const struct view_ops pipelines_ops, grid_ops, dag_ops, task_ops, help_ops, history_ops;

struct view *tui_top(struct tui *t);
/* Opens a view on top; NULL when it refused (the status line says why). */
struct view *tui_push(struct tui *t, const struct view_ops *ops, const char *arg);
void tui_pop(struct tui *t);
/* Replaces the views above the first one with ops (`:pipelines`, `1`). */
struct view *tui_goto(struct tui *t, const struct view_ops *ops, const char *arg);
void view_dirty(struct view *v);
struct rect tui_body(struct tui *t);

/* Sends a query for v (results after v closed are dropped). */
int tui_query(struct view *v, const struct query *q, db_result_fn fn, long arg);
bool tui_connected(struct tui *t);

/* Asks for a line on the status line; the view's on_input gets it. */
void tui_prompt(struct tui *t, int action, const char *initial);

void tui_status(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_error(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- keeping a view fresh without flooding the database ------------------- */

/* A view's refresh: at most one round in flight; asked again meanwhile, it
 * runs once more when the round ends, no sooner than min_ms after the last. */
struct refresh {
	int out;        /* queries of the round still out */
	bool again;
	int64_t last;
	long timer;
	int min_ms;
	void (*send)(struct view *v); /* sends the round's queries (via refresh_send) */
};
void refresh_request(struct view *v, struct refresh *r);
/* Sends one query of the round. */
void refresh_send(struct view *v, struct refresh *r, const struct query *q, db_result_fn fn, long arg);
/* Call from each result callback of the round. */
void refresh_done(struct view *v, struct refresh *r);
void refresh_cancel(struct view *v, struct refresh *r);

/* ---- drawing (tui/draw.c) --------------------------------------------------- */

void draw_setup_colors(struct tui *t);
attr_t style_attr(struct tui *t, enum style s);
/* The style of a state name ("failed" -> state.failed); S_NORMAL if unknown. */
enum style state_style(const char *state);
/* The state's glyph: UTF-8 in a UTF-8 locale, else its ASCII letter. */
const char *state_glyph_str(struct tui *t, const char *state);
/* Writes s at (y, x) in at most w columns (display width), returns the
 * columns used. Control characters are shown as '?'. */
int draw_text(int y, int x, int w, const char *s, attr_t a);
int draw_textf(int y, int x, int w, attr_t a, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void draw_fill(int y, int x, int w, attr_t a);
/* Display width of a UTF-8 string. */
int text_width(const char *s);
/* Byte offset where column col starts in s (for horizontal scrolling). */
size_t text_skip(const char *s, int col);
/* Line drawing: UTF-8 box characters or ASCII. */
struct box_chars {
	const char *h, *v, *tl, *tr, *bl, *br, *lt, *rt, *tt, *bt, *cross, *arrow_down, *arrow_right;
	const char *ellipsis, *sep;
};
const struct box_chars *box_chars(struct tui *t);
void draw_box(struct tui *t, int y, int x, int h, int w, attr_t a);
/* "2m 13s", "450ms" */
void fmt_duration(double s, char *buf, size_t size);
/* "2026-03-01T10:00:00Z" -> "03-01 10:00:00" (fits narrow columns) */
void fmt_ts_short(const char *iso, char *buf, size_t size);

/* ---- actions and history (tui/act.c) ---------------------------------------- */

/* Runs a state-changing action on the selection of the top view. */
void act_run(struct tui *t, enum action a, const char *arg);
void hist_add(struct tui *t, bool ok, const char *what, const char *cmd);
/* The `sluice --batch` form of an action (malloc'ed). */
char *act_batch_command(enum action a, const char *pipeline, long run_id, const char *task, bool downstream,
			bool only_failed, const char *ds, const json_t *params);

/* ---- dialogs (tui/form.c) ---------------------------------------------------- */

struct modal_opt {
	int key;
	char label[48];
	bool on;
};

struct modal_field {
	char label[48];
	char value[256];
	size_t cur;
};

struct modal {
	char title[128];
	char **lines;            /* body text, owned */
	size_t n_lines;
	int scroll;
	struct modal_field *fields;
	size_t n_fields;
	int focus;
	struct modal_opt opts[4];
	int n_opts;
	char footer[160];
	bool busy;               /* waiting for what it will touch: y is not taken yet */
	bool error;              /* lines explain an error: any key closes */
	void (*on_submit)(struct tui *t, struct modal *m);
	void (*on_option)(struct tui *t, struct modal *m, int i);
	void (*on_close)(struct tui *t, struct modal *m); /* frees data */
	void *data;
};

struct modal *modal_new(const char *title);
void modal_add_line(struct modal *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void modal_clear_lines(struct modal *m);
void modal_add_field(struct modal *m, const char *label, const char *value);
void modal_open(struct tui *t, struct modal *m);
void modal_close(struct tui *t);
void modal_draw(struct tui *t, struct modal *m);
/* Keys while a dialog is open. */
void modal_key(struct tui *t, struct modal *m, int key);

/* ---- child processes (tui/jobs.c) ------------------------------------------- */

/* Runs in a forked child with the state store (and the queue) connected:
 * writes its answer to fd as one JSON document, may write "status TEXT\n"
 * lines before it. */
typedef void (*job_body)(struct sctx *c, void *arg, int fd);
/* In the parent: out is the JSON answer (NULL when the child died). */
typedef void (*job_done)(struct tui *t, json_t *out, void *arg);
typedef void (*job_status)(struct tui *t, const char *line, void *arg);

/* arg is a flat malloc'ed block the job owns (freed after done). */
int job_spawn(struct tui *t, bool connect, job_body body, job_status status, job_done done, void *arg);
/* From a SIGCHLD: reaps whatever finished. */
void jobs_reap(struct tui *t);
void jobs_free(struct tui *t);
/* In the child: "status TEXT" and the answer. */
void job_say(int fd, const char *status);
void job_reply(int fd, json_t *answer);

#endif
