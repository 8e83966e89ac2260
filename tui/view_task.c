/* The task instance view: its state, tries, times, error and the command a
 * retry will run, over its log. The log opens at its tail and keeps only a
 * window of lines in memory; older and newer lines are fetched by seq
 * (keyset paging) as the view scrolls, so a huge log costs what one screen
 * of it does. `f` follows, `/` `n` `N` search (in the window, then in the
 * database), `w` wraps, `[` `]` choose the try. A check task's try shows
 * its result and failing rows instead of the log, a load's what it loaded
 * and the rows it kept out (tui/rowpane.h, paged the same way); `v`
 * switches between the two. The X-ray of a failed task, a key each: `e`
 * the end of the failing try's log and its error, `b` its bad rows (that
 * pane), `i` the tables it reads with who last wrote them
 * (tui/readspane.h), `u` the task of the run that wrote them (else its
 * upstream in the DAG); `R` a load's rejects in the rejects view. */
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "core/kinds/kind.h"
#include "core/projdef.h"
#include "core/query.h"
#include "tui/act.h"
#include "tui/actions.h"
#include "tui/draw.h"
#include "tui/readspane.h"
#include "tui/rowpane.h"
#include "tui/filter.h"
#include "tui/refresh.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/view.h"

#define PAGE 400       /* lines fetched at a time */
#define WINDOW 2400    /* lines kept at most */

enum logreq { LR_TAIL, LR_OLDER, LR_NEWER, LR_AT, LR_SPAN };

struct taskv {
	struct refresh rf;          /* first: the frame's refresh timer finds it here */
	long run_id;
	char *task;
	bool latest_failed;         /* opened as `!`: find the instance first */
	struct ti_detail d;
	bool have_d;
	struct try_row *tries;
	size_t n_tries;
	int shown_try;              /* the try whose log is shown; 0 none yet */
	bool pinned;                /* the user chose that try */

	/* the window of the log: lines[i].seq are consecutive */
	struct log_row *lines;
	size_t n, cap;
	bool at_start, at_end;      /* the window holds the first / last line */
	int total;                  /* lines of the try (from the last seq) */
	unsigned gen;               /* bumps when the window is replaced */
	bool busy;                  /* a window request is out */
	bool newer_again;           /* lines arrived while one was out */
	int top;                    /* first line shown (index into lines) */
	int hscroll;
	bool follow, wrap;
	bool want_bottom;           /* after the next load, show the end */
	int jump_seq;               /* after the next load, show this seq (-1 none) */

	regex_t re;
	bool have_re;
	char *pattern;
	int match_seq;              /* the current match, -1 none */
	bool match_forward;
	int log_rows;               /* rows the log had at the last draw */

	struct rowpane fr;          /* the shown try's failing rows or rejects, if any */
	const struct rowsrc *src;   /* where fr's rows come from (the task's kind); NULL: none */
	bool rows_mode;             /* those rows are shown, not the log */
	bool rows_chosen;           /* by `v`: no longer follows whether there are any */

	struct readspane rp;        /* the tables it reads (`i`) */
	bool reads_mode;            /* they are shown, over the log or the rows */
	bool want_upstream;         /* `u` waits for the writers */
};

static struct taskv *T(struct view *v)
{
	return v->priv;
}

static void request_log(struct view *v, enum logreq kind, int seq);

/* ---- the window ----------------------------------------------------------- */

static void window_clear(struct taskv *k)
{
	log_rows_free(k->lines, k->n);
	k->lines = NULL;
	k->n = k->cap = 0;
	k->top = 0;
	k->at_start = k->at_end = false;
}

static void window_append(struct taskv *k, struct log_row *rows, size_t n)
{
	if (n == 0) {
		free(rows);
		return;
	}
	if (k->n + n > k->cap) {
		k->cap = k->n + n + PAGE;
		k->lines = xrealloc(k->lines, k->cap * sizeof *k->lines);
	}
	memcpy(k->lines + k->n, rows, n * sizeof *rows);
	k->n += n;
	free(rows);
	/* too many: forget the oldest */
	if (k->n > WINDOW) {
		size_t drop = k->n - WINDOW;
		for (size_t i = 0; i < drop; i++) {
			free(k->lines[i].ts);
			free(k->lines[i].line);
		}
		memmove(k->lines, k->lines + drop, (k->n - drop) * sizeof *k->lines);
		k->n -= drop;
		k->top = k->top > (int)drop ? k->top - (int)drop : 0;
		k->at_start = false;
	}
}

static void window_prepend(struct taskv *k, struct log_row *rows, size_t n)
{
	if (n == 0) {
		free(rows);
		return;
	}
	if (k->n + n > k->cap) {
		k->cap = k->n + n + PAGE;
		k->lines = xrealloc(k->lines, k->cap * sizeof *k->lines);
	}
	memmove(k->lines + n, k->lines, k->n * sizeof *k->lines);
	memcpy(k->lines, rows, n * sizeof *rows);
	k->n += n;
	k->top += (int)n;
	free(rows);
	if (k->n > WINDOW) {
		size_t drop = k->n - WINDOW;
		for (size_t i = k->n - drop; i < k->n; i++) {
			free(k->lines[i].ts);
			free(k->lines[i].line);
		}
		k->n -= drop;
		k->at_end = false;
		if (k->top >= (int)k->n)
			k->top = (int)k->n - 1;
	}
}

static int index_of_seq(struct taskv *k, int seq)
{
	if (!k->n || seq < k->lines[0].seq || seq > k->lines[k->n - 1].seq)
		return -1;
	return seq - k->lines[0].seq;
}

/* ---- layout ------------------------------------------------------------------ */

static int info_rows(struct view *v)
{
	int h = tui_body(v->t).h;
	return h >= 16 ? 6 : h >= 10 ? 4 : 2;
}

/* Line numbers take as many digits as the last one needs. */
static int gutter(const struct taskv *k)
{
	int digits = 1;
	for (int n = k->total > 0 ? k->total : 1; n >= 10; n /= 10)
		digits++;
	return (digits < 4 ? 4 : digits) + 2;
}

static int text_cols(struct view *v)
{
	int w = tui_body(v->t).w - gutter(T(v)) - 1;
	return w < 10 ? 10 : w;
}

/* Screen rows a line takes. */
static int line_rows(struct view *v, const struct log_row *l)
{
	if (!T(v)->wrap)
		return 1;
	int w = text_width(l->line);
	int c = text_cols(v);
	return w <= c ? 1 : (w + c - 1) / c;
}

/* The top index that puts the last line at the bottom. */
static int bottom_top(struct view *v, int rows)
{
	struct taskv *k = T(v);
	int used = 0, i = (int)k->n - 1;
	while (i >= 0) {
		int r = line_rows(v, &k->lines[i]);
		if (used + r > rows)
			break;
		used += r;
		i--;
	}
	return i + 1 < (int)k->n ? i + 1 : (k->n ? (int)k->n - 1 : 0);
}

/* ---- queries -------------------------------------------------------------------- */

static void on_log(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct taskv *k = T(v);
	enum logreq kind = (enum logreq)(arg & 7);
	unsigned gen = (unsigned)(arg >> 3);
	if (gen != (k->gen & 0xffffff))
		return; /* the window was replaced since */
	if (kind != LR_SPAN)
		k->busy = false;
	if (!r) {
		if (tui_connected(v->t))
			tui_error(v->t, "log: %s", error);
		return;
	}
	if (kind == LR_SPAN) {
		int count, last;
		query_log_span_parse(r, &count, &last);
		k->total = count;
		v->dirty = true;
		return;
	}
	struct log_row *rows;
	size_t n;
	query_log_parse(r, &rows, &n);
	int rows_shown = k->log_rows > 0 ? k->log_rows : 10;
	switch (kind) {
	case LR_TAIL:
		window_clear(k);
		window_append(k, rows, n);
		k->at_end = true;
		k->at_start = n < PAGE;
		k->top = bottom_top(v, rows_shown);
		break;
	case LR_AT:
		window_clear(k);
		window_append(k, rows, n);
		k->at_start = k->n == 0 || k->lines[0].seq == 0;
		k->at_end = n < PAGE;
		break;
	case LR_OLDER:
		if (n < PAGE)
			k->at_start = true;
		window_prepend(k, rows, n);
		break;
	case LR_NEWER: {
		bool bottom = k->follow || k->want_bottom;
		window_append(k, rows, n);
		k->at_end = n < PAGE;
		if (k->n && k->lines[k->n - 1].seq + 1 > k->total)
			k->total = k->lines[k->n - 1].seq + 1;
		if (bottom)
			k->top = bottom_top(v, rows_shown);
		break;
	}
	default:
		free(rows);
		break;
	}
	if (k->want_bottom && k->at_end) {
		k->top = bottom_top(v, rows_shown);
		k->want_bottom = false;
	}
	if (k->jump_seq >= 0) {
		int i = index_of_seq(k, k->jump_seq);
		if (i >= 0) {
			k->top = i > rows_shown / 2 ? i - rows_shown / 2 : 0;
			k->match_seq = k->jump_seq;
		}
		k->jump_seq = -1;
	}
	if (k->n && k->lines[k->n - 1].seq + 1 > k->total)
		k->total = k->lines[k->n - 1].seq + 1;
	v->dirty = true;
	if (k->newer_again && k->at_end) {
		k->newer_again = false;
		request_log(v, LR_NEWER, 0);
	}
}

static void request_log(struct view *v, enum logreq kind, int seq)
{
	struct taskv *k = T(v);
	if (!k->have_d || k->shown_try <= 0 || !tui_connected(v->t))
		return;
	if (k->busy && (kind == LR_TAIL || kind == LR_AT)) {
		/* a new window: what is out for the old one is void */
		k->gen++;
		k->busy = false;
	}
	if (kind != LR_SPAN && k->busy) {
		if (kind == LR_NEWER)
			k->newer_again = true;
		return;
	}
	struct query q;
	unsigned gen = k->gen;
	switch (kind) {
	case LR_TAIL:
		query_log_before(&q, k->d.id, k->shown_try, -1, PAGE);
		break;
	case LR_AT:
		query_log(&q, k->d.id, k->shown_try, seq, PAGE);
		break;
	case LR_OLDER:
		query_log_before(&q, k->d.id, k->shown_try, k->n ? k->lines[0].seq : -1, PAGE);
		break;
	case LR_NEWER:
		query_log(&q, k->d.id, k->shown_try, k->n ? k->lines[k->n - 1].seq + 1 : 0, PAGE);
		break;
	case LR_SPAN:
		query_log_span(&q, k->d.id, k->shown_try);
		break;
	}
	long arg = ((long)(gen & 0xffffff) << 3) | kind;
	if (tui_query(v, &q, on_log, arg) == 0 && kind != LR_SPAN)
		k->busy = true; /* the answer comes from the loop, after this */
}

/* The rows a try of this task keeps beside its log: a check's failing
 * rows, a load's rejects; NULL for other kinds. */
static const struct rowsrc *rows_src(const struct taskv *k)
{
	json_t *spec = k->have_d && k->d.spec ? json_loads(k->d.spec, 0, NULL) : NULL;
	const char *kind = json_string_value(json_object_get(spec, "kind"));
	const struct rowsrc *src = !kind		   ? NULL
				   : !strcmp(kind, "check") ? &check_rows_src
				   : !strcmp(kind, "load")  ? &reject_rows_src
							    : NULL;
	json_decref(spec);
	return src;
}

static void load_rows(struct view *v)
{
	struct taskv *k = T(v);
	if (k->src && k->shown_try > 0)
		rowpane_load(v, &k->fr, k->src, k->run_id, k->task, k->shown_try);
}

/* Shows try n (the window starts over at its tail). */
static void show_try(struct view *v, int n)
{
	struct taskv *k = T(v);
	k->shown_try = n;
	window_clear(k);
	/* whatever is still out for the previous try is void */
	k->gen++;
	k->busy = false;
	k->total = 0;
	k->match_seq = -1;
	k->want_bottom = true;
	request_log(v, LR_TAIL, 0);
	request_log(v, LR_SPAN, 0);
	load_rows(v);
	view_set_title(v, "%s #%ld try %d", k->task, k->run_id, n);
	v->dirty = true;
}

static void on_tries(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct taskv *k = T(v);
	refresh_done(v, &k->rf);
	if (!r)
		return;
	try_rows_free(k->tries, k->n_tries);
	query_tries_parse(r, &k->tries, &k->n_tries);
	v->dirty = true;
}

static void on_detail(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct taskv *k = T(v);
	if (!r) {
		refresh_done(v, &k->rf);
		if (tui_connected(v->t))
			tui_error(v->t, "task: %s", error);
		return;
	}
	struct ti_detail d;
	if (query_ti_detail_parse(r, &d) < 0) {
		refresh_done(v, &k->rf);
		if (k->latest_failed)
			tui_status(v->t, "no task has failed: q goes back");
		else
			tui_error(v->t, "run %ld has no task '%s'", k->run_id, k->task);
		return;
	}
	if (k->latest_failed && !k->have_d) {
		k->run_id = d.run_id;
		free(k->task);
		k->task = xstrdup(d.task);
		char *cmd = act_batch_command(ACT_LOG, NULL, k->run_id, k->task, false, false, NULL, NULL);
		tui_status(v->t, "[%s]  x-ray: e log tail  b bad rows  i reads  u upstream", cmd);
		free(cmd);
	}
	bool first = !k->have_d;
	int old_try = k->have_d ? k->d.try_number : 0;
	ti_detail_free(&k->d);
	k->d = d;
	k->have_d = true;
	if (first)
		k->src = rows_src(k); /* a task's kind stays what it is: its spec is read once */
	/* tries are asked for once the instance is known */
	struct query q;
	query_tries(&q, d.id);
	refresh_send(v, &k->rf, &q, on_tries, 0);
	refresh_done(v, &k->rf);
	if (first) {
		if (d.try_number > 0)
			show_try(v, d.try_number);
		else
			view_set_title(v, "%s #%ld", k->task, k->run_id);
	} else if (d.try_number != old_try && !k->pinned && d.try_number > 0) {
		/* a new try started (a retry): its log is the interesting one */
		show_try(v, d.try_number);
		k->follow = true;
	} else if (k->shown_try == d.try_number && k->at_end) {
		request_log(v, LR_NEWER, 0);
	}
	/* a try that just ended may have recorded its check result */
	if (!first && k->shown_try > 0)
		load_rows(v);
	v->dirty = true;
}

static void send(struct view *v)
{
	struct taskv *k = T(v);
	struct query q;
	if (k->have_d)
		query_ti_detail(&q, k->d.id, 0, NULL);
	else if (k->latest_failed)
		query_ti_latest_failed(&q, tui_project(v->t)->name);
	else
		query_ti_detail(&q, 0, k->run_id, k->task);
	refresh_send(v, &k->rf, &q, on_detail, 0);
}

/* ---- open / done ---------------------------------------------------------------- */

static int task_open(struct view *v, const char *arg)
{
	struct taskv *k = T(v);
	char from[512];
	if (!arg) {
		/* `4` or `:log`: the task instance selected where it opens from */
		struct tui_sel sel;
		tui_selection(v->t, &sel);
		if (!sel.run_id || !sel.task) {
			tui_error(v->t, "log: select a task instance (or :log RUN TASK)");
			return -1;
		}
		snprintf(from, sizeof from, "%ld %s", sel.run_id, sel.task);
		arg = from;
	}
	if (!strcmp(arg, TASK_LATEST_FAILED)) {
		k->latest_failed = true;
		k->task = xstrdup("");
		k->jump_seq = -1;
		k->match_seq = -1;
		k->rf.send = send;
		k->rf.min_ms = 100;
		view_set_title(v, "the latest failed task");
		refresh_request(v, &k->rf);
		return 0;
	}
	char *end = NULL;
	long run = strtol(arg, &end, 10);
	while (end && *end == ' ')
		end++;
	if (run <= 0 || !end || !*end) {
		tui_error(v->t, "log: expected RUN TASK (a run id and a task name)");
		return -1;
	}
	k->run_id = run;
	k->task = xstrdup(end);
	k->jump_seq = -1;
	k->match_seq = -1;
	k->rf.send = send;
	k->rf.min_ms = 100;
	snprintf(v->title, sizeof v->title, "%s #%ld", k->task, run);
	refresh_request(v, &k->rf);
	char *cmd = act_batch_command(ACT_LOG, NULL, run, k->task, false, false, NULL, NULL);
	tui_status(v->t, "[%s]", cmd);
	free(cmd);
	return 0;
}

static void task_done(struct view *v)
{
	struct taskv *k = T(v);
	refresh_cancel(v, &k->rf);
	window_clear(k);
	free(k->task);
	ti_detail_free(&k->d);
	try_rows_free(k->tries, k->n_tries);
	rowpane_free(&k->fr);
	readspane_free(&k->rp);
	if (k->have_re)
		regfree(&k->re);
	free(k->pattern);
}

/* ---- drawing -------------------------------------------------------------------- */

/* The command a retry runs, on one line. */
static void spec_line(struct taskv *k, char *buf, size_t size)
{
	char *line = kind_spec_line(k->d.spec);
	snprintf(buf, size, "%s", line);
	free(line);
}

static void draw_info(struct view *v, struct rect r, int rows)
{
	struct taskv *k = T(v);
	struct tui *t = v->t;
	attr_t dim = style_attr(t, S_DIM), norm = style_attr(t, S_NORMAL);
	if (!k->have_d) {
		draw_text(r.y, r.x + 1, r.w - 2, tui_connected(t) ? "loading..." : "waiting for the state database...", dim);
		return;
	}
	struct ti_detail *d = &k->d;
	attr_t st = style_attr(t, state_style(d->state));
	int x = r.x + 1;
	x += draw_text(r.y, x, r.w - 2, d->task, norm | A_BOLD) + 2;
	x += draw_text(r.y, x, 2, state_glyph_str(t, d->state), st) + 1;
	x += draw_text(r.y, x, 20, d->state, st) + 2;
	draw_textf(r.y, x, r.x + r.w - x - 1, dim, "run %ld  %s  %s  (run %s)", d->run_id, d->pipeline, d->logical_date,
		   d->run_state);
	if (rows < 2)
		return;
	char s1[32], s2[32], dur[32], exitb[32] = "", worker[160] = "";
	fmt_ts_short(d->started_at, s1, sizeof s1);
	fmt_ts_short(d->ended_at, s2, sizeof s2);
	fmt_duration(d->duration_s, dur, sizeof dur);
	if (d->has_exit)
		snprintf(exitb, sizeof exitb, "  exit %d", d->exit_status);
	if (d->worker)
		snprintf(worker, sizeof worker, "  on %s%s%s", d->worker, d->host ? "@" : "", d->host ? d->host : "");
	/* max_tries is the budget since the last clear, not a cap on try numbers */
	draw_textf(r.y + 1, r.x + 1, r.w - 2, norm, "try %d (%d allowed)   started %s  ended %s  %s%s%s%s%s",
		   d->try_number, d->max_tries, d->started_at ? s1 : "-", d->ended_at ? s2 : "-", dur, exitb, worker,
		   d->next_try_at ? "  next try " : "", d->next_try_at ? d->next_try_at + 11 : "");
	int y = r.y + 2;
	if (rows >= 3) {
		if (d->error)
			draw_textf(y, r.x + 1, r.w - 2, style_attr(t, S_ERROR), "error: %s", d->error);
		else
			draw_text(y, r.x + 1, r.w - 2, "no error", dim);
		y++;
	}
	if (rows >= 4) {
		char spec[2048];
		spec_line(k, spec, sizeof spec);
		int lx = r.x + 1 + draw_text(y, r.x + 1, r.w - 2, "a retry runs: ", dim);
		draw_text(y, lx, r.x + r.w - lx - 1, spec, norm);
		y++;
	}
	if (rows >= 5) {
		int tx = r.x + 1 + draw_text(y, r.x + 1, r.w - 2, "tries:", dim) + 1;
		for (size_t i = 0; i < k->n_tries && tx < r.x + r.w - 8; i++) {
			const struct try_row *tr = &k->tries[i];
			bool here = tr->try_number == k->shown_try;
			attr_t a = here ? style_attr(t, S_SELECTED) : style_attr(t, state_style(tr->state));
			tx += draw_textf(y, tx, r.x + r.w - tx - 1, a, "#%d %s %s", tr->try_number, state_glyph_str(t, tr->state),
					 tr->state) + 2;
		}
		/* the current try when it has not finished */
		bool listed = false;
		for (size_t i = 0; i < k->n_tries; i++)
			listed |= k->tries[i].try_number == d->try_number;
		if (!listed && d->try_number > 0 && tx < r.x + r.w - 8) {
			bool here = d->try_number == k->shown_try;
			attr_t a = here ? style_attr(t, S_SELECTED) : st;
			draw_textf(y, tx, r.x + r.w - tx - 1, a, "#%d %s %s", d->try_number, state_glyph_str(t, d->state), d->state);
		}
		if (!k->n_tries && d->try_number == 0)
			draw_text(y, tx, r.x + r.w - tx - 1, "none yet", dim);
	}
}

/* Draws the matches of the search pattern in a drawn line segment. */
static void draw_matches(struct view *v, const char *line, int y, int x, int w, int col0)
{
	struct taskv *k = T(v);
	regmatch_t m;
	const char *p = line;
	int eflags = 0;
	while (*p && regexec(&k->re, p, 1, &m, eflags) == 0) {
		if (m.rm_eo == m.rm_so) {
			if (!p[m.rm_eo])
				break;
			p += m.rm_eo + 1;
			eflags = REG_NOTBOL;
			continue;
		}
		char *pre = xstrndup(line, (size_t)(p - line) + (size_t)m.rm_so);
		char *mt = xstrndup(p + m.rm_so, (size_t)(m.rm_eo - m.rm_so));
		int c = text_width(pre) - col0, mw = text_width(mt);
		if (c + mw > 0 && c < w) {
			int skip = c < 0 ? -c : 0;
			draw_text(y, x + c + skip, w - c - skip, mt + text_skip(mt, skip), style_attr(v->t, S_MATCH));
		}
		free(pre);
		free(mt);
		p += m.rm_eo;
		eflags = REG_NOTBOL;
	}
}

static void draw_separator(struct view *v, struct rect r, int sy, int first, int last)
{
	struct taskv *k = T(v);
	struct tui *t = v->t;
	attr_t bor = style_attr(t, S_BORDER);
	for (int i = 0; i < r.w; i++)
		draw_text(sy, r.x + i, 1, box_chars(t)->h, bor);
	char sep[256];
	snprintf(sep, sizeof sep, " log, try %d %s lines %d-%d of %d%s%s%s%s ", k->shown_try, box_chars(t)->v, first, last,
		 k->total, k->follow ? " | following" : "", k->wrap ? " | wrap" : "", k->pattern ? " | /" : "",
		 k->pattern ? k->pattern : "");
	draw_text(sy, r.x + 2, r.w - 4, sep, bor);
}

static void task_draw(struct view *v, struct rect r)
{
	struct taskv *k = T(v);
	struct tui *t = v->t;
	int ih = info_rows(v);
	if (ih > r.h - 3)
		ih = r.h - 3 > 1 ? r.h - 3 : 1;
	draw_info(v, r, ih - 1);
	int sy = r.y + ih - 1 + (ih > 1 ? 0 : 1);
	if (sy < r.y + 1)
		sy = r.y + 1;
	int ly = sy + 1, rows = r.y + r.h - ly;
	if (rows < 1)
		rows = 1;
	if (k->reads_mode) {
		attr_t bor = style_attr(t, S_BORDER);
		for (int i = 0; i < r.w; i++)
			draw_text(sy, r.x + i, 1, box_chars(t)->h, bor);
		draw_textf(sy, r.x + 2, r.w - 4, bor, " reads %s Esc: back ", box_chars(t)->v);
		readspane_draw(v, &k->rp, (struct rect){ly, r.x, rows, r.w});
		return;
	}
	if (!k->rows_chosen)
		k->rows_mode = rowpane_any(&k->fr);
	if (k->rows_mode) {
		attr_t bor = style_attr(t, S_BORDER);
		for (int i = 0; i < r.w; i++)
			draw_text(sy, r.x + i, 1, box_chars(t)->h, bor);
		draw_textf(sy, r.x + 2, r.w - 4, bor, " %s, try %d %s v: the log ", k->fr.src->what, k->shown_try,
			   box_chars(t)->v);
		rowpane_draw(v, &k->fr, (struct rect){ly, r.x, rows, r.w});
		return;
	}
	/* showing the end before (a resize, a wrap toggle): keep showing it */
	bool was_bottom = k->n && k->at_end && k->log_rows > 0 && k->top >= bottom_top(v, k->log_rows);
	k->log_rows = rows;
	if (!k->have_d || k->shown_try <= 0 || !k->n) {
		draw_separator(v, r, sy, 0, 0);
		if (k->have_d)
			draw_text(ly, r.x + 1, r.w - 2,
				  k->shown_try <= 0 ? "no log yet: the task has not started"
				  : k->busy	     ? "loading..."
						     : "the log is empty",
				  style_attr(t, S_DIM));
		return;
	}
	if ((k->follow || was_bottom) && k->at_end)
		k->top = bottom_top(v, rows);
	if (k->top >= (int)k->n)
		k->top = (int)k->n - 1;
	int gw = gutter(k);
	int tw = r.w - gw - 1;
	int y = ly, last_seq = k->lines[k->top].seq;
	for (int i = k->top; i < (int)k->n && y < ly + rows; i++) {
		const struct log_row *l = &k->lines[i];
		last_seq = l->seq;
		bool cur = l->seq == k->match_seq;
		attr_t ga = cur ? style_attr(t, S_MATCH) : style_attr(t, S_DIM);
		draw_textf(y, r.x, gw - 1, ga, "%*d", gw - 2, l->seq + 1);
		attr_t la = l->stream == 'e' ? style_attr(t, S_STDERR) : style_attr(t, S_NORMAL);
		if (!k->wrap) {
			const char *s = l->line + text_skip(l->line, k->hscroll);
			draw_text(y, r.x + gw, tw, s, la);
			if (k->have_re)
				draw_matches(v, l->line, y, r.x + gw, tw, k->hscroll);
			y++;
		} else {
			int col = 0;
			const char *s = l->line;
			size_t off;
			do {
				off = text_skip(s, tw);
				char *part = xstrndup(s, off ? off : strlen(s));
				draw_text(y, r.x + gw, tw, part, la);
				if (k->have_re)
					draw_matches(v, l->line, y, r.x + gw, tw, col);
				col += text_width(part);
				free(part);
				s += off;
				y++;
			} while (*s && off && y < ly + rows);
		}
	}
	draw_separator(v, r, sy, k->lines[k->top].seq + 1, last_seq + 1);
	/* scrolled to the edge of the window: fetch the next page */
	if (k->top == 0 && !k->at_start)
		request_log(v, LR_OLDER, 0);
	if (y < ly + rows && !k->at_end)
		request_log(v, LR_NEWER, 0);
}

/* ---- search --------------------------------------------------------------------- */

static void on_found(void *owner, struct pg_result *r, const char *error, long arg)
{
	struct view *v = owner;
	struct taskv *k = T(v);
	if (!r) {
		tui_error(v->t, "search: %s", error);
		return;
	}
	int seq = query_log_find_parse(r);
	if (seq < 0) {
		tui_error(v->t, "/%s: no %s match", k->pattern, arg ? "further" : "earlier");
		return;
	}
	k->follow = false;
	k->jump_seq = seq;
	request_log(v, LR_AT, seq > PAGE / 2 ? seq - PAGE / 2 : 0);
	tui_status(v->t, "/%s: line %d", k->pattern, seq + 1);
}

static void search(struct view *v, bool forward)
{
	struct taskv *k = T(v);
	if (!k->have_re) {
		tui_error(v->t, "no search yet: / searches the log");
		return;
	}
	if (!k->n) {
		return;
	}
	int from = k->match_seq >= 0 ? k->match_seq : k->lines[k->top].seq - (forward ? 1 : 0);
	int i = index_of_seq(k, from);
	if (i < 0)
		i = forward ? -1 : (int)k->n;
	for (int j = forward ? i + 1 : i - 1; j >= 0 && j < (int)k->n; j += forward ? 1 : -1) {
		if (regexec(&k->re, k->lines[j].line, 0, NULL, 0) == 0) {
			k->match_seq = k->lines[j].seq;
			int rows = k->log_rows;
			if (j < k->top || j >= k->top + rows)
				k->top = j > rows / 2 ? j - rows / 2 : 0;
			k->follow = false;
			v->dirty = true;
			tui_status(v->t, "/%s: line %d", k->pattern, k->match_seq + 1);
			return;
		}
	}
	/* not in the window: ask the database, from the window's edge */
	if ((forward && k->at_end) || (!forward && k->at_start)) {
		tui_error(v->t, "/%s: no %s match", k->pattern, forward ? "further" : "earlier");
		return;
	}
	struct query q;
	int edge = forward ? k->lines[k->n - 1].seq : k->lines[0].seq;
	query_log_find(&q, k->d.id, k->shown_try, edge, forward, k->pattern, filter_icase(k->pattern));
	tui_query(v, &q, on_found, forward);
	tui_status(v->t, "searching the log for /%s...", k->pattern);
}

/* ---- keys ------------------------------------------------------------------------- */

static void scroll_by(struct view *v, int delta)
{
	struct taskv *k = T(v);
	int maxtop = bottom_top(v, k->log_rows);
	k->top += delta;
	if (k->top < 0)
		k->top = 0;
	if (k->at_end && k->top > maxtop)
		k->top = maxtop;
	if (k->top >= (int)k->n)
		k->top = k->n ? (int)k->n - 1 : 0;
	if (delta < 0)
		k->follow = false;
}

/* ---- the x-ray ---------------------------------------------------------------------- */

/* The try that failed last: the current one unless an earlier one failed
 * and this one has not (a retry that runs or passed); 0 none started. */
static int failing_try(const struct taskv *k)
{
	if (!k->have_d)
		return 0;
	if (!strcmp(k->d.state, "failed") || !strcmp(k->d.state, "up_for_retry"))
		return k->d.try_number;
	int n = 0;
	for (size_t i = 0; i < k->n_tries; i++)
		if (!strcmp(k->tries[i].state, "failed") && k->tries[i].try_number > n)
			n = k->tries[i].try_number;
	return n ? n : k->d.try_number;
}

/* Shows try n (unless it is shown), pinned when it is not the current. */
static void pick_try(struct view *v, int n)
{
	struct taskv *k = T(v);
	if (n == k->shown_try)
		return;
	k->pinned = n != k->d.try_number;
	k->follow = false;
	show_try(v, n);
}

/* e: the end of the failing try's log, its error and exit on the status line. */
static void xray_tail(struct view *v)
{
	struct taskv *k = T(v);
	int n = failing_try(k);
	if (n <= 0) {
		tui_error(v->t, "no log yet: the task has not started");
		return;
	}
	k->reads_mode = false;
	k->rows_mode = false;
	k->rows_chosen = true;
	if (n != k->shown_try) {
		pick_try(v, n);
	} else if (k->at_end) {
		k->top = bottom_top(v, k->log_rows);
	} else {
		k->want_bottom = true;
		request_log(v, LR_TAIL, 0);
	}
	const char *error = k->d.error;
	bool has_exit = k->d.has_exit;
	int status = k->d.exit_status;
	for (size_t i = 0; i < k->n_tries; i++)
		if (k->tries[i].try_number == n && n != k->d.try_number) {
			error = k->tries[i].error;
			has_exit = k->tries[i].has_exit;
			status = k->tries[i].exit_status;
		}
	char exitb[32] = "";
	if (has_exit)
		snprintf(exitb, sizeof exitb, ", exit %d", status);
	if (error)
		tui_error(v->t, "try %d%s: %s", n, exitb, error);
	else
		tui_status(v->t, "try %d%s: no error recorded; the end of its log", n, exitb);
}

/* b: the failing try's rejects (a load) or failing rows (a check). */
static void xray_rows(struct view *v)
{
	struct taskv *k = T(v);
	if (!k->src) {
		tui_error(v->t, "no bad rows: a load keeps its rejects and a check its failing rows, %s is neither", k->task);
		return;
	}
	k->reads_mode = false;
	k->rows_mode = true;
	k->rows_chosen = true;
	int n = failing_try(k);
	if (n > 0)
		pick_try(v, n);
	tui_status(v->t, "the %s of try %d  (v: the log, R: the rejects view)", k->src->what, k->shown_try);
}

static void xray_reads(struct view *v)
{
	struct taskv *k = T(v);
	if (!k->have_d) {
		tui_error(v->t, "reads: the task instance is still loading");
		return;
	}
	k->reads_mode = true;
	k->rp.run_id = k->run_id;
	readspane_load(v, &k->rp, k->d.spec);
	tui_status(v->t, "the tables %s reads, and who wrote them last  (Enter: that task, u: upstream, Esc: back)",
		   k->task);
}

/* Opens the task of the run that last wrote what this one reads; else its
 * upstream in the DAG; else the last writer in another run. */
static void go_upstream(struct view *v)
{
	struct taskv *k = T(v);
	const struct read_row *w = readspane_writer(&k->rp, k->run_id);
	if (w && strcmp(w->task, k->task)) {
		char *what = xasprintf("%s last wrote %s.%s, at %s", w->task, w->schema, w->table, w->written_at);
		view_open_task(v, k->run_id, w->task);
		tui_status(v->t, "%s", what);
		free(what);
		return;
	}
	const struct pipeline *pl = project_pipeline(tui_project(v->t), k->d.pipeline);
	const struct task_def *td = pl ? pipeline_task(pl, k->task) : NULL;
	if (td && td->n_depends) {
		char *what = xasprintf("no table %s reads was written in run %ld: its upstream in the DAG, %s", k->task,
				       k->run_id, td->depends_on[0]);
		view_open_task(v, k->run_id, td->depends_on[0]);
		tui_status(v->t, "%s", what);
		free(what);
		return;
	}
	w = readspane_writer(&k->rp, 0);
	if (w) {
		char *what = xasprintf("%s of run %ld last wrote %s.%s, at %s", w->task, w->run_id, w->schema, w->table,
				       w->written_at);
		view_open_task(v, w->run_id, w->task);
		tui_status(v->t, "%s", what);
		free(what);
		return;
	}
	tui_error(v->t, "%s has no upstream: no table it reads was written by sluice, and it depends on no task", k->task);
}

static void upstream_ready(struct view *v)
{
	struct taskv *k = T(v);
	if (!k->want_upstream)
		return;
	k->want_upstream = false;
	/* the user went elsewhere meanwhile: no jump from under them */
	if (tui_top(v->t) == v)
		go_upstream(v);
}

/* u: the writers are asked first when they are not known yet. */
static void xray_upstream(struct view *v)
{
	struct taskv *k = T(v);
	if (!k->have_d) {
		tui_error(v->t, "upstream: the task instance is still loading");
		return;
	}
	k->rp.on_ready = upstream_ready;
	if (k->rp.loaded && !k->rp.asking) {
		go_upstream(v);
		return;
	}
	k->want_upstream = true;
	tui_status(v->t, "looking up what %s reads and who wrote it...", k->task);
	if (!k->rp.loaded) {
		k->rp.run_id = k->run_id;
		readspane_load(v, &k->rp, k->d.spec);
	}
}

static int xray_key(struct view *v, int key, int a)
{
	struct taskv *k = T(v);
	switch (a) {
	case ACT_XR_TAIL: xray_tail(v); return H_HANDLED | H_REDRAW;
	case ACT_XR_ROWS: xray_rows(v); return H_HANDLED | H_REDRAW;
	case ACT_XR_READS: xray_reads(v); return H_HANDLED | H_REDRAW;
	case ACT_XR_UPSTREAM: xray_upstream(v); return H_HANDLED | H_REDRAW;
	case ACT_REJECTS: {
		/* a load's own; any other task's run's, by the frame */
		if (k->src != &reject_rows_src)
			return H_IGNORED;
		char arg[300];
		snprintf(arg, sizeof arg, "%ld %s", k->run_id, k->task);
		tui_push(v->t, &rejects_ops, arg);
		return H_HANDLED;
	}
	default: break;
	}
	if (!k->reads_mode)
		return H_IGNORED;
	if (a == ACT_BACK) {
		k->reads_mode = false;
		return H_HANDLED | H_REDRAW;
	}
	if (a < 0 && key == TK_ENTER) {
		const struct read_row *r = readspane_selected(&k->rp);
		if (r && r->found == 1)
			view_open_task(v, r->run_id, r->task);
		else
			tui_error(v->t, "no writer of that table recorded");
		return H_HANDLED;
	}
	switch (a) {
	case ACT_FOLLOW:
	case ACT_WRAP:
	case ACT_NEXT_MATCH:
	case ACT_PREV_MATCH:
	case ACT_PREV_TRY:
	case ACT_NEXT_TRY:
		/* a key of the log: back to it, where the key acts */
		k->reads_mode = false;
		v->dirty = true;
		return H_IGNORED;
	default:
		return readspane_key(v, &k->rp, a);
	}
}

static int task_key(struct view *v, int key, int a)
{
	struct taskv *k = T(v);
	int page = k->log_rows > 1 ? k->log_rows - 1 : 1;
	int h = xray_key(v, key, a);
	if (h != H_IGNORED)
		return h;
	if (a == ACT_ROWS) {
		k->reads_mode = false;
		if (!k->fr.src || !k->fr.have_sum) {
			tui_error(v->t, "no rows for this try: it is not a check or a load, or it has not ended");
			return H_HANDLED;
		}
		k->rows_mode = !k->rows_mode;
		k->rows_chosen = true;
		tui_status(v->t, "%s", k->rows_mode ? k->fr.src->what : "log");
		return H_HANDLED | H_REDRAW;
	}
	if (k->rows_mode) {
		h = rowpane_key(v, &k->fr, a);
		if (h != H_IGNORED)
			return h;
		if (a == ACT_FOLLOW) {
			k->rows_mode = false;
			k->rows_chosen = true;
		}
	}
	switch (a) {
	case ACT_UP: scroll_by(v, -1); break;
	case ACT_DOWN: scroll_by(v, 1); break;
	case ACT_PGUP: scroll_by(v, -page); break;
	case ACT_PGDN: scroll_by(v, page); break;
	case ACT_TOP:
		k->follow = false;
		if (k->at_start)
			k->top = 0;
		else
			request_log(v, LR_AT, 0);
		break;
	case ACT_BOTTOM:
		if (k->at_end)
			k->top = bottom_top(v, k->log_rows);
		else {
			k->want_bottom = true;
			request_log(v, LR_TAIL, 0);
		}
		break;
	case ACT_LEFT:
		if (!k->wrap)
			k->hscroll = k->hscroll > 8 ? k->hscroll - 8 : 0;
		break;
	case ACT_RIGHT:
		if (!k->wrap)
			k->hscroll += 8;
		break;
	case ACT_FOLLOW:
		k->follow = !k->follow;
		if (k->follow) {
			if (k->have_d && !k->pinned && k->d.try_number > 0 && k->shown_try != k->d.try_number)
				show_try(v, k->d.try_number);
			else if (k->at_end)
				k->top = bottom_top(v, k->log_rows);
			else {
				k->want_bottom = true;
				request_log(v, LR_TAIL, 0);
			}
			char *cmd = act_batch_command(ACT_FOLLOW, NULL, k->run_id, k->task, false, false, NULL, NULL);
			tui_status(v->t, "following the log  [%s]", cmd);
			free(cmd);
		} else {
			tui_status(v->t, "stopped following");
		}
		break;
	case ACT_WRAP:
		k->wrap = !k->wrap;
		k->hscroll = 0;
		tui_status(v->t, "wrap %s", k->wrap ? "on" : "off");
		break;
	case ACT_NEXT_MATCH: search(v, true); break;
	case ACT_PREV_MATCH: search(v, false); break;
	case ACT_PREV_TRY:
	case ACT_NEXT_TRY: {
		int n = k->shown_try + (a == ACT_NEXT_TRY ? 1 : -1);
		if (!k->have_d || n < 1 || n > k->d.try_number) {
			tui_error(v->t, "no try %d (tries 1-%d)", n, k->have_d ? k->d.try_number : 0);
			return H_HANDLED;
		}
		k->pinned = n != k->d.try_number;
		k->follow = false;
		show_try(v, n);
		break;
	}
	default:
		return H_IGNORED;
	}
	return H_HANDLED | H_REDRAW;
}

static int task_input(struct view *v, int action, const char *text)
{
	struct taskv *k = T(v);
	if (action == ACT_FIND || action == ACT_NEXT_TRY)
		k->reads_mode = false; /* a search or a try: of the log */
	if (action == ACT_NEXT_TRY) {
		int n = atoi(text);
		if (!k->have_d || n < 1 || n > k->d.try_number) {
			tui_error(v->t, ":try %s: tries are 1-%d", text, k->have_d ? k->d.try_number : 0);
			return H_HANDLED;
		}
		k->pinned = n != k->d.try_number;
		k->follow = false;
		show_try(v, n);
		return H_HANDLED | H_REDRAW;
	}
	if (action != ACT_FIND)
		return H_IGNORED;
	if (!*text) {
		if (k->have_re)
			regfree(&k->re);
		k->have_re = false;
		free(k->pattern);
		k->pattern = NULL;
		k->match_seq = -1;
		return H_HANDLED | H_REDRAW;
	}
	regex_t re;
	struct err e = {0};
	if (filter_compile(&re, text, false, &e) < 0) {
		tui_error(v->t, "%s", e.msg);
		return H_HANDLED;
	}
	if (k->have_re)
		regfree(&k->re);
	k->re = re;
	k->have_re = true;
	free(k->pattern);
	k->pattern = xstrdup(text);
	k->match_seq = -1;
	search(v, true);
	return H_HANDLED | H_REDRAW;
}

static void task_event(struct view *v, enum tui_event ev, long arg)
{
	struct taskv *k = T(v);
	switch (ev) {
	case EV_STATE_CHANGED:
		if (arg == 0 || arg == k->run_id)
			refresh_request(v, &k->rf);
		break;
	case EV_LOG_ADDED:
		if (k->have_d && arg == k->d.id && k->shown_try == k->d.try_number) {
			if (k->at_end)
				request_log(v, LR_NEWER, 0);
			else
				request_log(v, LR_SPAN, 0);
		}
		break;
	case EV_CONNECTED:
	case EV_SHOWN:
		refresh_request(v, &k->rf);
		if (k->have_d && k->at_end)
			request_log(v, LR_NEWER, 0);
		break;
	case EV_DISCONNECTED:
		k->busy = false;
		break;
	default:
		break;
	}
}

static bool task_selected(struct view *v, struct tui_sel *s)
{
	struct taskv *k = T(v);
	s->run_id = k->run_id;
	s->task = k->task;
	if (k->have_d) {
		s->pipeline = k->d.pipeline;
		s->ti = k->d.id;
		s->state = k->d.state;
	}
	return true;
}

const struct view_ops task_ops = {
	.name = "task",
	.priv_size = sizeof(struct taskv),
	.open = task_open,
	.draw = task_draw,
	.handle_key = task_key,
	.on_event = task_event,
	.on_input = task_input,
	.selected = task_selected,
	.done = task_done,
};
