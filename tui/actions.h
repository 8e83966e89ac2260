/* Everything an operator can ask of the console, in one table (after tig's
 * request.h): the key map, the `:` command names, the help view and the
 * `sluice --batch` command each action stands for all come from it. */
#ifndef SLUICE_TUI_ACTIONS_H
#define SLUICE_TUI_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* What a view has under its cursor, which decides the actions that apply
 * there (the VIEW() column of the table below). */
enum {
	VT_PIPELINE = 1 << 0, /* a pipeline: a run can be triggered */
	VT_TASK = 1 << 1,     /* a task instance: retry, clear, mark */
	VT_OPENS = 1 << 2     /* Enter opens the row under the cursor */
};

/* Action flags. */
enum {
	AF_WRITE = 1 << 0, /* changes state: hidden and refused with --readonly */
	AF_HINT = 1 << 1,  /* shown in the key-hint bar */
	AF_FIRST = 1 << 2  /* ... right after help, before the others (the x-ray's) */
};

/* Key codes without curses.h (the same values ncurses uses). */
#define TK_CTRL(c) ((c) & 0x1f)
#define TK_ESC 27
#define TK_ENTER '\n'
#define TK_DOWN 0402
#define TK_UP 0403
#define TK_LEFT 0404
#define TK_RIGHT 0405
#define TK_HOME 0406
#define TK_BACKSPACE 0407
#define TK_F1 0411
#define TK_NPAGE 0522
#define TK_PPAGE 0523
#define TK_END 0550

/* X(id, key, key2, views, opens, command, batch, flags, help)
 * views: the views the action applies to (VK_* bits; VK_ALL: everywhere);
 * opens: VIEW(NAME, NAME_ops, VT_* traits) when the action opens a view,
 * NO_VIEW otherwise; command: the `:` name (NULL: key only); batch: the
 * `sluice --batch` command that does the same (NULL: the console alone has it).
 *
 * The views are the VIEW() entries of this table: each gets VI_NAME (its
 * index, in table order), VK_NAME = 1 << VI_NAME, and its traits put it in
 * VK_RUNNABLE, VK_TASKS and VK_OPENS; VK_ALL and the ops registry
 * (tui_views[], tui/view.h) follow. Adding a console view:
 *   1. write tui/view_NAME.c ending in `const struct view_ops NAME_ops = {...}`
 *      (tui/view.h) and list it in Makefile.am;
 *   2. add one row here for the action that opens it, e.g.
 *      X(ACT_CHECKS, '5', 0, VK_ALL, VIEW(CHECKS, checks_ops, VT_TASK | VT_OPENS),
 *        "checks", NULL, AF_HINT, "the checks of a task instance")
 * Its key, `:checks`, its help line, its kind bit and the actions its traits
 * allow come from that row; nothing else lists the views. Without an
 * argument the view's open() gets NULL and reads what it needs from the
 * selection of the view it opens from (tui_selection()). */
#define TUI_ACTIONS(X)                                                                                          \
	X(ACT_HELP, '?', TK_F1, VK_ALL, VIEW(HELP, help_ops, 0),                                                \
	  "help", NULL, AF_HINT, "this help, generated from the action table")                                  \
	X(ACT_QUIT, 'q', 0, VK_ALL, NO_VIEW, "q", NULL, AF_HINT, "close the view; quit from the first one")     \
	X(ACT_QUIT_ALL, 'Q', 0, VK_ALL, NO_VIEW, "quit", NULL, 0, "quit the console")                           \
	X(ACT_BACK, TK_ESC, TK_BACKSPACE, VK_ALL, NO_VIEW, "back", NULL, 0, "go back (clears a filter first)")  \
	X(ACT_COMMAND, ':', 0, VK_ALL, NO_VIEW, NULL, NULL, AF_HINT, "command mode; Tab completes")             \
	X(ACT_FIND, '/', 0, VK_ALL, NO_VIEW,                                                                    \
	  "filter", NULL, AF_HINT,                                                                              \
	  "filter rows by a POSIX extended regex (a leading ! inverts); in a log: search")                      \
	X(ACT_REDRAW, TK_CTRL('L'), 0, VK_ALL, NO_VIEW, "redraw", NULL, 0, "redraw the screen")                 \
	X(ACT_UP, 'k', TK_UP, VK_ALL, NO_VIEW, NULL, NULL, 0, "move up")                                        \
	X(ACT_DOWN, 'j', TK_DOWN, VK_ALL, NO_VIEW, NULL, NULL, 0, "move down")                                  \
	X(ACT_LEFT, 'h', TK_LEFT, VK_ALL, NO_VIEW, NULL, NULL, 0, "move left (older run; scroll left)")         \
	X(ACT_RIGHT, 'l', TK_RIGHT, VK_ALL, NO_VIEW, NULL, NULL, 0, "move right (newer run; scroll right)")     \
	X(ACT_PGUP, TK_PPAGE, TK_CTRL('B'), VK_ALL, NO_VIEW, NULL, NULL, 0, "page up")                          \
	X(ACT_PGDN, TK_NPAGE, TK_CTRL('F'), VK_ALL, NO_VIEW, NULL, NULL, 0, "page down")                        \
	X(ACT_TOP, 'g', TK_HOME, VK_ALL, NO_VIEW, NULL, NULL, 0, "first line")                                  \
	X(ACT_BOTTOM, 'G', TK_END, VK_ALL, NO_VIEW, NULL, NULL, 0, "last line")                                 \
	X(ACT_OPEN, TK_ENTER, 0, VK_OPENS, NO_VIEW,                                                             \
	  NULL, NULL, AF_HINT, "open: a pipeline's runs, a task instance and its log")                          \
	X(ACT_PIPELINES, '1', 0, VK_ALL, VIEW(PIPELINES, pipelines_ops, VT_PIPELINE | VT_OPENS),                \
	  "pipelines", "status", 0, "the pipelines view")                                                       \
	X(ACT_RUNS, '2', 0, VK_ALL, VIEW(GRID, grid_ops, VT_PIPELINE | VT_TASK | VT_OPENS),                     \
	  "runs", "status", 0, "runs grid of a pipeline: :runs NAME")                                           \
	X(ACT_DAG, '3', 0, VK_ALL, VIEW(DAG, dag_ops, VT_PIPELINE | VT_TASK | VT_OPENS),                        \
	  "dag", "status", AF_HINT, "DAG graph of a run: :dag NAME [RUN]")                                      \
	X(ACT_LOG, '4', 0, VK_ALL, VIEW(TASK, task_ops, VT_PIPELINE | VT_TASK),                                 \
	  "log", "logs", 0, "the selected task instance and its log: :log [RUN TASK]")                          \
	X(ACT_CHECKS, '5', 0, VK_ALL, VIEW(CHECKS, checks_ops, VT_TASK | VT_OPENS),                            \
	  "checks", "checks", 0, "the latest result of every check and its recent ones; Enter: its failing rows") \
	X(ACT_LAST_FAILED, '!', 0, VK_ALL, NO_VIEW, "failed", "status", AF_HINT,                                \
	  "the task instance that failed last, on its log (the triage's first key)")                            \
	X(ACT_REPORTS, '7', 0, VK_ALL, VIEW(REPORTS, reports_ops, VT_OPENS),                                    \
	  "reports", "report", 0, "the reports, their table and bar chart: :reports [NAME [RUN]]")              \
	X(ACT_EXPORT_CSV, 'x', 0, VK_REPORTS, NO_VIEW, "export-csv", "report", AF_HINT,                        \
	  "write the report shown as CSV (asks for the file)")                                                  \
	X(ACT_EXPORT_HTML, 'X', 0, VK_REPORTS, NO_VIEW, "export-html", "report", 0,                            \
	  "write the report shown as one HTML file with its chart (asks for the file)")                        \
	X(ACT_BACKFILLS, '6', 0, VK_ALL, VIEW(BACKFILLS, backfills_ops, VT_OPENS),                              \
	  "backfills", "backfill", 0,                                                                           \
	  "the backfills: done, running, failed, left per backfill and a strip of its dates")                   \
	X(ACT_HISTORY, 'H', 0, VK_ALL, VIEW(HISTORY, history_ops, VT_OPENS),                                    \
	  "history", NULL, 0, "the actions taken in this console, as commands")                                 \
	X(ACT_CONNECTIONS, '8', 0, VK_ALL, VIEW(CONNECTIONS, connections_ops, VT_OPENS),                        \
	  "connections", "connections", 0, "named connections: a add, e edit, d delete, t test; Enter: its tables") \
	X(ACT_TABLES, '9', 0, VK_ALL, VIEW(TABLES, tables_ops, VT_OPENS),                                       \
	  "tables", "tables", 0, "schemas and tables of a connection: :tables [CONN [SCHEMA]]; Enter: its rows")  \
	X(ACT_TABLE_ROWS, '0', 0, VK_ALL, VIEW(ROWS, rows_ops, VT_OPENS),                                       \
	  "table", "rows", 0, "a table's rows by keyset: :table [CONN] SCHEMA.TABLE")                          \
	X(ACT_WHERE, 0, 0, VK_ROWS, NO_VIEW, "where", "rows", 0,                                                \
	  "filter the rows by an SQL WHERE expression: :where EXPR, or / asks for it (empty: none)")            \
	X(ACT_SORT, 's', 0, VK_ROWS, NO_VIEW, "sort", "rows", AF_HINT,                                          \
	  "sort the rows by the column under the cursor (again: the other way)")                                \
	X(ACT_PROFILE, 'p', 0, VK_ROWS, NO_VIEW, "profile", NULL, AF_HINT,                                      \
	  "profile the column under the cursor: null share, distinct, min/max, top values")                     \
	X(ACT_ROWS_CSV, 'x', 0, VK_ROWS, NO_VIEW, "rows-csv", "rows", AF_HINT,                                  \
	  "write the rows shown (filter and sort, every row) as CSV (asks for the file)")                       \
	X(ACT_TRIGGER, 't', 0, VK_RUNNABLE, NO_VIEW,                                                            \
	  "trigger", "run", AF_WRITE | AF_HINT, "trigger a run: a form for the logical date and params")        \
	X(ACT_BACKFILL, 'B', 0, VK_RUNNABLE, NO_VIEW,                                                           \
	  "backfill", "backfill", AF_WRITE | AF_HINT,                                                           \
	  "backfill a pipeline: a form for the range, reprocess, max parallel, params, with the live dry run")  \
	X(ACT_BF_PAUSE, 'p', 0, VK_BACKFILLS, NO_VIEW,                                                          \
	  "pause", "backfill", AF_WRITE | AF_HINT, "pause the backfill, or resume a paused one: :pause ID")     \
	X(ACT_BF_CANCEL, 'X', 0, VK_BACKFILLS, NO_VIEW,                                                         \
	  "cancel", "backfill", AF_WRITE | AF_HINT, "cancel the backfill (its dates not started are dropped)")  \
	X(ACT_RETRY, 'r', 0, VK_TASKS, NO_VIEW,                                                                 \
	  "retry", "retry", AF_WRITE | AF_HINT, "retry a failed task with the downstream it held back")         \
	X(ACT_CLEAR, 'c', 0, VK_TASKS, NO_VIEW,                                                                 \
	  "clear", "clear", AF_WRITE | AF_HINT,                                                                 \
	  "clear a task (d: with downstream, o: only failed) after showing what it touches")                    \
	X(ACT_MARK_SUCCESS, 'S', 0, VK_TASKS, NO_VIEW,                                                          \
	  "mark-success", "mark", AF_WRITE, "mark the task success")                                            \
	X(ACT_MARK_FAILED, 'F', 0, VK_TASKS, NO_VIEW, "mark-failed", "mark", AF_WRITE, "mark the task failed")  \
	X(ACT_FOLLOW, 'f', 0, VK_TASK, NO_VIEW, "follow", "logs", AF_HINT, "follow the log as it grows")        \
	X(ACT_NEXT_MATCH, 'n', 0, VK_TASK, NO_VIEW, NULL, NULL, 0, "next search match")                         \
	X(ACT_PREV_MATCH, 'N', 0, VK_TASK, NO_VIEW, NULL, NULL, 0, "previous search match")                     \
	X(ACT_WRAP, 'w', 0, VK_TASK, NO_VIEW, "wrap", NULL, AF_HINT, "wrap long log lines (toggle)")            \
	X(ACT_ROWS, 'v', 0, VK_TASK, NO_VIEW, "rows", "checks", AF_HINT,                                        \
	  "a check task: its failing rows or its log (toggle)")                                                 \
	X(ACT_PREV_TRY, '[', 0, VK_TASK, NO_VIEW, NULL, "logs", 0, "the log of the previous try")               \
	X(ACT_NEXT_TRY, ']', 0, VK_TASK, NO_VIEW,                                                               \
	  "try", "logs", 0, "the log of the next try; :try N picks one")                                        \
	X(ACT_REJECTS, 'R', 0, VK_ALL, VIEW(REJECTS, rejects_ops, 0),                                           \
	  "rejects", "rejects", 0,                                                                              \
	  "the rows a run's loads kept out (line, column, reason, raw row); from a load task: its own")         \
	X(ACT_XR_TAIL, 'e', 0, VK_TASK, NO_VIEW, "tail", "logs", AF_HINT | AF_FIRST,                            \
	  "x-ray: the end of the failing try's log, its error and exit status")                                 \
	X(ACT_XR_ROWS, 'b', 0, VK_TASK, NO_VIEW, "bad-rows", "rejects", AF_HINT | AF_FIRST,                     \
	  "x-ray: its bad rows: a load's rejects, a check's failing rows")                                      \
	X(ACT_XR_READS, 'i', 0, VK_TASK, NO_VIEW, "reads", NULL, AF_HINT | AF_FIRST,                            \
	  "x-ray: the tables it reads, each with the task that last wrote it and when")                         \
	X(ACT_XR_UPSTREAM, 'u', 0, VK_TASK, NO_VIEW, "upstream", NULL, AF_HINT | AF_FIRST,                      \
	  "x-ray: the task of this run that last wrote what it reads (else its upstream in the DAG)")

enum action {
#define X(id, k, k2, v, o, c, b, f, h) id,
	TUI_ACTIONS(X)
#undef X
	ACT_COUNT
};

/* ---- the views: the VIEW() entries of the table ----------------------------- */

/* TUI_ACTIONS(TUI_VIEW_ROW) expands TUI_VIEW(NAME, ops, traits) once for
 * each view, in table order: #define TUI_VIEW before it, #undef after. */
#define TUI_VIEW_ROW(id, k, k2, v, opens, c, b, f, h) TUI_VIEW_ROW_##opens
#define TUI_VIEW_ROW_NO_VIEW
#define TUI_VIEW_ROW_VIEW(name, ops, traits) TUI_VIEW(name, ops, traits)
/* The VI_* index of the view an opens column names, -1 for NO_VIEW. */
#define TUI_VIEW_INDEX(opens) TUI_VIEW_INDEX_##opens
#define TUI_VIEW_INDEX_NO_VIEW (-1)
#define TUI_VIEW_INDEX_VIEW(name, ops, traits) VI_##name

enum view_index {
#define TUI_VIEW(name, ops, traits) VI_##name,
	TUI_ACTIONS(TUI_VIEW_ROW)
#undef TUI_VIEW
	VIEW_COUNT
};
_Static_assert(VIEW_COUNT < 31, "a view kind is a bit of an int");

/* A view's kind is its bit; VK_ALL has them all. */
enum {
#define TUI_VIEW(name, ops, traits) VK_##name = 1 << VI_##name,
	TUI_ACTIONS(TUI_VIEW_ROW)
#undef TUI_VIEW
	VK_ALL = (1 << VIEW_COUNT) - 1
};

/* The views with a trait. */
#define TUI_VIEW(name, ops, traits) | ((traits) & VT_PIPELINE ? VK_##name : 0)
enum { VK_RUNNABLE = 0 TUI_ACTIONS(TUI_VIEW_ROW) }; /* something selected to act on */
#undef TUI_VIEW
#define TUI_VIEW(name, ops, traits) | ((traits) & VT_TASK ? VK_##name : 0)
enum { VK_TASKS = 0 TUI_ACTIONS(TUI_VIEW_ROW) };    /* a task instance selected */
#undef TUI_VIEW
#define TUI_VIEW(name, ops, traits) | ((traits) & VT_OPENS ? VK_##name : 0)
enum { VK_OPENS = 0 TUI_ACTIONS(TUI_VIEW_ROW) };    /* Enter opens a row */
#undef TUI_VIEW

struct action_info {
	enum action id;
	int key, key2;
	unsigned views;
	int view;              /* the VI_* view it opens, -1 for none */
	const char *command;
	const char *batch;
	unsigned flags;
	const char *help;
};

const struct action_info *action_info(enum action a);
/* The action key stands for in a view of kind view_kind (a VK_* bit), or -1. */
int keymap_lookup(int key, unsigned view_kind);
/* The action whose `:` name is name (an unambiguous prefix works), or -1;
 * *ambiguous is set when several match. */
int action_by_command(const char *name, bool *ambiguous);
/* A key as the help shows it: "j", "Enter", "Esc", "^L", "PgDn", "F1". */
const char *key_label(int key, char *buf, size_t size);

#endif
