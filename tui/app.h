/* The console's state, shared by the modules that make up its frame
 * (tui/app.c and the stack, header, status line, prompt, key dispatch,
 * connection, drawing, dialogs, jobs and actions). Views do not see it:
 * they have tui/view.h. */
#ifndef SLUICE_TUI_APP_H
#define SLUICE_TUI_APP_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/ctx.h"
#include "tui/theme.h"

#define TUI_MAX_DEPTH 32
/* The frame's rows around the body: header and breadcrumbs on top, the
 * status line and the key-hint bar below. */
#define TUI_HEADER_ROWS 2
#define TUI_FOOTER_ROWS 2

struct loop;
struct db;
struct view;
struct modal;
struct job;
struct hist_entry;
struct header_wait;

struct tui {
	struct loop *loop;
	struct db *db;
	struct sctx ctx;        /* project and service addresses; no connections */
	struct theme theme;
	attr_t attr[S_COUNT];   /* curses attributes of each style (tui/draw.c) */
	bool readonly;
	bool utf8;              /* the locale is UTF-8: glyphs and box drawing */
	bool color;             /* colours in use (not NO_COLOR, terminal has them) */

	struct view *stack[TUI_MAX_DEPTH];  /* tui/view.c */
	int depth;

	/* the status line: one message (tui/status.c) */
	char status[512];
	bool status_err;
	bool status_progress;   /* the message is start-up progress, cleared once connected */

	/* a prompt on the status line (`:` commands, `/` filter or search; tui/prompt.c) */
	int prompt;             /* the action that asked, -1 when none */
	char input[256];
	size_t cur;
	char completions[256];  /* shown after a Tab with several candidates */

	struct modal *modal;    /* a dialog over the body, or NULL (tui/form.c) */
	int cur_y, cur_x;       /* where the terminal cursor goes after drawing (-1: hidden) */

	bool dirty_header, dirty_status, dirty_hints, dirty_all;

	/* the header's live parts (tui/header.c) */
	char *state_addr;       /* the state database, password masked */
	char db_msg[256];       /* what the console waits for, or why it is down */
	int runner_pid;
	int workers;            /* -1 unknown */
	bool header_query_out;
	int64_t header_last;
	long header_timer;
	/* what the console's own connections cannot reach, and since when (0:
	 * reachable): the state database (tui/conn.c) and the broker, which a
	 * child asks now and then (tui/header.c) */
	time_t db_down_since, broker_down_since;
	bool broker_probe_out;
	int64_t broker_probe_last;
	long outage_timer;      /* redraws the outages' lengths each second while there are any */
	/* a query or a job waiting on a server: looked at each second while one
	 * is out, so one that hangs (a partition, a stopped server) shows; the
	 * console's other connections and its jobs say when they wait
	 * (header_wait) */
	long stall_timer;
	bool stall_shown;
	struct header_wait *waits;
	size_t n_waits, cap_waits;

	/* the connection (tui/conn.c) */
	long reconnect_timer;
	int reconnect_ms;
	/* notifications seen this wake-up, delivered before drawing */
	long *changed_runs;
	size_t n_changed, cap_changed;
	bool changed_many;
	long *changed_logs;
	size_t n_logs, cap_logs;

	struct hist_entry *hist;  /* tui/act.c */
	size_t n_hist;

	long clock_timer;
	struct job *jobs;       /* child processes running actions (tui/jobs.c) */
	int sigpipe[2];
	bool quit;
};

#endif
