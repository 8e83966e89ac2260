/* The console's start-up and shutdown, and the loop that wires it
 * together: signals through a self-pipe, the terminal and its keys, the
 * clock, and drawing once per wake-up in the loop's before-sleep hook (the
 * only place that calls doupdate()). */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) && defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER_DEATH_CALLBACK 1
#endif
#endif

#include "base/err.h"
#include "base/loop.h"
#include "base/util.h"
#include "core/ctx.h"
#include "core/project.h"
#include "tui/act.h"
#include "tui/app.h"
#include "tui/conn.h"
#include "tui/dispatch.h"
#include "tui/draw.h"
#include "tui/form.h"
#include "tui/header.h"
#include "tui/jobs.h"
#include "tui/status.h"
#include "tui/theme.h"
#include "tui/trace.h"
#include "tui/tui.h"
#include "tui/view.h"

/* ---- signals ------------------------------------------------------------------ */

/* The terminal is restored from a signal handler when things go wrong. */
static volatile sig_atomic_t curses_on;
static int sig_wfd = -1;

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
		header_draw(t);
	if (body && v) {
		struct rect r = tui_body(t);
		attr_t n = style_attr(t, S_NORMAL);
		for (int i = 0; i < r.h; i++)
			draw_fill(r.y + i, 0, COLS, n);
		v->ops->draw(v, r);
		v->dirty = false;
		trace_body_drawn();
		if (t->modal)
			modal_draw(t, t->modal);
	}
	if (t->dirty_status || t->prompt >= 0)
		status_draw(t);
	if (t->dirty_hints)
		hints_draw(t);
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
	trace_frame();
}

static void before_sleep(struct loop *l, void *data)
{
	struct tui *t = data;
	conn_deliver(t);
	if (t->quit) {
		loop_stop(l);
		return;
	}
	header_stall_watch(t);
	render(t);
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

/* ---- the terminal ------------------------------------------------------------------------------ */

static void do_resize(struct tui *t)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	tui_resize_views(t);
	t->dirty_all = true;
}

static void on_stdin(struct loop *l, int fd, int mask, void *data)
{
	struct tui *t = data;
	int key;
	trace_key();
	/* drain everything typed so far before drawing once (pspg) */
	while ((key = getch()) != ERR) {
		dispatch_key(t, key);
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
	trace_open();
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
	conn_init(t);
	loop_watch(t->loop, STDIN_FILENO, LOOP_READ, on_stdin, t);
	loop_watch(t->loop, t->sigpipe[0], LOOP_READ, on_sigpipe, t);
	loop_set_before_sleep(t->loop, before_sleep, t);

	tui_push(t, tui_views[TUI_FIRST_VIEW], NULL);
	if (t->readonly)
		tui_status(t, "read-only: actions that change state are disabled");
	/* the first frame goes out before anything that may wait */
	t->dirty_all = true;
	render(t);
	clock_fire(t->loop, 0, t);
	conn_start(t);

	loop_run(t->loop);

	tui_close_views(t);
	modal_close(t);
	endwin();
	curses_on = 0;
	jobs_free(t);
	header_free(t);
	conn_close(t);
	loop_free(t->loop);
	for (size_t i = 0; i < t->n_hist; i++) {
		free(t->hist[i].what);
		free(t->hist[i].cmd);
	}
	free(t->hist);
	free(t->state_addr);
	sig_wfd = -1;
	trace_close();
	close(t->sigpipe[0]);
	close(t->sigpipe[1]);
	ctx_close(&t->ctx);
	return 0;
}
