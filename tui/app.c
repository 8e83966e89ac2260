/* The console's frame: start-up and shutdown, signals through a self-pipe,
 * the state-store connection, the header, the status line with its `:` and
 * `/` prompts, the key-hint bar and the stack of views. The loop alone
 * draws, once per wake-up, in its before-sleep hook. */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) && defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_DEATH_CALLBACK 1
#endif
#endif

#include "base/util.h"
#include "core/scheduler.h"
#include "tui/app.h"
#include "tui/filter.h"

_Static_assert(TK_DOWN == KEY_DOWN && TK_UP == KEY_UP && TK_LEFT == KEY_LEFT && TK_RIGHT == KEY_RIGHT &&
		       TK_HOME == KEY_HOME && TK_END == KEY_END && TK_NPAGE == KEY_NPAGE &&
		       TK_PPAGE == KEY_PPAGE && TK_BACKSPACE == KEY_BACKSPACE && TK_F1 == KEY_F(1),
	       "tui/actions.h key codes match curses");

#define HEADER_ROWS 2
#define FOOTER_ROWS 2

/* The terminal is restored from a signal handler when things go wrong. */
static volatile sig_atomic_t curses_on;
static int sig_wfd = -1;
/* SLUICE_CONSOLE_TRACE=FILE appends timings to FILE: the first frame after
 * start, and each keystroke to its frame (for measuring, not for users). */
static FILE *trace_file;
static int64_t t_start, t_boot, t_key, t_notify;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- signals ------------------------------------------------------------------ */

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (sig_wfd >= 0 && write(sig_wfd, &b, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

static void on_fatal(int sig)
{
	if (curses_on)
		endwin();
	signal(sig, SIG_DFL);
	raise(sig);
}

#ifdef HAVE_SANITIZER_DEATH_CALLBACK
/* A sanitizer that stops the process exits without a signal: give the
 * terminal back first so its report is readable. */
static void on_sanitizer_death(void)
{
	if (curses_on)
		endwin();
	curses_on = 0;
}
#endif

static void install_signals(struct tui *t)
{
#ifdef HAVE_SANITIZER_DEATH_CALLBACK
	__sanitizer_set_death_callback(on_sanitizer_death);
#endif
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	static const int wake[] = {SIGWINCH, SIGCHLD, SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof wake / sizeof wake[0]; i++)
		sigaction(wake[i], &sa, NULL);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- the view stack ------------------------------------------------------------- */

struct view *tui_top(struct tui *t)
{
	return t->depth ? t->stack[t->depth - 1] : NULL;
}

void view_dirty(struct view *v)
{
	v->dirty = true;
}

struct rect tui_body(struct tui *t)
{
	(void)t;
	struct rect r = {HEADER_ROWS, 0, LINES - HEADER_ROWS - FOOTER_ROWS, COLS};
	if (r.h < 1)
		r.h = 1;
	return r;
}

bool tui_connected(struct tui *t)
{
	return db_state(t->db) == DB_READY;
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

static void header_dirty(struct tui *t)
{
	t->dirty_header = true;
	t->dirty_hints = true;
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

int tui_query(struct view *v, const struct query *q, db_result_fn fn, long arg)
{
	return db_send(v->t->db, q, v, fn, arg);
}

/* ---- refresh ------------------------------------------------------------------------ */

/* A view that refreshes keeps its struct refresh first in its private
 * state, so the timer needs only the view. */
static void refresh_fire(struct loop *l, long id, void *data)
{
	struct view *v = data;
	struct refresh *r = v->priv;
	r->timer = 0;
	refresh_request(v, r);
}

void refresh_request(struct view *v, struct refresh *r)
{
	if (!tui_connected(v->t))
		return;
	if (r->out > 0) {
		r->again = true;
		return;
	}
	int64_t now = now_ms();
	int min = r->min_ms > 0 ? r->min_ms : 100;
	if (r->last && now - r->last < min) {
		if (!r->timer)
			r->timer = loop_timer_add(v->t->loop, min - (now - r->last), refresh_fire, v);
		return;
	}
	if (r->timer) {
		loop_timer_del(v->t->loop, r->timer);
		r->timer = 0;
	}
	r->again = false;
	r->last = now;
	r->send(v);
}

void refresh_send(struct view *v, struct refresh *r, const struct query *q, db_result_fn fn, long arg)
{
	if (tui_query(v, q, fn, arg) == 0)
		r->out++;
}

void refresh_done(struct view *v, struct refresh *r)
{
	if (r->out > 0)
		r->out--;
	if (r->out == 0 && r->again)
		refresh_request(v, r);
}

void refresh_cancel(struct view *v, struct refresh *r)
{
	if (r->timer)
		loop_timer_del(v->t->loop, r->timer);
	r->timer = 0;
	r->out = 0;
	r->again = false;
}

/* ---- status line ---------------------------------------------------------------------- */

static void vstatus(struct tui *t, bool err, const char *fmt, va_list ap)
{
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	for (char *p = t->status; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	t->status_err = err;
	t->status_progress = false;
	t->dirty_status = true;
}

void tui_status(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vstatus(t, false, fmt, ap);
	va_end(ap);
}

void tui_error(struct tui *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vstatus(t, true, fmt, ap);
	va_end(ap);
}

void tui_prompt(struct tui *t, int action, const char *initial)
{
	t->prompt = action;
	snprintf(t->input, sizeof t->input, "%s", initial ? initial : "");
	t->cur = strlen(t->input);
	t->completions[0] = '\0';
	t->dirty_status = true;
	t->dirty_hints = true;
}

/* ---- header ----------------------------------------------------------------------------- */

static void on_workers(void *owner, PGresult *r, const char *error, long arg)
{
	struct tui *t = owner;
	t->header_query_out = false;
	t->workers = r ? query_live_workers_parse(r) : -1;
	t->dirty_header = true;
}

static void header_refresh_now(struct tui *t)
{
	t->runner_pid = runner_pid(&t->ctx);
	t->header_last = now_ms();
	t->dirty_header = true;
	if (!tui_connected(t) || t->header_query_out)
		return;
	struct query q;
	double within = t->ctx.proj->heartbeat_timeout > 0 ? t->ctx.proj->heartbeat_timeout : 15;
	query_live_workers(&q, within);
	if (db_send(t->db, &q, t, on_workers, 0) == 0)
		t->header_query_out = true;
}

static void header_timer_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->header_timer = 0;
	header_refresh_now(t);
}

/* The runner and worker count change without notifications of their own:
 * look again when runs move, at most once a second. */
static void header_refresh(struct tui *t)
{
	int64_t since = now_ms() - t->header_last;
	if (since >= 1000) {
		header_refresh_now(t);
	} else if (!t->header_timer) {
		t->header_timer = loop_timer_add(t->loop, 1000 - since, header_timer_fire, t);
	}
}

static void draw_header(struct tui *t)
{
	attr_t h = style_attr(t, S_HEADER);
	draw_fill(0, 0, COLS, h);
	char buf[1024];
	const struct box_chars *b = box_chars(t);
	char runner[96];
	if (t->runner_pid > 0 && t->workers >= 0)
		snprintf(runner, sizeof runner, "runner %d, %d worker%s", t->runner_pid, t->workers, t->workers == 1 ? "" : "s");
	else if (t->runner_pid > 0)
		snprintf(runner, sizeof runner, "runner %d", t->runner_pid);
	else if (t->workers > 0)
		snprintf(runner, sizeof runner, "no runner, %d worker%s", t->workers, t->workers == 1 ? "" : "s");
	else
		snprintf(runner, sizeof runner, "no runner");
	if (!t->state_addr)
		t->state_addr = t->ctx.svc.embedded_pg ? xstrdup("embedded") : services_mask_address(t->ctx.svc.state_conninfo);
	char state[300];
	switch (db_state(t->db)) {
	case DB_READY:
		snprintf(state, sizeof state, "state %s", t->state_addr);
		break;
	case DB_CONNECTING:
		snprintf(state, sizeof state, "state: connecting");
		break;
	default:
		snprintf(state, sizeof state, "state: %s", t->db_msg[0] ? t->db_msg : "waiting");
		break;
	}
	const char *target = t->ctx.proj->target ? t->ctx.proj->target : "default";
	snprintf(buf, sizeof buf, " sluice %s %s %s target %s %s %s %s %s%s", b->v, t->ctx.proj->name, b->v, target,
		 b->v, runner, b->v, state, t->readonly ? "  [read-only]" : "");
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char clock[16];
	strftime(clock, sizeof clock, "%H:%M", &tm);
	int cw = (int)strlen(clock) + 2;
	draw_text(0, 0, COLS - cw, buf, h);
	draw_text(0, COLS - cw + 1, cw - 1, clock, h);

	/* breadcrumbs, and the top view's filter */
	attr_t c = style_attr(t, S_CRUMBS);
	draw_fill(1, 0, COLS, c);
	struct strbuf s = {0};
	sb_addc(&s, ' ');
	for (int i = 0; i < t->depth; i++) {
		if (i)
			sb_addf(&s, " %s ", b->sep);
		sb_adds(&s, t->stack[i]->title);
	}
	draw_text(1, 0, COLS, s.s, c);
	sb_free(&s);
}

static void draw_hints(struct tui *t)
{
	int y = LINES - 1;
	attr_t h = style_attr(t, S_HINT), k = style_attr(t, S_HINT_KEY);
	draw_fill(y, 0, COLS, h);
	struct view *v = tui_top(t);
	unsigned kind = v ? v->ops->kind : VK_ALL;
	int x = 1;
	if (t->prompt >= 0) {
		const char *hint = t->prompt == ACT_COMMAND ? "Enter: run   Tab: complete   Esc: cancel"
						       : "Enter: apply   Esc: cancel   (POSIX ERE; a leading ! inverts)";
		draw_text(y, x, COLS - 2, hint, h);
		return;
	}
	for (int i = 0; i < ACT_COUNT && x < COLS - 2; i++) {
		const struct action_info *ai = action_info((enum action)i);
		if (!(ai->flags & AF_HINT) || !(ai->views & kind))
			continue;
		if (t->readonly && (ai->flags & AF_WRITE))
			continue;
		char kb[16];
		const char *label = key_label(ai->key, kb, sizeof kb);
		const char *word = ai->command ? ai->command : i == ACT_COMMAND ? "cmd" : i == ACT_OPEN ? "open" : "";
		if (i == ACT_QUIT)
			word = t->depth > 1 ? "back" : "quit";
		if (x + text_width(label) + (int)strlen(word) + 3 > COLS - 1)
			break;
		x += draw_text(y, x, COLS - x, label, k);
		x += draw_text(y, x, COLS - x, ":", h);
		x += draw_text(y, x, COLS - x, word, h);
		x += 2;
	}
}

static void draw_status(struct tui *t)
{
	int y = LINES - 2;
	draw_fill(y, 0, COLS, style_attr(t, S_NORMAL));
	if (t->prompt >= 0) {
		const char *lead = t->prompt == ACT_COMMAND ? ":" : "/";
		int x = draw_text(y, 0, COLS, lead, style_attr(t, S_STATUS) | A_BOLD);
		/* keep the cursor in view on long input */
		char before[sizeof t->input];
		snprintf(before, sizeof before, "%.*s", (int)t->cur, t->input);
		int bw = text_width(before), room = COLS - x - 1;
		size_t skip = bw > room ? text_skip(t->input, bw - room) : 0;
		draw_text(y, x, room, t->input + skip, style_attr(t, S_STATUS));
		t->cur_y = y;
		t->cur_x = x + text_width(before) - (bw > room ? bw - room : 0);
		if (t->completions[0]) {
			int used = x + text_width(t->input) + 3;
			if (used < COLS - 10)
				draw_text(y, used, COLS - used, t->completions, style_attr(t, S_DIM));
		}
		return;
	}
	draw_text(y, 0, COLS, t->status, style_attr(t, t->status_err ? S_ERROR : S_STATUS));
}

/* ---- drawing, once per wake-up ------------------------------------------------------------ */

static void render(struct tui *t)
{
	struct view *v = tui_top(t);
	bool body = t->dirty_all || (v && v->dirty);
	if (!body && !t->dirty_header && !t->dirty_status && !t->dirty_hints)
		return;
	t->cur_y = t->cur_x = -1;
	if (LINES < 8 || COLS < 30) {
		erase();
		draw_text(0, 0, COLS, "sluice: the terminal is too small", A_BOLD);
		wnoutrefresh(stdscr);
		doupdate();
		t->dirty_all = t->dirty_header = t->dirty_status = t->dirty_hints = false;
		return;
	}
	if (t->dirty_all) {
		erase();
		t->dirty_header = t->dirty_status = t->dirty_hints = true;
	}
	if (t->dirty_header)
		draw_header(t);
	if (body && v) {
		struct rect r = tui_body(t);
		attr_t n = style_attr(t, S_NORMAL);
		for (int i = 0; i < r.h; i++)
			draw_fill(r.y + i, 0, COLS, n);
		v->ops->draw(v, r);
		v->dirty = false;
		if (trace_file && t_notify && !t_key) {
			/* the body redrawn since a notification: its data is in */
			fprintf(trace_file, "notify_to_frame_ms %.3f\n", (double)(now_us() - t_notify) / 1000.0);
			fflush(trace_file);
			t_notify = 0;
		}
		if (t->modal)
			modal_draw(t, t->modal);
	}
	if (t->dirty_status || t->prompt >= 0)
		draw_status(t);
	if (t->dirty_hints)
		draw_hints(t);
	if (t->modal && !body && t->modal->n_fields) {
		/* keep the cursor where the form's field is */
		modal_draw(t, t->modal);
	}
	if (t->cur_y >= 0) {
		move(t->cur_y, t->cur_x);
		curs_set(1);
	} else {
		curs_set(0);
	}
	t->dirty_all = t->dirty_header = t->dirty_status = t->dirty_hints = false;
	wnoutrefresh(stdscr);
	doupdate();
	if (trace_file && t_start) {
		fprintf(trace_file, "first_frame_ms %lld\n", (long long)(now_ms() - t_start));
		fflush(trace_file);
	}
	if (trace_file && t_key) {
		fprintf(trace_file, "key_ms %.3f\n", (double)(now_us() - t_key) / 1000.0);
		fflush(trace_file);
	}
	t_start = 0;
	t_key = 0;
}

/* ---- notifications ----------------------------------------------------------------------------- */

static void add_id(long **v, size_t *n, size_t *cap, long id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = id;
}

static void on_notify(void *data, const char *payload)
{
	struct tui *t = data;
	if (trace_file && !t_notify)
		t_notify = now_us();
	if (!strncmp(payload, "run ", 4) || !strncmp(payload, "runstate ", 9)) {
		long id = atol(strchr(payload, ' ') + 1);
		if (t->n_changed >= 64)
			t->changed_many = true;
		else
			add_id(&t->changed_runs, &t->n_changed, &t->cap_changed, id);
	} else if (!strncmp(payload, "log ", 4)) {
		long id = atol(payload + 4);
		if (t->n_logs < 256)
			add_id(&t->changed_logs, &t->n_logs, &t->cap_logs, id);
	}
}

/* Hands the notifications of this wake-up to the top view, coalesced. */
static void deliver_events(struct tui *t)
{
	if (!t->n_changed && !t->changed_many && !t->n_logs)
		return;
	struct view *v = tui_top(t);
	if (v && v->ops->on_event) {
		if (t->changed_many)
			v->ops->on_event(v, EV_STATE_CHANGED, 0);
		else
			for (size_t i = 0; i < t->n_changed; i++)
				v->ops->on_event(v, EV_STATE_CHANGED, t->changed_runs[i]);
		for (size_t i = 0; i < t->n_logs; i++)
			v->ops->on_event(v, EV_LOG_ADDED, t->changed_logs[i]);
	}
	if (t->n_changed || t->changed_many)
		header_refresh(t);
	t->n_changed = t->n_logs = 0;
	t->changed_many = false;
}

static void before_sleep(struct loop *l, void *data)
{
	struct tui *t = data;
	deliver_events(t);
	if (t->quit) {
		loop_stop(l);
		return;
	}
	render(t);
}

/* ---- the connection ------------------------------------------------------------------------- */

static void start_prepare(struct tui *t);

static void reconnect_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->reconnect_timer = 0;
	db_connect(t->db, t->ctx.svc.state_conninfo);
}

static void prepare_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	t->reconnect_timer = 0;
	start_prepare(t);
}

static void on_db_state(void *data, enum db_state st, const char *msg)
{
	struct tui *t = data;
	struct view *v = tui_top(t);
	header_dirty(t);
	if (st == DB_READY) {
		t->db_msg[0] = '\0';
		t->reconnect_ms = 500;
		if (trace_file) {
			fprintf(trace_file, "connected_ms %lld\n", (long long)(now_ms() - t_boot));
			fflush(trace_file);
		}
		header_refresh_now(t);
		if (v && v->ops->on_event)
			v->ops->on_event(v, EV_CONNECTED, 0);
		if (t->status_progress)
			tui_status(t, "%s", "");
		return;
	}
	if (st == DB_DOWN) {
		snprintf(t->db_msg, sizeof t->db_msg, "down");
		if (v && v->ops->on_event)
			v->ops->on_event(v, EV_DISCONNECTED, 0);
		if (!t->reconnect_timer) {
			int ms = t->reconnect_ms > 0 ? t->reconnect_ms : 500;
			t->reconnect_ms = ms * 2 > 5000 ? 5000 : ms * 2;
			t->reconnect_timer = loop_timer_add(t->loop, ms, reconnect_fire, t);
			tui_error(t, "state database: %s; retrying in %.1fs", msg, ms / 1000.0);
		}
	}
}

/* In a child: start the embedded services if they are down, and make sure
 * the schema is there (migrations), so the parent only has to connect. */
static void prepare_body(struct sctx *c, void *arg, int fd)
{
	struct err e = {0};
	if (c->svc.embedded_pg || c->svc.embedded_redis) {
		bool pg = false, rd = false;
		services_status(c->proj, &pg, &rd);
		if ((c->svc.embedded_pg && !pg) || (c->svc.embedded_redis && !rd)) {
			job_say(fd, "starting the embedded PostgreSQL and Redis...");
			if (services_up(c->proj, true, &e) < 0) {
				json_t *a = json_pack("{s:b,s:s}", "ok", 0, "error", e.msg);
				job_reply(fd, a);
				json_decref(a);
				return;
			}
		}
	}
	job_say(fd, "connecting to the state database...");
	struct store s = {0};
	int rc = store_open(&s, c->svc.state_conninfo, c->proj->name, &e);
	if (rc == 0)
		store_close(&s);
	json_t *a = json_pack("{s:b,s:s}", "ok", rc == 0, "error", rc == 0 ? "" : e.msg);
	job_reply(fd, a);
	json_decref(a);
}

static void prepare_status(struct tui *t, const char *line, void *arg)
{
	snprintf(t->db_msg, sizeof t->db_msg, "%s", strncmp(line, "starting", 8) ? "connecting" : "starting services");
	tui_status(t, "%s", line);
	t->status_progress = true;
	header_dirty(t);
}

static void prepare_done(struct tui *t, json_t *out, void *arg)
{
	if (out && json_is_true(json_object_get(out, "ok"))) {
		snprintf(t->db_msg, sizeof t->db_msg, "connecting");
		db_connect(t->db, t->ctx.svc.state_conninfo);
		return;
	}
	const char *e = out ? json_string_value(json_object_get(out, "error")) : NULL;
	snprintf(t->db_msg, sizeof t->db_msg, "unreachable");
	tui_error(t, "state database: %s; trying again in 5s", e && *e ? e : "the start-up process died");
	header_dirty(t);
	t->reconnect_timer = loop_timer_add(t->loop, 5000, prepare_fire, t);
}

static void start_prepare(struct tui *t)
{
	snprintf(t->db_msg, sizeof t->db_msg, "waiting");
	header_dirty(t);
	if (job_spawn(t, false, prepare_body, prepare_status, prepare_done, xcalloc(1, 1)) < 0)
		t->reconnect_timer = loop_timer_add(t->loop, 5000, prepare_fire, t);
}

/* ---- the clock ------------------------------------------------------------------------------- */

static void clock_fire(struct loop *l, long id, void *data)
{
	struct tui *t = data;
	int64_t ms = (int64_t)(now_wall() * 1000);
	t->clock_timer = loop_timer_add(l, 60000 - ms % 60000 + 50, clock_fire, t);
	if (id == 0)
		return;
	header_refresh(t);
	struct view *v = tui_top(t);
	if (v && v->ops->on_event)
		v->ops->on_event(v, EV_TICK, 0);
}

/* ---- keys -------------------------------------------------------------------------------------- */

static void do_resize(struct tui *t)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	for (int i = 0; i < t->depth; i++)
		if (t->stack[i]->ops->resize)
			t->stack[i]->ops->resize(t->stack[i]);
	t->dirty_all = true;
}

static void open_for_selection(struct tui *t, enum action a, const char *arg)
{
	struct view *v = tui_top(t);
	struct tui_sel sel = {0};
	if (v && v->ops->selected)
		v->ops->selected(v, &sel);
	char buf[512];
	/* already there: a second copy of the same view would only deepen the stack */
	if ((!arg || !*arg) && ((a == ACT_RUNS && v->ops == &grid_ops) || (a == ACT_DAG && v->ops == &dag_ops)))
		return;
	switch (a) {
	case ACT_RUNS:
		if (arg && *arg) {
			tui_push(t, &grid_ops, arg);
		} else if (sel.pipeline) {
			tui_push(t, &grid_ops, sel.pipeline);
		} else {
			tui_error(t, "runs: select a pipeline (or :runs NAME)");
		}
		return;
	case ACT_DAG:
		if (arg && *arg) {
			tui_push(t, &dag_ops, arg);
		} else if (sel.pipeline) {
			if (sel.run_id)
				snprintf(buf, sizeof buf, "%s %ld", sel.pipeline, sel.run_id);
			else
				snprintf(buf, sizeof buf, "%s", sel.pipeline);
			tui_push(t, &dag_ops, buf);
		} else {
			tui_error(t, "dag: select a pipeline (or :dag NAME [RUN])");
		}
		return;
	case ACT_LOG:
		if (arg && *arg) {
			tui_push(t, &task_ops, arg);
		} else if (sel.run_id && sel.task) {
			if (v->ops == &task_ops)
				return;
			snprintf(buf, sizeof buf, "%ld %s", sel.run_id, sel.task);
			tui_push(t, &task_ops, buf);
		} else {
			tui_error(t, "log: select a task instance (or :log RUN TASK)");
		}
		return;
	default:
		return;
	}
}

/* What an action does when the view left it to the frame. */
static void global_action(struct tui *t, enum action a, const char *arg)
{
	switch (a) {
	case ACT_HELP:
		if (tui_top(t)->ops == &help_ops)
			tui_pop(t);
		else
			tui_push(t, &help_ops, NULL);
		return;
	case ACT_QUIT:
		if (t->depth > 1 && !arg)
			tui_pop(t);
		else
			t->quit = true;
		return;
	case ACT_QUIT_ALL:
		t->quit = true;
		return;
	case ACT_BACK:
		if (t->depth > 1)
			tui_pop(t);
		else
			tui_status(t, "this is the first view: q quits");
		return;
	case ACT_COMMAND:
		tui_prompt(t, ACT_COMMAND, "");
		return;
	case ACT_FIND:
		tui_prompt(t, ACT_FIND, "");
		return;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		t->dirty_all = true;
		return;
	case ACT_PIPELINES:
		tui_goto(t, &pipelines_ops, NULL);
		return;
	case ACT_RUNS:
	case ACT_DAG:
	case ACT_LOG:
		open_for_selection(t, a, arg);
		return;
	case ACT_HISTORY:
		if (tui_top(t)->ops != &history_ops)
			tui_push(t, &history_ops, NULL);
		return;
	case ACT_TRIGGER:
	case ACT_RETRY:
	case ACT_CLEAR:
	case ACT_MARK_SUCCESS:
	case ACT_MARK_FAILED:
		act_run(t, a, arg);
		return;
	default:
		return;
	}
}

static void apply_result(struct tui *t, struct view *v, int r)
{
	if (r & H_REDRAW)
		v->dirty = true;
	if (r & H_CLOSE)
		tui_pop(t);
	if (r & H_QUIT)
		t->quit = true;
}

/* Runs action a (from a key or a `:` command) on the top view, then the frame. */
static void dispatch(struct tui *t, int key, int a, const char *arg)
{
	struct view *v = tui_top(t);
	if (a >= 0) {
		const struct action_info *ai = action_info((enum action)a);
		if (t->readonly && (ai->flags & AF_WRITE)) {
			tui_error(t, "read-only console (--readonly): %s is disabled", ai->command);
			return;
		}
		if (!(ai->views & v->ops->kind)) {
			tui_error(t, "%s does not apply to the %s view", ai->command ? ai->command : "that", v->ops->name);
			return;
		}
	}
	if (v->ops->handle_key && (!arg || !*arg)) {
		int r = v->ops->handle_key(v, key, a);
		if (r & H_HANDLED) {
			apply_result(t, v, r);
			return;
		}
	}
	if (a >= 0)
		global_action(t, (enum action)a, arg);
}

/* ---- the `:` command line ---------------------------------------------------------------------- */

static void complete_add(const char **cands, size_t *n, size_t max, const char *s, const char *prefix)
{
	if (*n < max && !strncmp(s, prefix, strlen(prefix))) {
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(cands[i], s))
				return;
		cands[(*n)++] = s;
	}
}

static void complete(struct tui *t)
{
	char *sp = strchr(t->input, ' ');
	const char *cands[256];
	size_t n = 0;
	const char *word;
	if (!sp) {
		word = t->input;
		for (int i = 0; i < ACT_COUNT; i++) {
			const struct action_info *ai = action_info((enum action)i);
			if (ai->command && !(t->readonly && (ai->flags & AF_WRITE)))
				complete_add(cands, &n, 256, ai->command, word);
		}
		if (!t->readonly)
			complete_add(cands, &n, 256, "mark", word);
	} else {
		word = strrchr(t->input, ' ') + 1;
		size_t cmdlen = (size_t)(sp - t->input);
		char cmd[64];
		snprintf(cmd, sizeof cmd, "%.*s", (int)cmdlen, t->input);
		if (!strcmp(cmd, "runs") || !strcmp(cmd, "dag") || !strcmp(cmd, "trigger")) {
			for (size_t i = 0; i < t->ctx.proj->n_pipelines; i++)
				complete_add(cands, &n, 256, t->ctx.proj->pipelines[i].name, word);
		} else if (!strcmp(cmd, "mark")) {
			complete_add(cands, &n, 256, "success", word);
			complete_add(cands, &n, 256, "failed", word);
		} else if (!strcmp(cmd, "clear")) {
			complete_add(cands, &n, 256, "--downstream", word);
			complete_add(cands, &n, 256, "--only-failed", word);
		}
	}
	if (n == 0) {
		snprintf(t->completions, sizeof t->completions, "(no completion)");
		return;
	}
	/* the longest common prefix */
	size_t common = strlen(cands[0]);
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;
		while (k < common && cands[i][k] == cands[0][k])
			k++;
		common = k;
	}
	size_t have = strlen(word), off = (size_t)(word - t->input);
	if (common > have && off + common + 2 < sizeof t->input) {
		memcpy(t->input + off, cands[0], common);
		t->input[off + common] = '\0';
	}
	if (n == 1 && strlen(t->input) + 2 < sizeof t->input)
		strcat(t->input, " ");
	t->cur = strlen(t->input);
	t->completions[0] = '\0';
	if (n > 1) {
		struct strbuf b = {0};
		for (size_t i = 0; i < n; i++)
			sb_addf(&b, "%s%s", i ? " " : "", cands[i]);
		snprintf(t->completions, sizeof t->completions, "%s", b.s);
		sb_free(&b);
	}
}

static void run_command(struct tui *t, const char *line)
{
	while (*line == ' ')
		line++;
	if (!*line)
		return;
	char name[64];
	size_t n = strcspn(line, " ");
	snprintf(name, sizeof name, "%.*s", (int)n, line);
	const char *arg = line + n;
	while (*arg == ' ')
		arg++;
	char argbuf[256];
	snprintf(argbuf, sizeof argbuf, "%s", arg);
	for (size_t k = strlen(argbuf); k > 0 && argbuf[k - 1] == ' '; k--)
		argbuf[k - 1] = '\0';
	int a;
	if (!strcmp(name, "mark")) {
		if (!strcmp(argbuf, "success"))
			a = ACT_MARK_SUCCESS;
		else if (!strcmp(argbuf, "failed"))
			a = ACT_MARK_FAILED;
		else {
			tui_error(t, ":mark success|failed");
			return;
		}
		argbuf[0] = '\0';
	} else {
		bool amb;
		a = action_by_command(name, &amb);
		if (a < 0) {
			const char *names[ACT_COUNT];
			size_t nn = 0;
			for (int i = 0; i < ACT_COUNT; i++)
				if (action_info((enum action)i)->command)
					names[nn++] = action_info((enum action)i)->command;
			const char *near = amb ? NULL : nearest_word(name, names, nn);
			tui_error(t, "%s command '%s'%s%s%s", amb ? "ambiguous" : "unknown", name, near ? "; did you mean " : "",
				  near ? near : "", amb ? " (Tab lists them)" : "");
			return;
		}
	}
	if (a == ACT_QUIT) {
		t->quit = true;
		return;
	}
	struct view *v = tui_top(t);
	if ((a == ACT_FIND || a == ACT_NEXT_TRY) && argbuf[0]) {
		if (!(action_info((enum action)a)->views & v->ops->kind) || !v->ops->on_input) {
			tui_error(t, ":%s does not apply to the %s view", name, v->ops->name);
			return;
		}
		int r = v->ops->on_input(v, a, argbuf);
		apply_result(t, v, r);
		return;
	}
	dispatch(t, 0, a, argbuf);
}

static void prompt_key(struct tui *t, int key)
{
	size_t len = strlen(t->input);
	t->dirty_status = true;
	switch (key) {
	case TK_ESC:
		t->prompt = -1;
		t->dirty_hints = true;
		return;
	case TK_ENTER: {
		int which = t->prompt;
		char line[sizeof t->input];
		snprintf(line, sizeof line, "%s", t->input);
		t->prompt = -1;
		t->dirty_hints = true;
		t->status[0] = '\0';
		t->status_err = false;
		if (which == ACT_COMMAND) {
			run_command(t, line);
		} else {
			struct view *v = tui_top(t);
			if (v->ops->on_input)
				apply_result(t, v, v->ops->on_input(v, which, line));
		}
		return;
	}
	case '\t':
		if (t->prompt == ACT_COMMAND)
			complete(t);
		return;
	case TK_BACKSPACE:
		if (t->cur == 0) {
			if (len == 0) {
				t->prompt = -1;
				t->dirty_hints = true;
			}
			return;
		}
		{
			size_t start = t->cur - 1;
			while (start > 0 && ((unsigned char)t->input[start] & 0xc0) == 0x80)
				start--;
			memmove(t->input + start, t->input + t->cur, len - t->cur + 1);
			t->cur = start;
		}
		return;
	case TK_LEFT:
		while (t->cur > 0 && ((unsigned char)t->input[--t->cur] & 0xc0) == 0x80)
			;
		return;
	case TK_RIGHT:
		while (t->cur < len && ((unsigned char)t->input[++t->cur] & 0xc0) == 0x80)
			;
		return;
	case TK_HOME:
	case TK_CTRL('A'):
		t->cur = 0;
		return;
	case TK_END:
	case TK_CTRL('E'):
		t->cur = len;
		return;
	case TK_CTRL('U'):
		t->input[0] = '\0';
		t->cur = 0;
		return;
	default:
		if (key >= 32 && key < 256 && key != 127 && len + 1 < sizeof t->input) {
			memmove(t->input + t->cur + 1, t->input + t->cur, len - t->cur + 1);
			t->input[t->cur++] = (char)key;
			t->completions[0] = '\0';
		}
		return;
	}
}

static int normalize_key(int key)
{
	switch (key) {
	case '\r':
	case KEY_ENTER:
		return TK_ENTER;
	case 127:
	case 8:
		return TK_BACKSPACE;
	default:
		return key;
	}
}

static void handle_key(struct tui *t, int key)
{
	key = normalize_key(key);
	if (key == KEY_RESIZE || key == KEY_MOUSE)
		return;
	if (t->modal) {
		modal_key(t, t->modal, key);
		return;
	}
	if (t->prompt >= 0) {
		prompt_key(t, key);
		return;
	}
	/* a key replaces the last message, unless it was an error just shown */
	struct view *v = tui_top(t);
	int a = keymap_lookup(key, v->ops->kind);
	if (a < 0 && key != 0) {
		int r = v->ops->handle_key ? v->ops->handle_key(v, key, -1) : 0;
		apply_result(t, v, r);
		return;
	}
	dispatch(t, key, a, NULL);
}

static void on_stdin(struct loop *l, int fd, int mask, void *data)
{
	struct tui *t = data;
	int key;
	if (trace_file)
		t_key = now_us();
	/* drain everything typed so far before drawing once (pspg) */
	while ((key = getch()) != ERR) {
		handle_key(t, key);
		if (t->quit)
			break;
	}
}

static void on_sigpipe(struct loop *l, int fd, int mask, void *data)
{
	struct tui *t = data;
	unsigned char buf[64];
	ssize_t n;
	bool winch = false, chld = false;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == SIGWINCH)
				winch = true;
			else if (buf[i] == SIGCHLD)
				chld = true;
			else if (buf[i] == SIGINT || buf[i] == SIGTERM || buf[i] == SIGHUP)
				t->quit = true;
		}
	}
	if (winch)
		do_resize(t);
	if (chld)
		jobs_reap(t);
}

/* ---- start and end ----------------------------------------------------------------------------- */

static int load_theme(struct tui *t, const char *name)
{
	const char *no_color = getenv("NO_COLOR");
	bool nc = no_color && *no_color;
	t->color = !nc && has_colors();
	if (t->color) {
		start_color();
		use_default_colors();
	}
	char *home = getenv("HOME") ? xasprintf("%s/.config/sluice/themes", getenv("HOME")) : NULL;
	char *proj = path_join(t->ctx.proj->root, "themes");
	const char *dirs[] = {proj, home ? home : proj, SLUICE_DATADIR "/themes", NULL};
	struct err e = {0};
	int rc = theme_load(name, t->color ? COLORS : 0, !t->color, dirs, &t->theme, &e);
	if (rc < 0 && strcmp(name, "default")) {
		char msg[1100];
		snprintf(msg, sizeof msg, "theme: %s; using the default", e.msg);
		rc = theme_load("default", t->color ? COLORS : 0, !t->color, dirs, &t->theme, &e);
		if (rc == 0)
			tui_error(t, "%s", msg);
	}
	free(home);
	free(proj);
	if (rc < 0)
		return -1;
	if (t->theme.colors == 0)
		t->color = false;
	draw_setup_colors(t);
	return 0;
}

int tui_main(const struct tui_opts *o)
{
	t_start = t_boot = now_ms();
	const char *tr = getenv("SLUICE_CONSOLE_TRACE");
	if (tr && *tr)
		trace_file = fopen(tr, "ae");
	setlocale(LC_ALL, "");
	struct tui tt, *t = &tt;
	memset(t, 0, sizeof *t);
	t->prompt = -1;
	t->workers = -1;
	t->cur_y = t->cur_x = -1;
	t->readonly = o->readonly;
	t->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");

	struct diags d = {0};
	struct err e = {0};
	if (ctx_open(&t->ctx, o->project_dir ? o->project_dir : ".", 0, &d, &e) < 0) {
		if (d.n) {
			diags_sort(&d);
			diags_print(&d, stderr);
		}
		fprintf(stderr, "sluice: %s\n", e.msg);
		diags_free(&d);
		ctx_close(&t->ctx);
		return e.code == ERR_PROJECT ? 3 : 1;
	}
	diags_free(&d);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "sluice: the console needs a terminal; give a command for the batch face (sluice --help)\n");
		ctx_close(&t->ctx);
		return 2;
	}

	if (pipe2(t->sigpipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "sluice: pipe: %s\n", strerror(errno));
		ctx_close(&t->ctx);
		return 1;
	}
	sig_wfd = t->sigpipe[1];
	install_signals(t);

	/* ESC alone should be quick: 25 ms is plenty for a key's sequence */
	if (!getenv("ESCDELAY"))
		set_escdelay(25);
	if (!initscr()) {
		fprintf(stderr, "sluice: cannot initialize the terminal\n");
		return 1;
	}
	curses_on = 1;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	mousemask(0, NULL);
	curs_set(0);
	/* --theme, else sluice.yml's theme: (a file path there is relative to
	 * the project), else the default */
	char *theme = NULL;
	if (o->theme)
		theme = xstrdup(o->theme);
	else if (t->ctx.proj->theme && strchr(t->ctx.proj->theme, '/') && t->ctx.proj->theme[0] != '/')
		theme = path_join(t->ctx.proj->root, t->ctx.proj->theme);
	else
		theme = xstrdup(t->ctx.proj->theme ? t->ctx.proj->theme : "default");
	int trc = load_theme(t, theme);
	free(theme);
	if (trc < 0) {
		endwin();
		curses_on = 0;
		fprintf(stderr, "sluice: no usable theme\n");
		ctx_close(&t->ctx);
		return 1;
	}

	t->loop = loop_new();
	struct db_hooks hooks = {on_db_state, on_notify, t};
	t->db = db_new(t->loop, &hooks);
	loop_watch(t->loop, STDIN_FILENO, LOOP_READ, on_stdin, t);
	loop_watch(t->loop, t->sigpipe[0], LOOP_READ, on_sigpipe, t);
	loop_set_before_sleep(t->loop, before_sleep, t);

	tui_push(t, &pipelines_ops, NULL);
	if (t->readonly)
		tui_status(t, "read-only: actions that change state are disabled");
	/* the first frame goes out before anything that may wait */
	t->dirty_all = true;
	render(t);
	clock_fire(t->loop, 0, t);
	start_prepare(t);

	loop_run(t->loop);

	while (t->depth > 0)
		view_free(t->stack[--t->depth]);
	modal_close(t);
	endwin();
	curses_on = 0;
	jobs_free(t);
	db_free(t->db);
	loop_free(t->loop);
	for (size_t i = 0; i < t->n_hist; i++) {
		free(t->hist[i].what);
		free(t->hist[i].cmd);
	}
	free(t->hist);
	free(t->changed_runs);
	free(t->changed_logs);
	free(t->state_addr);
	sig_wfd = -1;
	if (trace_file)
		fclose(trace_file);
	trace_file = NULL;
	close(t->sigpipe[0]);
	close(t->sigpipe[1]);
	ctx_close(&t->ctx);
	return 0;
}
