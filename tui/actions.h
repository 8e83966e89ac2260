/* Everything an operator can ask of the console, in one table (after tig's
 * request.h): the key map, the `:` command names, the help view and the
 * `sluice --batch` command each action stands for all come from it. */
#ifndef SLUICE_TUI_ACTIONS_H
#define SLUICE_TUI_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Which views an action applies to (a view's kind is one of these bits). */
enum {
	VK_PIPELINES = 1 << 0,
	VK_GRID = 1 << 1,
	VK_DAG = 1 << 2,
	VK_TASK = 1 << 3,
	VK_HELP = 1 << 4,
	VK_HISTORY = 1 << 5,
	VK_ALL = 0x3f,
	VK_LISTS = VK_PIPELINES | VK_GRID | VK_HELP | VK_HISTORY,
	VK_RUNNABLE = VK_PIPELINES | VK_GRID | VK_DAG | VK_TASK, /* something selected to act on */
	VK_TASKS = VK_GRID | VK_DAG | VK_TASK                   /* a task instance selected */
};

/* Action flags. */
enum {
	AF_WRITE = 1 << 0, /* changes state: hidden and refused with --readonly */
	AF_HINT = 1 << 1   /* shown in the key-hint bar */
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

/* X(id, key, key2, views, command, batch, flags, help)
 * command: the `:` name (NULL: key only); batch: the `sluice --batch` command
 * that does the same (NULL: the console alone has it). */
#define TUI_ACTIONS(X)                                                                                    \
	X(ACT_HELP, '?', TK_F1, VK_ALL, "help", NULL, AF_HINT, "this help, generated from the action table")   \
	X(ACT_QUIT, 'q', 0, VK_ALL, "q", NULL, AF_HINT, "close the view; quit from the first one")             \
	X(ACT_QUIT_ALL, 'Q', 0, VK_ALL, "quit", NULL, 0, "quit the console")                                    \
	X(ACT_BACK, TK_ESC, TK_BACKSPACE, VK_ALL, "back", NULL, 0, "go back (clears a filter first)")         \
	X(ACT_COMMAND, ':', 0, VK_ALL, NULL, NULL, AF_HINT, "command mode; Tab completes")                    \
	X(ACT_FIND, '/', 0, VK_ALL, "filter", NULL, AF_HINT,                                                 \
	  "filter rows by a POSIX extended regex (a leading ! inverts); in a log: search")                     \
	X(ACT_REDRAW, TK_CTRL('L'), 0, VK_ALL, "redraw", NULL, 0, "redraw the screen")                        \
	X(ACT_UP, 'k', TK_UP, VK_ALL, NULL, NULL, 0, "move up")                                                  \
	X(ACT_DOWN, 'j', TK_DOWN, VK_ALL, NULL, NULL, 0, "move down")                                            \
	X(ACT_LEFT, 'h', TK_LEFT, VK_ALL, NULL, NULL, 0, "move left (older run; scroll left)")                  \
	X(ACT_RIGHT, 'l', TK_RIGHT, VK_ALL, NULL, NULL, 0, "move right (newer run; scroll right)")              \
	X(ACT_PGUP, TK_PPAGE, TK_CTRL('B'), VK_ALL, NULL, NULL, 0, "page up")                                   \
	X(ACT_PGDN, TK_NPAGE, TK_CTRL('F'), VK_ALL, NULL, NULL, 0, "page down")                                 \
	X(ACT_TOP, 'g', TK_HOME, VK_ALL, NULL, NULL, 0, "first line")                                           \
	X(ACT_BOTTOM, 'G', TK_END, VK_ALL, NULL, NULL, 0, "last line")                                          \
	X(ACT_OPEN, TK_ENTER, 0, VK_PIPELINES | VK_GRID | VK_DAG | VK_HISTORY, NULL, NULL, AF_HINT,            \
	  "open: a pipeline's runs, a task instance and its log")                                               \
	X(ACT_PIPELINES, '1', 0, VK_ALL, "pipelines", "status", 0, "the pipelines view")                       \
	X(ACT_RUNS, '2', 0, VK_ALL, "runs", "status", 0, "runs grid of a pipeline: :runs NAME")                \
	X(ACT_DAG, '3', 0, VK_ALL, "dag", "status", AF_HINT, "DAG graph of a run: :dag NAME [RUN]")            \
	X(ACT_LOG, '4', 0, VK_ALL, "log", "logs", 0, "the selected task instance and its log: :log [RUN TASK]") \
	X(ACT_HISTORY, 'H', 0, VK_ALL, "history", NULL, 0, "the actions taken in this console, as commands")   \
	X(ACT_TRIGGER, 't', 0, VK_RUNNABLE, "trigger", "run", AF_WRITE | AF_HINT,                              \
	  "trigger a run: a form for the logical date and params")                                             \
	X(ACT_RETRY, 'r', 0, VK_TASKS, "retry", "retry", AF_WRITE | AF_HINT,                                   \
	  "retry a failed task with the downstream it held back")                                              \
	X(ACT_CLEAR, 'c', 0, VK_TASKS, "clear", "clear", AF_WRITE | AF_HINT,                                   \
	  "clear a task (d: with downstream, o: only failed) after showing what it touches")                  \
	X(ACT_MARK_SUCCESS, 'S', 0, VK_TASKS, "mark-success", "mark", AF_WRITE, "mark the task success")       \
	X(ACT_MARK_FAILED, 'F', 0, VK_TASKS, "mark-failed", "mark", AF_WRITE, "mark the task failed")          \
	X(ACT_FOLLOW, 'f', 0, VK_TASK, "follow", "logs", AF_HINT, "follow the log as it grows")                \
	X(ACT_NEXT_MATCH, 'n', 0, VK_TASK, NULL, NULL, 0, "next search match")                                   \
	X(ACT_PREV_MATCH, 'N', 0, VK_TASK, NULL, NULL, 0, "previous search match")                               \
	X(ACT_WRAP, 'w', 0, VK_TASK, "wrap", NULL, AF_HINT, "wrap long log lines (toggle)")                     \
	X(ACT_PREV_TRY, '[', 0, VK_TASK, NULL, "logs", 0, "the log of the previous try")                         \
	X(ACT_NEXT_TRY, ']', 0, VK_TASK, "try", "logs", 0, "the log of the next try; :try N picks one")

enum action {
#define X(id, k, k2, v, c, b, f, h) id,
	TUI_ACTIONS(X)
#undef X
	ACT_COUNT
};

struct action_info {
	enum action id;
	int key, key2;
	unsigned views;
	const char *command;
	const char *batch;
	unsigned flags;
	const char *help;
};

const struct action_info *action_info(enum action a);
/* The action key stands for in a view of kind view_kind, or -1. */
int keymap_lookup(int key, unsigned view_kind);
/* The action whose `:` name is name (an unambiguous prefix works), or -1;
 * *ambiguous is set when several match. */
int action_by_command(const char *name, bool *ambiguous);
/* A key as the help shows it: "j", "Enter", "Esc", "^L", "PgDn", "F1". */
const char *key_label(int key, char *buf, size_t size);

#endif
